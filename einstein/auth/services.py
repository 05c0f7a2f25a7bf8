"""The rules of accounts: passwords, sign-in sessions and who may do what."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from einstein.audit import services as audit
from einstein.auth import phone_codes, reach, sessions
from einstein.auth.messages import AccountMessage
from einstein.auth.models import Audience, Role, User
from einstein.auth.phones import normalise_phone
from einstein.auth.tokens import address_to_confirm
from einstein.db import db, utcnow
from einstein.notifications import outbox


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Check a password, upgrading the stored hash when the parameters have been raised."""
    if user.password_hash is None:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def normalise_email(email: str | None) -> str | None:
    """Lower-case and trim an e-mail address; empty means none."""
    email = (email or "").strip().lower()
    return email or None


def normalise_identifier(identifier: str | None) -> str | None:
    """An e-mail address or phone number the one way it is stored, or None if it is neither.

    ``06-11111111``, ``+31 6 1111 1111`` and ``0031611111111`` are all ``+31611111111``.
    """
    identifier = (identifier or "").strip()[:254]
    if "@" in identifier:
        return normalise_email(identifier)
    return normalise_phone(identifier)


def find_by_identifier(identifier: str) -> User | None:
    """Find an account by e-mail address or phone number."""
    normal = normalise_identifier(identifier)
    if normal is None:
        return None
    column = User.email if "@" in normal else User.phone
    return db.session.scalar(sa.select(User).where(column == normal))


def create_user(
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    role: Role = Role.PARTICIPANT,
    locale: str = "nl",
    audience: Audience = Audience.UNSAID,
) -> User:
    """Add an account (the caller commits)."""
    user = User(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        password_hash=hash_password(password) if password else None,
        role=role,
        locale=locale,
        audience=audience,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.flush()
    return user


# --- signing up and in -------------------------------------------------------------------------

#: Verified against when no account matches, so "unknown account" takes as long as "wrong password".
_DUMMY_HASH: list[str] = []


def _dummy_check(password: str) -> None:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("an account that does not exist"))
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher().verify(_DUMMY_HASH[0], password)


