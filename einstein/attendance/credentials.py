"""Certificates and volunteer statements anyone can check: issued once, with a short code and a QR
code that open a public page saying whether the document is valid; revocable by a coordinator.

A code is 12 characters of the booking references' alphabet (no 0/O, 1/I/L, 5/S, 2/Z), printed
in three groups (``K7MQ-4X9A-B3CP``): 11 random characters (27**11, about 5.6e15, behind a rate
limit) and a check character. The check weighs the characters 1, 2, 1, 2, ... from the right,
modulo 27: both weights are prime to 27 and so is their difference, so every mistyped character
and every two neighbouring characters swapped give a wrong check, and the page says "check the
code for a typo" instead of "unknown".
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
import sqlalchemy as sa
from flask_babel import format_decimal
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from einstein.attendance.models import Credential, CredentialKind
from einstein.attendance.services import Completion, held_sessions
from einstein.audit import services as audit
from einstein.auth.models import User
from einstein.bookings.models import REFERENCE_ALPHABET, Booking
from einstein.courses.models import Offer
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE, format_day_year
from einstein.urls import external_url

#: Random characters in a code, and the check after them.
RANDOM_LENGTH = 11
CODE_LENGTH = RANDOM_LENGTH + 1
#: Anything longer than this typed in the form is not a code (spaces and dashes included).
MAX_TYPED = 64
#: A revocation's reason, as long as the form takes.
MAX_REASON = 500

_BASE = len(REFERENCE_ALPHABET)
_VALUE = {ch: index for index, ch in enumerate(REFERENCE_ALPHABET)}


def check_character(body: str) -> str:
    """The check character of a code's random part."""
    total = sum(_VALUE[ch] * (2 if position % 2 == 0 else 1) for position, ch in enumerate(reversed(body)))
    return REFERENCE_ALPHABET[-total % _BASE]


def new_code() -> str:
    """A fresh code: random characters and their check."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def format_code(code: str) -> str:
    """A code as printed and shown: three groups of four (as ``Credential.shown_code``)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Typed:
    """What someone typed, read as a code."""

    #: the code without dashes, when it is one (right length, right characters, right check)
    code: str | None
    #: it has the length and characters of a code but the check is wrong: a typo
    typo: bool = False


def read_code(text: str) -> Typed:
    """Read a typed or scanned code: any case, spaces, dashes and full-width letters forgiven."""
    if not text or len(text) > MAX_TYPED:
        return Typed(None)
    cleaned = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch not in " -\u00a0\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in _VALUE for ch in cleaned):
        return Typed(None, typo=len(cleaned) == CODE_LENGTH)
    if check_character(cleaned[:-1]) != cleaned[-1]:
        return Typed(None, typo=True)
    return Typed(cleaned)


def by_code(code: str) -> Credential | None:
    """The credential with this (well-formed) code."""
    return db.session.scalar(sa.select(Credential).where(Credential.code == code))


def check_url(credential: Credential) -> str:
    """The public page that says whether the document is valid (the QR code's content)."""
    return external_url("attendance.check", code=format_code(credential.code))


def check_form_url() -> str:
    """The page where a code is typed, as printed under the QR code."""
    return external_url("attendance.check_form")


def qr_svg(credential: Credential) -> Markup:
    """The QR code of the check page, as inline SVG (no request to anyone, prints sharp)."""
    link = check_url(credential)
    return Markup(segno.make(link, error="m").svg_inline(omitsize=True, border=2, title=link))  # noqa: S704 (segno's SVG, the link escaped)


def printed_with(credential: Credential | None) -> dict[str, Any]:
    """What a printed certificate or statement shows of its credential: the code, its QR code
    (none once revoked) and where a code is checked."""
    qr = qr_svg(credential) if credential is not None and not credential.revoked else None
    return {"credential": credential, "qr": qr, "form_url": check_form_url()}


def hours(credential: Credential) -> str:
    """The hours a statement states, as the reader's language writes them (12,5)."""
    return str(format_decimal((credential.minutes or 0) / 60, format="#,##0.#"))


