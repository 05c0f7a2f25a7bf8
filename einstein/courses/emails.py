"""E-mails about changes to the catalogue: a session moved or cancelled, an offer cancelled."""

from __future__ import annotations

from datetime import datetime
from email.message import Message

from einstein.courses.calendar import calendar_bytes
from einstein.mail import Attachment, render_email
from einstein.notifications.messages import builds, can_email
from einstein.notifications.models import Notification, NotificationKind
from einstein.urls import external_url


def _context(notification: Notification) -> dict[str, object]:
    booking = notification.booking
    if booking is None:
        raise LookupError("a catalogue e-mail needs its booking")
    offer = booking.offer
    title, _description = offer.text_in(notification.user.locale)
    return {
        "user": notification.user,
        "offer": offer,
        "title": title,
        "session": notification.session,
        "message": notification.payload.get("message", ""),
        "link": external_url("courses.offer_detail", offer_id=offer.id),
        "catalogue_link": external_url("courses.index"),
    }


@builds(NotificationKind.SESSION_CHANGED)
def session_changed(notification: Notification) -> Message | None:
    """Tell a person booked that their session has a new time or place, with the new .ics."""
    user, session, booking = notification.user, notification.session, notification.booking
    if not can_email(user) or session is None or booking is None or session.is_cancelled or not booking.is_active:
        return None
    context = _context(notification)
    payload = notification.payload
    context["old_starts_at"] = datetime.fromisoformat(payload["starts_at"]) if payload.get("starts_at") else None
    context["old_ends_at"] = datetime.fromisoformat(payload["ends_at"]) if payload.get("ends_at") else None
    context["old_place"] = payload.get("place", "")
    ics = Attachment(
        "einstein.ics", calendar_bytes([session], str(context["title"]), user.locale), params={"method": "PUBLISH"}
    )
    return render_email("courses/session_changed", user.email or "", user.locale, [ics], **context)


@builds(NotificationKind.SESSION_CANCELLED)
def session_cancelled(notification: Notification) -> Message | None:
    """Tell a person booked that a session will not take place."""
    if not can_email(notification.user) or notification.session is None or notification.booking is None:
        return None
    context = _context(notification)
    ics = Attachment(
        "einstein.ics", calendar_bytes([notification.session], str(context["title"]), notification.user.locale)
    )
    return render_email(
        "courses/session_cancelled", notification.user.email or "", notification.user.locale, [ics], **context
    )


@builds(NotificationKind.OFFER_CANCELLED)
def offer_cancelled(notification: Notification) -> Message | None:
    """Tell a person booked that a whole course or activity is cancelled."""
    if not can_email(notification.user) or notification.booking is None:
        return None
    context = _context(notification)
    return render_email("courses/offer_cancelled", notification.user.email or "", notification.user.locale, **context)
