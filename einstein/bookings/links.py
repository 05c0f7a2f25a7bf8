"""Signed links in messages that let a person act on their booking without signing in."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from einstein.bookings.models import Booking
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