def days(credential: Credential) -> str:
    """The first and last day of what a document covers."""
    first, last = format_day_year(credential.first_day), format_day_year(credential.last_day)
    return first if first == last else f"{first} – {last}"


def _local_day(moment: object) -> date:
    return moment.astimezone(TIMEZONE).date()  # type: ignore[attr-defined, no-any-return]


def _issue(
    holder: User,
    kind: CredentialKind,
    subject: str,
    *,
    offer: Offer | None,
    title: str,
    title_lang: str,
    first_day: date,
    last_day: date,
    minutes: int | None = None,
) -> Credential:
    """The holder's credential for ``subject``, issued now if there is none yet (also when two
    pages ask at once: the unique constraint keeps one, the other reads it)."""
    query = sa.select(Credential).where(
        Credential.holder_id == holder.id, Credential.kind == kind, Credential.subject == subject
    )
    existing = db.session.scalar(query)
    if existing is not None:
        return existing
    for _attempt in range(5):
        credential = Credential(
            code=new_code(),
            kind=kind,
            holder_id=holder.id,
            offer_id=offer.id if offer is not None else None,
            subject=subject,
            holder_name=holder.name,
            title=title[:200],
            title_lang=title_lang,
            first_day=first_day,
            last_day=last_day,
            minutes=minutes,
        )
        try:
            with db.session.begin_nested():
                db.session.add(credential)
        except IntegrityError:
            existing = db.session.scalar(query)
            if existing is not None:
                return existing
            continue  # the code was taken: draw another
        return credential
    raise RuntimeError("no free credential code after five draws")  # pragma: no cover (27**11 codes)


def certificate_for(booking: Booking, result: Completion) -> Credential | None:
    """The credential of an earned certificate, issued the first time it is shown; None if the
    certificate is not earned or the booking has no person."""
    if not result.earned or booking.user is None:
        return None
    held = held_sessions(booking.offer)
    offer = booking.offer
    return _issue(
        booking.user,
        CredentialKind.CERTIFICATE,
        f"offer:{offer.id}",
        offer=offer,
        title=offer.title,
        title_lang=offer.language,
        first_day=_local_day(held[0].starts_at),
        last_day=_local_day(held[-1].starts_at),
    )


def statement_for(holder: User, *, organisation: str, first_day: date, last_day: date, minutes: int) -> Credential:
    """The credential of a volunteer statement as shown now: the same hours over the same days
    are one statement; more hours later are a new one (the earlier stays true and valid)."""
    return _issue(
        holder,
        CredentialKind.VOLUNTEER_STATEMENT,
        f"hours:{minutes}:{first_day.isoformat()}:{last_day.isoformat()}",
        offer=None,
        title=organisation,
        title_lang="",
        first_day=first_day,
        last_day=last_day,
        minutes=minutes,
    )


def revoke(credential: Credential, by: User, reason: str) -> None:
    """Revoke a credential: its page says "not valid" from now on. Recorded in the audit trail."""
    if credential.revoked_at is not None:
        return
    credential.revoked_at, credential.revoked_by_id, credential.revoke_reason = utcnow(), by.id, reason
    audit.record(
        "credential.revoked",
        actor_id=by.id,
        subject_id=credential.holder_id,
        offer_id=credential.offer_id,
        code=credential.code,
        kind=credential.kind.value,
        reason=reason,
    )
    db.session.flush()


def issued_for(offer: Offer) -> list[Credential]:
    """The certificates issued for a course, by name."""
    return list(
        db.session.scalars(
            sa.select(Credential)
            .where(Credential.offer_id == offer.id, Credential.kind == CredentialKind.CERTIFICATE)
            .order_by(sa.func.lower(Credential.holder_name), Credential.id)
        )
    )


def held_by(user: User) -> list[Credential]:
    """Every credential issued to a person, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Credential)
            .where(Credential.holder_id == user.id)
            .order_by(Credential.first_day, Credential.issued_at, Credential.id)
        )
    )


def forget(user: User) -> None:
    """Delete a person's credentials when they delete their account: the check of a code would
    otherwise go on showing their name to anyone."""
    db.session.execute(
        sa.delete(Credential).where(Credential.holder_id == user.id).execution_options(synchronize_session=False)
    )
