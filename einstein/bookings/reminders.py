"""Reminders: one outbox row per booking, session and offset, planned when a place is confirmed.

A row's unique key (booking, session, offset) means that planning twice, a retry, or a second
worker can never make a second reminder. Rows follow their session: a moved session moves its
pending reminders, a cancelled session or booking cancels them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from einstein.bookings.messages import BookingMessage, row_for
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Offer, OfferSession, SessionStatus
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.notifications import outbox
from einstein.notifications.models import Notification, NotificationStatus

#: Offsets before the start of a session; "morning" is handled on its own (see ``due_time``).
OFFSETS = {"48h": timedelta(hours=48), "24h": timedelta(hours=24), "2h": timedelta(hours=2)}
#: A morning reminder is only worth sending if it comes at least this long before the start.
MORNING_MARGIN = timedelta(minutes=45)
#: Someone who books after every chosen reminder's time gets one this long before the start
#: instead ("late"), if that is still this far away (LATE_GAP): sooner, the confirmation is enough.
LATE_BEFORE = timedelta(hours=2)
LATE_GAP = timedelta(hours=1)
LATE = "late"


def due_time(session: OfferSession, offset: str) -> datetime | None:
    """When the reminder ``offset`` for ``session`` is due, or None if it makes no sense."""
    if offset == "morning":
        local_day = session.starts_at.astimezone(TIMEZONE).date()
        hour = current_app.config["REMINDER_MORNING_HOUR"]
        due = datetime.combine(local_day, time(hour, 0), tzinfo=TIMEZONE).astimezone(session.starts_at.tzinfo)
        return due if due <= session.starts_at - MORNING_MARGIN else None
    if offset == LATE:
        return session.starts_at - LATE_BEFORE
    delta = OFFSETS.get(offset)
    return session.starts_at - delta if delta is not None else None


def _offsets(offer: Offer, session: OfferSession, now: datetime) -> list[str]:
    """The reminders to plan for ``session``: the offer's, or, when every one of their times has
    passed (a late booking), one "late" reminder shortly before the start."""
    chosen = list(offer.reminder_offsets or [])
    if not chosen or any((due := due_time(session, offset)) is not None and due > now for offset in chosen):
        return chosen
    late = due_time(session, LATE)
    return [LATE] if late is not None and late >= now + LATE_GAP else []


def _plan(
    booking: Booking, sessions: list[OfferSession], existing: dict[tuple[int, str], Notification]
) -> list[outbox.OutboxRow]:
    """The reminder rows ``booking`` still lacks for ``sessions``, for ``outbox.add``.

    A cancelled reminder that is due again (booked again after cancelling) is brought back in
    place: never a second row.
    """
    if booking.user_id is None:
        return []
    now = utcnow()
    rows: list[outbox.OutboxRow] = []
    for session in sessions:
        if session.status != SessionStatus.SCHEDULED or session.starts_at <= now:
            continue
        for offset in _offsets(booking.offer, session, now):
            due = due_time(session, offset)
            if due is None or due <= now:
                continue
            row = existing.get((session.id, offset))
            if row is None:
                rows.append(
                    row_for(
                        BookingMessage.REMINDER,
                        booking,
                        session_id=session.id,
                        reminder_offset=offset,
                        due_at=due,
                    )
                )
            elif row.status == NotificationStatus.CANCELLED:
                row.status = NotificationStatus.PENDING
                row.due_at = due
                row.queued_at = None
    return rows


def _existing(booking_ids: list[int]) -> dict[int, dict[tuple[int, str], Notification]]:
    rows = db.session.scalars(
        sa.select(Notification).where(
            Notification.kind == BookingMessage.REMINDER, Notification.booking_id.in_(booking_ids)
        )
    )
    result: dict[int, dict[tuple[int, str], Notification]] = {}
    for row in rows:
        result.setdefault(row.booking_id or 0, {})[(row.session_id or 0, row.reminder_offset or "")] = row
    return result


def reminder_rows(booking: Booking, *, new: bool = False) -> list[outbox.OutboxRow]:
    """The reminder rows a confirmed booking still lacks, for ``outbox.add``.

    Cancelled ones are brought back in place. A ``new`` booking (inserted in this transaction)
    has none yet to look for. The booking must have been flushed: the rows need its id.
    """
    if booking.status != BookingStatus.CONFIRMED:
        return []
    existing = {} if new else _existing([booking.id]).get(booking.id, {})
    return _plan(booking, booking.sessions, existing)


def plan_for_booking(booking: Booking, *, new: bool = False) -> None:
    """Plan the reminders of a confirmed booking, in the current transaction."""
    if booking.id is None:
        db.session.flush()
    outbox.add(reminder_rows(booking, new=new))


def plan_for_session(session: OfferSession) -> None:
    """Plan reminders for a session added to a course, for everyone booked on the course."""
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                Booking.offer_id == session.offer_id,
                Booking.session_id.is_(None),
                Booking.status == BookingStatus.CONFIRMED,
            )
            .options(joinedload(Booking.user))
        )
    )
    existing = _existing([b.id for b in bookings])
    outbox.add([row for b in bookings for row in _plan(b, [session], existing.get(b.id, {}))])
    db.session.flush()


def replan_offer(offer: Offer) -> None:
    """After the organiser changed the offsets: cancel the dropped ones, plan the new ones."""
    session_ids = [s.id for s in offer.sessions]
    if not session_ids:
        return
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.kind == BookingMessage.REMINDER,
            Notification.status == NotificationStatus.PENDING,
            Notification.session_id.in_(session_ids),
            Notification.reminder_offset.not_in(offer.reminder_offsets or [""]),
        )
        .values(status=NotificationStatus.CANCELLED)
    )
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.offer_id == offer.id, Booking.status == BookingStatus.CONFIRMED)
            .options(joinedload(Booking.user))
        )
    )
    existing = _existing([b.id for b in bookings])
    outbox.add([row for b in bookings for row in _plan(b, b.sessions, existing.get(b.id, {}))])
    db.session.flush()


def reschedule_session(session: OfferSession) -> None:
    """Move the pending reminders of a moved session; those now in the past are dropped."""
    now = utcnow()
    rows = db.session.scalars(
        sa.select(Notification).where(
            Notification.kind == BookingMessage.REMINDER,
            Notification.session_id == session.id,
            Notification.status == NotificationStatus.PENDING,
        )
    )
    for row in rows:
        due = due_time(session, row.reminder_offset or "")
        if due is None or due <= now:
            row.status = NotificationStatus.CANCELLED
        else:
            row.due_at = due
            row.queued_at = None
    db.session.flush()


def cancel_for_session(session: OfferSession) -> None:
    """A cancelled session gets no reminders."""
    outbox.cancel_pending(Notification.kind == BookingMessage.REMINDER, Notification.session_id == session.id)


def cancel_for_booking(booking: Booking) -> None:
    """A cancelled (or waitlisted) booking gets no reminders."""
    outbox.cancel_pending(Notification.kind == BookingMessage.REMINDER, Notification.booking_id == booking.id)