class AccountExistsError(Exception):
    """The e-mail address or phone number belongs to another account."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def contact_taken(email: str | None, phone: str | None, exclude: User | None = None) -> str | None:
    """Return "email" or "phone" if another account uses it, else None."""
    for field, value in (("email", email), ("phone", phone)):
        if not value:
            continue
        query = sa.select(User.id).where(getattr(User, field) == value)
        if exclude is not None:
            query = query.where(User.id != exclude.id)
        if db.session.scalar(query) is not None:
            return field
    return None


def _owner_of(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _holder_of(phone: str | None) -> User | None:
    if not phone:
        return None
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def _tell_owner(owner: User, reason: str, channel: str = "email") -> None:
    """Tell the owner of an address or number that someone tried to use it (the person who tried
    is told nothing they could not know already: the answer looks as for a new one)."""
    address = owner.phone if channel == "sms" else None
    outbox.queue(AccountMessage.ACCOUNT_EXISTS, owner.id, channel=channel, address=address, payload={"reason": reason})


def register(
    name: str,
    *,
    email: str | None,
    phone: str | None,
    password: str | None,
    locale: str,
    audience: Audience,
    at_desk: bool = False,
) -> User:
    """Make a participant account (at the desk, or for a new address) and ask to confirm the address.

    At the desk the person stands there and consents, so their number counts as theirs; anyone
    else's number waits for its code (``pending_phone``). Raises AccountExistsError when the
    address or number is taken: for staff, who may look people up.
    """
    taken = contact_taken(normalise_email(email), phone)
    if taken:
        raise AccountExistsError(taken)
    user = create_user(
        name, email=email, phone=phone if at_desk else None, password=password, locale=locale, audience=audience
    )
    if at_desk and phone:
        user.phone_verified_at = utcnow()
    elif phone:
        user.pending_phone = phone
    if user.email:
        request_verification(user)
    return user


def sign_up(
    name: str,
    *,
    email: str | None,
    phone: str | None,
    password: str | None,
    locale: str,
    audience: Audience,
) -> User | None:
    """A stranger makes an account; return it, or None when the address or number is someone's.

    The answer looks the same either way ("we sent you an e-mail", "we sent you a code"): the
    owner is told instead, so the form cannot be used to learn who has an account. A number is
    the person's once they type the code texted to it; without an e-mail address the code is
    sent at once.
    """
    owner = _owner_of(email) if email else _holder_of(phone)
    if owner is not None:
        if password:
            hash_password(password)  # as long as making the account would take: time tells nothing either
        _tell_owner(owner, "signup", channel="email" if email else "sms")
        return None
    holder = _holder_of(phone) if email else None
    if holder is not None:  # an e-mail sign-up with someone else's number: that owner hears of it
        _tell_owner(holder, "signup", channel="sms")
        phone = None
    user = register(name, email=email, phone=phone, password=password, locale=locale, audience=audience)
    if not email:
        phone_codes.send_code(user)
    return user


def authenticate(identifier: str, password: str) -> User | None:
    """Return the account if the identifier and password match, else None (same time either way)."""
    user = find_by_identifier(identifier)
    if user is None or user.password_hash is None:
        _dummy_check(password)
        return None
    return user if check_password(user, password) else None


def request_verification(user: User) -> bool:
    """Queue an e-mail with a link that confirms the address being confirmed; False if there is none."""
    email = address_to_confirm(user)
    if email is None:
        return False
    outbox.queue(AccountMessage.VERIFY_EMAIL, user.id, payload={"email": email})
    return True


def confirm_email(user: User, email: str) -> bool:
    """Confirm ``email`` for ``user`` (the link came to it); return False if nothing changed.

    A new address replaces the old one only now, and only if nobody took it meanwhile; the old
    address is told.
    """
    if user.pending_email == email:
        if contact_taken(email, None, exclude=user):
            user.pending_email = None
            return False
        old = user.email if user.email_verified else None
        user.email, user.pending_email = email, None
        user.email_verified_at = utcnow()
        user.security_stamp = secrets.token_hex(16)
        if old and old != email:
            _tell_old_address(user, old, "email")
        follow_reach(user)
        return True
    if user.email == email and user.email_verified_at is None:
        user.email_verified_at = utcnow()
        follow_reach(user)
        return True
    return False


def _tell_old_address(user: User, old_email: str, what: str) -> None:
    outbox.queue(AccountMessage.CONTACT_CHANGED, user.id, payload={"to": old_email, "what": what})


def request_password_reset(email: str) -> None:
    """Queue a reset link if an account has this address confirmed; do nothing (visibly) otherwise.

    A link that sets a password goes only to an address the person has shown is theirs. For an
    address not confirmed yet, the confirmation link goes instead: once it is followed, the
    person can ask again (or, without a password yet, choose one at once).
    """
    user = _owner_of(email)
    if user is None:
        return
    if user.email_verified:
        outbox.queue(AccountMessage.PASSWORD_RESET, user.id)
    else:
        request_verification(user)


def set_password(user: User, password: str, *, keep: str | None = None) -> None:
    """Store a new password and end every other sign-in session."""
    user.password_hash = hash_password(password)
    sessions.end_all_login_sessions(user, keep=keep)


# --- the profile -------------------------------------------------------------------------------


def update_profile(
    user: User, *, name: str, locale: str, email_notifications: bool, notify_by: str | None = None
) -> None:
    """Change what a person can change about themselves without their password.

    (The answer to "about you" is changed through ``privacy.services.save_profile``: bookings
    still to come follow it.)
    """
    user.name = name
    user.locale = locale
    switched = user.email_notifications != email_notifications
    user.email_notifications = email_notifications
    if notify_by is not None:
        choose_channel(user, notify_by)
    if switched:
        follow_reach(user)


@dataclass
class ContactChange:
    """What changing the contact details did."""

    #: A link went to the new address (or seemed to: the answer is the same if it is taken).
    email_sent: bool = False
    email_removed: bool = False
    phone_changed: bool = False
    #: A code went to the new number (or seemed to, likewise).
    code_sent: bool = False


def change_contact(user: User, *, email: str | None, phone: str | None) -> ContactChange:
    """Change the e-mail address and phone number; the caller has checked the password.

    A new address or number is only *asked for*: it replaces the old one when its link is
    followed or its code typed, so a stranger with a minute on an unlocked phone cannot move the
    account to their own mailbox or phone. If another account has it, that owner is told and
    this person sees the usual answer. The old address hears of every change.
    """
    email, change = normalise_email(email), ContactChange()
    if phone != user.phone:
        change.phone_changed = True
        if phone is None:
            user.phone, user.phone_verified_at, user.pending_phone = None, None, None
            _tell_of_new_phone(user)
        elif phone == user.pending_phone and not phone_codes.can_send_again(user):
            pass  # the same new number again, within the minute: the code on its way stands
        else:
            holder = _holder_of(phone)
            if holder is not None and holder.id != user.id:
                _tell_owner(holder, "profile", channel="sms")
                user.pending_phone = None
            else:
                user.pending_phone = phone
                phone_codes.send_code(user)
            change.code_sent = True
    elif user.pending_phone:
        user.pending_phone = None  # back to the number it had: nothing to verify
    if email != user.email:
        if email is None:
            change.email_removed = True
            old = user.email
            user.email, user.email_verified_at, user.pending_email = None, None, None
            if old:
                _tell_old_address(user, old, "email")
        else:
            owner = _owner_of(email)
            if owner is not None:
                _tell_owner(owner, "profile")
                user.pending_email = None
            else:
                user.pending_email = email
                request_verification(user)
            change.email_sent = True
    elif user.pending_email:
        user.pending_email = None  # back to the address it had: nothing to confirm
    return change


def confirm_phone(user: User, code: str) -> bool:
    """The code typed for the number being verified: right, and the number is the person's."""
    if not phone_codes.check_code(user, code):
        return False
    had = user.phone
    phone_codes.confirm_number(user)
    if had != user.phone:
        _tell_of_new_phone(user)
    follow_reach(user)
    return True


