"""E-mails about a person's booking: confirmed, waiting, promoted, cancelled, and reminders."""

from __future__ import annotations

from email.message import Message
from typing import Any

from flask import g

from einstein.bookings.models import Booking, BookingStatus
from einstein.bookings.services import cancel_token
from einstein.courses.calendar import calendar_bytes
from einstein.courses.models import OfferSession, SessionStatus
from einstein.db import utcnow
from einstein.mail import Attachment, render_email
from einstein.notifications.messages import builds, can_email
from einstein.notifications.models import Notification, NotificationKind
from einstein.urls import external_url


def booking_context(booking: Booking, locale: str) -> dict[str, Any]:
    """What every booking e-mail shows: what, when, where, who to contact, and the links."""
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
    return cache[key]


def _ics(booking: Booking, context: dict[str, Any], locale: str) -> list[Attachment]:
    if not context["sessions"]:
        return []
    return [Attachment("einstein.ics", _calendar(context["sessions"], str(context["title"]), locale))]


def _render(notification: Notification, template: str, status: BookingStatus, with_ics: bool) -> Message | None:
    booking, user = notification.booking, notification.user
    if booking is None or not can_email(user) or booking.status != status:
        return None
    context = booking_context(booking, user.locale)
    if not context["sessions"]:
        return None
    attachments = _ics(booking, context, user.locale) if with_ics else []
    if status == BookingStatus.WAITLISTED:
        from einstein.bookings.services import waitlist_place

        context["position"] = waitlist_place(booking)
    return render_email(f"bookings/{template}", user.email or "", user.locale, attachments, user=user, **context)


@builds(NotificationKind.BOOKING_CONFIRMED)
def booking_confirmed(notification: Notification) -> Message | None:
    """Confirm a place, with a calendar file."""
    return _render(notification, "booking_confirmed", BookingStatus.CONFIRMED, with_ics=True)


@builds(NotificationKind.BOOKING_WAITLISTED)
def booking_waitlisted(notification: Notification) -> Message | None:
    """Confirm a place on the waiting list, with the person's number."""
    return _render(notification, "booking_waitlisted", BookingStatus.WAITLISTED, with_ics=False)


@builds(NotificationKind.BOOKING_PROMOTED)
def booking_promoted(notification: Notification) -> Message | None:
    """Tell someone waiting that a place came free and is now theirs."""
    return _render(notification, "booking_promoted", BookingStatus.CONFIRMED, with_ics=True)


@builds(NotificationKind.BOOKING_CANCELLED)
def booking_cancelled(notification: Notification) -> Message | None:
    """Confirm a cancellation."""
    booking, user = notification.booking, notification.user
    if booking is None or not can_email(user) or booking.status != BookingStatus.CANCELLED:
        return None
    context = booking_context(booking, user.locale)
    context["was_waiting"] = notification.payload.get("was") == "waitlisted"
    return render_email("bookings/booking_cancelled", user.email or "", user.locale, user=user, **context)


@builds(NotificationKind.REMINDER)
def reminder(notification: Notification) -> Message | None:
    """Remind a person of a session soon: what, when, where, who to contact, and how to cancel."""
    booking, user, session = notification.booking, notification.user, notification.session
    if booking is None or session is None or not can_email(user):
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
    return render_email("bookings/reminder", user.email or "", user.locale, [ics], user=user, **context)
