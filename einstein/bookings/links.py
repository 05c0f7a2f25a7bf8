"""Signed links in messages that let a person act on their booking without signing in."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from einstein.bookings.models import REFERENCE_ALPHABET, Booking
from einstein.db import db

CANCEL_SALT = "einstein.cancel-booking"


def _state(booking: Booking) -> str:
    """A short digest that changes whenever the booking does (confirmed, promoted, cancelled,
    booked again): a link made for one state of the booking dies with it."""
    moments = (booking.created_at, booking.confirmed_at, booking.cancelled_at)
    text = booking.status.value + "|" + "|".join(m.isoformat() if m else "" for m in moments)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cancel_token(booking: Booking) -> str:
    """A signed token that lets the person cancel this booking from an e-mail without signing in."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CANCEL_SALT).dumps(
        [booking.id, booking.user_id, _state(booking)]
    )


def read_cancel_token(token: str) -> Booking | None:
    """Return the booking a cancel link is for, if the link is genuine and the booking is as it
    was when the link was made (same person, same state)."""
    if not token or len(token) > 256:
        return None
    try:
        booking_id, user_id, state = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CANCEL_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    booking = db.session.get(Booking, booking_id) if isinstance(booking_id, int) and 0 < booking_id < 2**31 else None
    if booking is None or booking.user_id is None or booking.user_id != user_id or state != _state(booking):
        return None
    return booking


#: How many characters of the short link's check: 27**6, about 390 million, behind a rate limit.
_CHECK_LENGTH = 6


def _check(booking: Booking) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"short:{booking.id}:{booking.reference}:{booking.user_id}".encode(), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big")
    letters = []
    for _ in range(_CHECK_LENGTH):
        number, index = divmod(number, len(REFERENCE_ALPHABET))
        letters.append(REFERENCE_ALPHABET[index])
    return "".join(letters)


def short_code(booking: Booking) -> str:
    """A code short enough for a text message: the booking reference and a check, e.g.
    ``K7MQ4X9AB3C6QP``. It opens the booking without signing in, for as long as the booking is
    the person's (cancelled and booked again, it still works; another person's, never)."""
    return booking.reference.replace("-", "") + _check(booking)


def read_short_code(code: str) -> Booking | None:
    """The booking a short code is for, if the code is genuine."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(cleaned) != 8 + _CHECK_LENGTH or any(ch not in REFERENCE_ALPHABET for ch in cleaned):
        return None
    reference = f"{cleaned[:4]}-{cleaned[4:8]}"
    booking = db.session.scalar(sa.select(Booking).where(Booking.reference == reference))
    if booking is None or booking.user_id is None or not hmac.compare_digest(_check(booking), cleaned[8:]):
        return None
    return booking