def awaiting_code(phone: str) -> User | None:
    """The account waiting for a code texted to ``phone`` at sign-up (its number is not theirs yet)."""
    return db.session.scalar(sa.select(User).where(User.pending_phone == phone).order_by(User.id.desc()).limit(1))


def send_phone_code(user: User) -> bool:
    """Text a new code to the number the person is confirming, at most once a minute."""
    return phone_codes.can_send_again(user) and phone_codes.send_code(user)


def follow_reach(user: User) -> None:
    """Messages still to go take the way the person can be reached now (a number confirmed, STOP,
    another choice): the same messages, by the new way."""
    db.session.flush()
    outbox.reroute(user.id, reach.channel_for(user))


def choose_channel(user: User, channel: str | None) -> None:
    """The person's choice, when both e-mail and SMS reach them."""
    if channel not in (None, reach.EMAIL, reach.SMS) or channel == user.notify_by:
        return
    user.notify_by = channel
    follow_reach(user)


def stop_sms(phone: str) -> User | None:
    """The number answered STOP: no more texts to it (its messages go another way, or to a call)."""
    user = _holder_of(phone)
    if user is None or user.sms_stopped_at is not None:
        return None
    user.sms_stopped_at = utcnow()
    follow_reach(user)
    return user


def start_sms(phone: str) -> User | None:
    """The number answered START after a STOP: texts again."""
    user = _holder_of(phone)
    if user is None or user.sms_stopped_at is None:
        return None
    user.sms_stopped_at = None
    follow_reach(user)
    return user


def _tell_of_new_phone(user: User) -> None:
    """The account's number changed: the confirmed address hears of it, to catch a stranger."""
    if user.email_verified:
        _tell_old_address(user, user.email or "", "phone")


def by_calendar_token(token: str) -> User | None:
    """The person whose calendar feed has this secret address, if any."""
    if not 16 <= len(token) <= 64:
        return None
    return db.session.scalar(sa.select(User).where(User.calendar_token == token))


def reset_calendar_token(user: User) -> None:
    """Give the personal calendar feed a new secret address; the old one stops working."""
    user.calendar_token = secrets.token_urlsafe(24)


# --- roles -------------------------------------------------------------------------------------


def set_trusted(user: User, trusted: bool, *, by: User) -> bool:
    """Let a volunteer's activities skip approval, or not; only volunteers can be trusted."""
    if user.role != Role.VOLUNTEER:
        return False
    user.trusted = trusted
    audit.record("person.trusted", actor_id=by.id, subject_id=user.id, trusted=trusted)
    return True


def set_role(user: User, role: Role, *, by: User) -> None:
    """Give ``user`` a new role; a volunteer who stops being one is no longer trusted."""
    audit.record("person.role_changed", actor_id=by.id, subject_id=user.id, role=role.value, was=user.role.value)
    user.role = role
    if not user.has_role(Role.VOLUNTEER):
        user.trusted = False


def search_people(query: str | None, role: Role | None = None) -> sa.Select[tuple[User]]:
    """Build the query for the people list (and the desk's search), by name."""
    statement = sa.select(User).order_by(User.name, User.id)
    if role is not None:
        statement = statement.where(User.role == role)
    if query:
        needle = query.lower()
        conditions = [
            sa.func.lower(User.name).contains(needle, autoescape=True),
            User.email.contains(needle, autoescape=True),
        ]
        phone = normalise_phone(query)
        if phone:
            conditions.append(User.phone == phone)
        statement = statement.where(sa.or_(*conditions))
    return statement
