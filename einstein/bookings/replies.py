"""Texts people send back: STOP and START for texts at all, and a yes to a place held for them."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from einstein.auth import services as accounts
from einstein.auth.models import User
from einstein.auth.phones import normalise_phone
from einstein.bookings import services as places
from einstein.bookings.errors import BookingError
from einstein.bookings.messages import YES_WORDS
from einstein.bookings.models import Booking, BookingStatus
from einstein.db import db, utcnow

#: Words that end texts to the number, and that bring them back (the operators' usual words).
STOP_WORDS = frozenset({"STOP", "STOPP", "STOPPEN", "STOPALL", "UNSUBSCRIBE"})
START_WORDS = frozenset({"START", "UNSTOP"})
#: A yes in any of einstein's languages keeps a place held for the person.
YES = frozenset({"JA", "YES", "Y", "J", *(word.upper() for word in YES_WORDS.values())})


def first_word(text: str) -> str:
    """The reply's first word, capitals, without punctuation or a phone's odd spaces."""
    normal = unicodedata.normalize("NFKC", text).strip()
    word = normal.split()[0] if normal.split() else ""
    return "".join(ch for ch in word if unicodedata.category(ch)[0] in "LN").upper()


def handle(sender: str, text: str) -> str | None:
    """Do what a text from ``sender`` asks; return what was done, or None."""
    phone = normalise_phone(sender)
    if phone is None:
        return None
    word = first_word(text)
    if word in STOP_WORDS:
        return "stop" if accounts.stop_sms(phone) else None
    if word in START_WORDS:
        return "start" if accounts.start_sms(phone) else None
    if word in YES:
        return "kept" if keep_held_places(phone) else None
    return None


def keep_held_places(phone: str) -> int:
    """Keep every place held for the person with this verified number; return how many."""
    user = db.session.scalar(sa.select(User).where(User.phone == phone, User.phone_verified_at.is_not(None)))
    if user is None:
        return 0
    held = list(
        db.session.scalars(
            sa.select(Booking).where(
                Booking.user_id == user.id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.hold_until > utcnow(),
            )
        )
    )
    kept = 0
    for booking in held:
        try:
            places.accept_hold(booking)
        except BookingError:
            continue  # given away a moment ago
        kept += 1
    return kept
