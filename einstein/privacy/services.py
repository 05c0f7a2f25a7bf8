"""Privacy rules above every area: "about you", a copy of one's data, and erasure.

The answer to "about you" is self-declared and optional; bookings still to come follow a changed
answer, those that are over keep the one given at the time (see ``attendance.reports``: figures
about the past must not move when one person changes their mind). "Download my data" gathers
what every area holds about the person; erasure cancels what is coming (the places go to the
waiting list) and removes the person, leaving past bookings as anonymous counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from einstein.attendance import credentials, feedback, record
from einstein.attendance.models import Attendance
from einstein.auth import services as accounts
from einstein.auth.models import Audience, User
from einstein.bookings import household, queries
from einstein.bookings import services as bookings
from einstein.bookings.models import Booking, BookingStatus, CancelReason
from einstein.courses.models import Offer, OfferSession
from einstein.db import db, utcnow
from einstein.notifications.models import Notification


def save_profile(
    user: User,
    *,
    name: str,
    locale: str,
    audience: Audience,
    email_notifications: bool,
    notify_by: str | None = None,
) -> None:
    """Save the profile; a new answer to "about you" follows into the bookings still to come."""
    accounts.update_profile(
        user, name=name, locale=locale, email_notifications=email_notifications, notify_by=notify_by
    )
    if audience != user.audience:
        user.audience = audience
        follow_answer(user)


def follow_answer(user: User) -> None:
    """The person's bookings still to come take their answer to "about you" as it is now."""
    db.session.execute(sa.update(Booking).where(*_coming_bookings(user)).values(audience=user.audience))


def _coming_bookings(user: User) -> list[sa.ColumnElement[bool]]:
    """Conditions for the person's active bookings whose first session has not started."""
    first_start = (
        sa.select(sa.func.min(OfferSession.starts_at))
        .where(
            sa.or_(
                OfferSession.id == Booking.session_id,
                sa.and_(Booking.session_id.is_(None), OfferSession.offer_id == Booking.offer_id),
            )
        )
        .scalar_subquery()
    )
    return [Booking.user_id == user.id, Booking.status != BookingStatus.CANCELLED, first_start > utcnow()]


def export_data(user: User) -> dict[str, object]:
    """Everything einstein holds about ``user``, for "download my data"."""

    def when(value: object) -> object:
        return value.isoformat() if hasattr(value, "isoformat") else value

    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id == user.id)
        .options(joinedload(Booking.offer), joinedload(Booking.session))
        .order_by(Booking.created_at)
    )
    marks: dict[int, list[Attendance]] = {}
    for mark in db.session.scalars(
        sa.select(Attendance)
        .join(Booking, Booking.id == Attendance.booking_id)
        .where(Booking.user_id == user.id)
        .options(joinedload(Attendance.session))
        .order_by(Attendance.id)
    ):
        marks.setdefault(mark.booking_id, []).append(mark)
    booking_rows = []
    for booking in bookings:
        attendance = marks.get(booking.id, [])
        booking_rows.append(
            {
                "reference": booking.reference,
                "offer": booking.offer.title,
                "kind": booking.offer.kind.value,
                "session_start": when(booking.session.starts_at) if booking.session else None,
                "status": booking.status.value,
                "waitlist_position": booking.waitlist_position,
                "booked_at": when(booking.created_at),
                "cancelled_at": when(booking.cancelled_at),
                "attendance": [
                    {"session_start": when(a.session.starts_at), "status": a.status.value} for a in attendance
                ],
            }
        )
    notifications = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at)
    )
    offers = db.session.scalars(sa.select(Offer).where(Offer.organiser_id == user.id))
    return {
        "exported_at": when(utcnow()),
        "account": {
            "name": user.name,
            "email": user.email,
            "email_confirmed_at": when(user.email_verified_at),
            "phone": user.phone,
            "role": user.role.value,
            "language": user.locale,
            "about_you": user.audience.value,
            "email_notifications": user.email_notifications,
            "created_at": when(user.created_at),
            "last_sign_in_at": when(user.last_login_at),
            "consent_recorded_at": when(user.consent_recorded_at),
        },
        "sign_in_sessions": [
            {"started_at": when(s.created_at), "expires_at": when(s.expires_at), "ended_at": when(s.revoked_at)}
            for s in user.login_sessions
        ],
        "bookings": booking_rows,
        "messages": [
            {
                "kind": n.kind,
                "channel": n.channel,
                "status": n.status.value,
                "created_at": when(n.created_at),
                "sent_at": when(n.sent_at),
            }
            for n in notifications
        ],
        "offers_organised": [{"title": o.title, "status": o.status.value} for o in offers],
        # the certificates and statements, with the codes that check them (issuing those not yet shown)
        "learning_record": record.as_data(record.record_of(user)),
        "feedback": feedback.export_of(user),
        "household": household.export_members(user),
    }


def delete_account(user: User) -> None:
    """Remove a person and their personal data; bookings and attendance stay as anonymous counts.

    Upcoming bookings are cancelled first, so their places go to the waiting list.
    """
    for booking in queries.upcoming_bookings_of(user):
        bookings.cancel(booking, reason=CancelReason.ACCOUNT_DELETED)
    # the household's members go with the holder (their places to the waiting list first)
    household.remove_all(user)
    # Foreign keys do the rest: bookings keep no user (SET NULL), sign-ins and e-mails go (CASCADE).
    credentials.forget(user)  # a public check would go on showing the name: their codes no longer check
    feedback.forget(user)  # the faces stay as anonymous counts, the person's own words go
    db.session.delete(user)
    db.session.flush()
