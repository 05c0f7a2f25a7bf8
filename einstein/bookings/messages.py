"""Messages to the people booked: confirmed, waiting, promoted, cancelled, reminded, and the
changes to their sessions (moved, cancelled, the whole offer cancelled).

Changes to the catalogue are the courses area's; telling the people booked about them is this
area's, as the consequences of a change are (``operations``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from einstein.auth.messages import recipient
from einstein.auth.models import User
from einstein.bookings.links import cancel_token
from einstein.bookings.models import Booking, BookingStatus
from einstein.bookings.queries import waitlist_place
from einstein.courses.calendar import calendar_bytes
from einstein.courses.models import Offer, OfferSession, SessionStatus
from einstein.db import db, utcnow
from einstein.mail import Attachment, render_email
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from einstein.notifications.models import Notification
from einstein.urls import external_url


class BookingMessage(enum.StrEnum):
    """The kinds of message about a booking."""

    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_WAITLISTED = "booking_waitlisted"
    BOOKING_PROMOTED = "booking_promoted"
    BOOKING_CANCELLED = "booking_cancelled"
    SESSION_CHANGED = "session_changed"
    SESSION_CANCELLED = "session_cancelled"
    OFFER_CANCELLED = "offer_cancelled"
    REMINDER = "reminder"


def booking_context(booking: Booking, locale: str) -> dict[str, Any]:
    """What every booking message shows: what, when, where, who to contact, and the links."""
    offer = booking.offer
    title, _description = offer.text_in(locale)
    sessions = booking.upcoming_sessions
    place = booking.session.place if booking.session is not None else offer.location
    return {
        "booking": booking,
        "offer": offer,
        "title": title,
        "sessions": sessions,
        "place": place,
        "contact": offer.contact or (offer.organisation.name if offer.organisation else ""),
        "link": external_url("courses.offer_detail", offer_id=offer.id),
        "bookings_link": external_url("bookings.mine"),
        "cancel_link": external_url("bookings.cancel_by_link", token=cancel_token(booking)),
    }


def _calendar(sessions: list[OfferSession], title: str, locale: str) -> bytes:
    """The .ics for these sessions, made once per task for all the people booked on them."""
    cache = g.setdefault("einstein_ics", {})
    key = (tuple(s.id for s in sessions), title, locale)
    if key not in cache:
        cache[key] = calendar_bytes(sessions, title, locale)
    return cache[key]  # type: ignore[no-any-return]


def _booking(notification: Notification) -> Booking | None:
    return db.session.get(Booking, notification.booking_id) if notification.booking_id is not None else None


def _session(notification: Notification) -> OfferSession | None:
    return db.session.get(OfferSession, notification.session_id) if notification.session_id is not None else None


def _email(user: User, template: str, attachments: list[Attachment] | None = None, **context: Any) -> Outgoing:
    address = user.email or ""
    return Outgoing(address, render_email(template, address, user.locale, attachments, user=user, **context))


def _about_booking(notification: Notification, template: str, status: BookingStatus, with_ics: bool) -> Outgoing | None:
    booking, user = _booking(notification), recipient(notification)
    if booking is None or not user.wants_email or booking.status != status:
        return None
    context = booking_context(booking, user.locale)
    if not context["sessions"]:
        return None
    attachments = []
    if with_ics:
        attachments = [Attachment("einstein.ics", _calendar(context["sessions"], str(context["title"]), user.locale))]
    if status == BookingStatus.WAITLISTED:
        context["position"] = waitlist_place(booking)
    return _email(user, f"bookings/{template}", attachments, **context)


def booking_confirmed(notification: Notification) -> Outgoing | None:
    """Confirm a place, with a calendar file."""
    return _about_booking(notification, "booking_confirmed", BookingStatus.CONFIRMED, with_ics=True)


def booking_waitlisted(notification: Notification) -> Outgoing | None:
    """Confirm a place on the waiting list, with the person's number."""
    return _about_booking(notification, "booking_waitlisted", BookingStatus.WAITLISTED, with_ics=False)


def booking_promoted(notification: Notification) -> Outgoing | None:
    """Tell someone waiting that a place came free and is now theirs."""
    return _about_booking(notification, "booking_promoted", BookingStatus.CONFIRMED, with_ics=True)


def booking_cancelled(notification: Notification) -> Outgoing | None:
    """Confirm a cancellation."""
    booking, user = _booking(notification), recipient(notification)
    if booking is None or not user.wants_email or booking.status != BookingStatus.CANCELLED:
        return None
    context = booking_context(booking, user.locale)
    context["was_waiting"] = notification.payload.get("was") == "waitlisted"
    return _email(user, "bookings/booking_cancelled", **context)


