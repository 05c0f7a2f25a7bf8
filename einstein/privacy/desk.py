"""Correcting the record of someone registered at the desk, who cannot sign in to do it.

A coordinator corrects the name, adds or changes a phone number (given in person, so it counts
as proven, as at registration), adds an e-mail address (which must be confirmed by its link,
like any other), and changes the language and the answer to "about you". Every correction
goes into the audit trail by the names of the fields changed, never their values.
"""

from __future__ import annotations

import secrets

from einstein.audit import services as audit
from einstein.auth import services as accounts
from einstein.auth.models import Audience, User
from einstein.db import utcnow
from einstein.privacy import services


def shown_email(person: User) -> str | None:
    """The address the edit form starts with: the one waiting for its link, else the one there is."""
    return person.pending_email or person.email


def edit_desk_person(
    person: User,
    *,
    by: User,
    name: str,
    phone: str | None,
    email: str | None,
    locale: str,
    audience: Audience,
) -> list[str]:
    """Save the corrections and return the names of the fields that changed.

    Raises ``AccountExistsError`` when the new number or address is someone else's: the desk may
    look people up, so it is told (and can merge the two if they are one person).
    """
    email = accounts.normalise_email(email)
    new_phone = phone != person.phone
    new_email = email != shown_email(person)
    taken = accounts.contact_taken(email if new_email else None, phone if new_phone else None, exclude=person)
    if taken:
        raise accounts.AccountExistsError(taken)
    changed = [
        field
        for field, differs in (
            ("name", name != person.name),
            ("phone", new_phone),
            ("email", new_email),
            ("language", locale != person.locale),
            ("about_you", audience != person.audience),
        )
        if differs
    ]
    if not changed:
        return []
    if new_phone:
        _set_phone(person, phone)
    if new_email:
        _set_email(person, email)
    if new_phone or new_email:
        person.security_stamp = secrets.token_hex(16)  # links made for the old contact details die
    services.save_profile(
        person, name=name, locale=locale, audience=audience, email_notifications=person.email_notifications
    )
    if new_phone or new_email:
        accounts.follow_reach(person)  # messages still to go take the new way to reach them
    audit.record("person.edited", actor_id=by.id, subject_id=person.id, fields=changed)
    return changed


def _set_phone(person: User, phone: str | None) -> None:
    """A number given at the desk, in person, is theirs at once; no number means no texts."""
    person.phone, person.pending_phone = phone, None
    person.phone_verified_at = utcnow() if phone else None
    person.sms_stopped_at = None
    person.phone_code_hash, person.phone_code_sent_at, person.phone_code_attempts = None, None, 0


def _set_email(person: User, email: str | None) -> None:
    """A new address is confirmed by its link before anything goes to it; a confirmed address
    keeps working until then."""
    if email is None:
        person.email, person.email_verified_at, person.pending_email = None, None, None
    elif email == person.email:
        person.pending_email = None  # back to the address they have: nothing to confirm
    elif person.email_verified:
        person.pending_email = email
        accounts.request_verification(person)
    else:
        person.email, person.email_verified_at, person.pending_email = email, None, None
        accounts.request_verification(person)