def reminder(notification: Notification) -> Outgoing | None:
    """Remind a person of a session soon: what, when, where, who to contact, and how to cancel."""
    booking, user, session = _booking(notification), recipient(notification), _session(notification)
    if booking is None or session is None or not user.wants_email:
        return None
    if (
        booking.status != BookingStatus.CONFIRMED
        or session.status != SessionStatus.SCHEDULED
        or session.starts_at <= utcnow()
    ):
        return None
    context = booking_context(booking, user.locale)
    context["session"] = session
    context["place"] = session.place
    ics = Attachment("einstein.ics", _calendar([session], str(context["title"]), user.locale))
    return _email(user, "bookings/reminder", [ics], **context)


def _change_context(notification: Notification, booking: Booking, user: User) -> dict[str, Any]:
    offer = booking.offer
    title, _description = offer.text_in(user.locale)
    return {
        "offer": offer,
        "title": title,
        "session": _session(notification),
        "message": notification.payload.get("message", ""),
        "link": external_url("courses.offer_detail", offer_id=offer.id),
        "catalogue_link": external_url("courses.index"),
    }


def session_changed(notification: Notification) -> Outgoing | None:
    """Tell a person booked that their session has a new time or place, with the new .ics."""
    user, session, booking = recipient(notification), _session(notification), _booking(notification)
    if not user.wants_email or session is None or booking is None or session.is_cancelled or not booking.is_active:
        return None
    context = _change_context(notification, booking, user)
    payload = notification.payload
    context["old_starts_at"] = datetime.fromisoformat(payload["starts_at"]) if payload.get("starts_at") else None
    context["old_ends_at"] = datetime.fromisoformat(payload["ends_at"]) if payload.get("ends_at") else None
    context["old_place"] = payload.get("place", "")
    ics = Attachment(
        "einstein.ics", calendar_bytes([session], str(context["title"]), user.locale), params={"method": "PUBLISH"}
    )
    return _email(user, "bookings/session_changed", [ics], **context)


def session_cancelled(notification: Notification) -> Outgoing | None:
    """Tell a person booked that a session will not take place."""
    user, session, booking = recipient(notification), _session(notification), _booking(notification)
    if not user.wants_email or session is None or booking is None:
        return None
    context = _change_context(notification, booking, user)
    ics = Attachment("einstein.ics", calendar_bytes([session], str(context["title"]), user.locale))
    return _email(user, "bookings/session_cancelled", [ics], **context)


def offer_cancelled(notification: Notification) -> Outgoing | None:
    """Tell a person booked that a whole course or activity is cancelled."""
    user, booking = recipient(notification), _booking(notification)
    if not user.wants_email or booking is None:
        return None
    return _email(user, "bookings/offer_cancelled", **_change_context(notification, booking, user))


def preload(rows: list[Notification]) -> None:
    """Load the bookings and sessions of a batch, with all their messages show, in a few queries."""
    booking_ids = {row.booking_id for row in rows if row.booking_id is not None}
    session_ids = {row.session_id for row in rows if row.session_id is not None}
    if booking_ids:
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.id.in_(booking_ids))
            .options(
                joinedload(Booking.session).joinedload(OfferSession.location),
                joinedload(Booking.offer).options(
                    joinedload(Offer.location),
                    joinedload(Offer.organisation),
                    selectinload(Offer.translations),
                    selectinload(Offer.sessions).joinedload(OfferSession.location),
                ),
            )
        ).unique().all()
    if session_ids:
        db.session.scalars(
            sa.select(OfferSession).where(OfferSession.id.in_(session_ids)).options(joinedload(OfferSession.location))
        ).all()


def register() -> None:
    """Tell the notification layer about the messages to the people booked."""
    registry.register_preload("bookings", preload)
    registry.register(BookingMessage.BOOKING_CONFIRMED, _l("Booking confirmed"), email=booking_confirmed)
    registry.register(BookingMessage.BOOKING_WAITLISTED, _l("On the waiting list"), email=booking_waitlisted)
    registry.register(BookingMessage.BOOKING_PROMOTED, _l("Place from the waiting list"), email=booking_promoted)
    registry.register(BookingMessage.BOOKING_CANCELLED, _l("Booking cancelled"), email=booking_cancelled)
    registry.register(BookingMessage.SESSION_CHANGED, _l("Session changed"), email=session_changed)
    registry.register(BookingMessage.SESSION_CANCELLED, _l("Session cancelled"), email=session_cancelled)
    registry.register(BookingMessage.OFFER_CANCELLED, _l("Course or activity cancelled"), email=offer_cancelled)
    registry.register(BookingMessage.REMINDER, _l("Reminder"), email=reminder)
