"""Messages to the people booked: confirmed, waiting, promoted, cancelled, reminded, and the
changes to their sessions (moved, cancelled, the whole offer cancelled).

Changes to the catalogue are the courses area's; telling the people booked about them is this
area's, as the consequences of a change are (``operations``).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from einstein.auth.messages import recipient
from einstein.auth.models import User
from einstein.auth.reach import channel_for
from einstein.auth.unsubscribe import unsubscribe_token
from einstein.bookings.links import cancel_token, short_code
from einstein.bookings.models import Booking, BookingStatus, CancelReason
from einstein.bookings.queries import waitlist_place
from einstein.courses.calendar import CANCEL, PUBLISH, calendar_bytes
from einstein.courses.models import Offer, OfferSession, SessionStatus
from einstein.db import db, utcnow
from einstein.mail import Attachment, calendar_attachment, link_in, one_click_unsubscribe, render_email
from einstein.notifications import outbox, registry, sms
from einstein.notifications.channels import Later, Outgoing
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


#: The word a person texts back to keep a place held for them, shown in their language's text.
#: Every one of them (and JA, YES) is understood whatever the language (see ``replies``).
YES_WORDS = {
    "nl": "JA",
    "en": "YES",
    "ar": "نعم",
    "ti": "እወ",
    "fa": "بله",
    "tr": "EVET",
    "so": "HAA",
    "uk": "ТАК",
}


def row_for(kind: BookingMessage, booking: Booking, **details: Any) -> outbox.OutboxRow:
    """An outbox row that tells the person of ``booking``, the way they can be reached now:
    by e-mail, by SMS, or (neither works) on the coordinators' call list.

    A household member is told through the holder of their household (their channel, their
    language); the message names the member."""
    person = booking.user
    assert person is not None  # noqa: S101 - callers tell only bookings that still have a person
    to = person.household_of or person
    return outbox.row(kind, to.id, booking_id=booking.id, channel=channel_for(to), **details)


def _contact(offer: Offer) -> str:
    """Who to contact about an offer: the person it names, else its organisation."""
    return offer.contact or (offer.organisation.name if offer.organisation else "")


def booking_context(booking: Booking, locale: str) -> dict[str, Any]:
    """What every booking message shows: what, when, where, who to contact, and the links (each
    opening in the person's language)."""
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
        "contact": _contact(offer),
        "link": link_in(locale, "courses.offer_detail", offer_id=offer.id),
        "bookings_link": link_in(locale, "bookings.mine"),
        "cancel_link": link_in(locale, "bookings.cancel_by_link", token=cancel_token(booking)),
        #: the booking's own page: keep a place held for an answer, cancel, see the details
        "short_link": link_in(locale, "bookings.short", code=short_code(booking)),
        "hold_until": booking.hold_until,
        "yes_word": YES_WORDS.get(locale, "YES"),
    }


def _calendar(sessions: list[OfferSession], title: str, locale: str, method: str = PUBLISH) -> Attachment:
    """The .ics for these sessions, made once per task for all the people booked on them: to
    keep (PUBLISH) or to take out of the calendar (CANCEL)."""
    cache = g.setdefault("einstein_ics", {})
    key = (tuple(s.id for s in sessions), title, locale, method)
    if key not in cache:
        cache[key] = calendar_bytes(sessions, title, locale, method)
    return calendar_attachment(cache[key], method)


def _booking(notification: Notification) -> Booking | None:
    return db.session.get(Booking, notification.booking_id) if notification.booking_id is not None else None


def _session(notification: Notification) -> OfferSession | None:
    return db.session.get(OfferSession, notification.session_id) if notification.session_id is not None else None


def _member(booking: Booking, user: User) -> str | None:
    """The household member a booking is for, when it is told to the holder of the household."""
    if booking.user_id == user.id:  # their own booking: nothing to load
        return None
    return booking.user.name if booking.user is not None else None


def _email(
    user: User,
    template: str,
    attachments: list[Attachment] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Outgoing:
    address = user.email or ""
    booking = context.get("booking")
    if booking is not None:
        context["member"] = _member(booking, user)
    message = render_email(template, address, user.locale, attachments, headers, user=user, **context)
    return Outgoing(address, message)


def _about_booking(notification: Notification, template: str, status: BookingStatus, with_ics: bool) -> Outgoing | None:
    booking, user = _booking(notification), recipient(notification)
    if booking is None or not user.wants_email or booking.status != status:
        return None
    context = booking_context(booking, user.locale)
    if not context["sessions"]:
        return None
    attachments = []
    if with_ics:
        attachments = [_calendar(context["sessions"], str(context["title"]), user.locale)]
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
    context["why"] = notification.payload.get("why", "participant")
    attachments = []
    if not context["was_waiting"] and context["sessions"]:
        # the place was in their calendar (a confirmation carried it): take it out again
        attachments = [_calendar(context["sessions"], str(context["title"]), user.locale, CANCEL)]
    context["calendar_cancel"] = bool(attachments)
    return _email(user, "bookings/booking_cancelled", attachments, **context)


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
    locale, offer = user.locale, booking.offer
    title, _description = offer.text_in(locale)
    # one click in the mail program stops these e-mails (RFC 8058); the link says so too
    unsubscribe = link_in(locale, "auth.unsubscribe", token=unsubscribe_token(user))
    personal = {
        "name": user.name,
        "member": _member(booking, user),
        "reference": booking.reference,
        "cancel_link": link_in(locale, "bookings.cancel_by_link", token=cancel_token(booking)),
        "unsubscribe_link": unsubscribe,
    }
    # the rest is the same for everyone reminded of this session: written once per batch
    context = {
        "title": title,
        "session": session,
        "place": session.place,
        "contact": _contact(offer),
    }
    address = user.email or ""
    message = render_email(
        "bookings/reminder",
        address,
        locale,
        [_calendar([session], str(title), locale)],
        one_click_unsubscribe(unsubscribe),
        personal=personal,
        shared=session.id,
        **context,
    )
    return Outgoing(address, message)


def _change_context(notification: Notification, booking: Booking, user: User) -> dict[str, Any]:
    offer = booking.offer
    title, _description = offer.text_in(user.locale)
    return {
        "booking": booking,
        "offer": offer,
        "title": title,
        "session": _session(notification),
        "message": notification.payload.get("message", ""),
        "link": link_in(user.locale, "courses.offer_detail", offer_id=offer.id),
        "catalogue_link": link_in(user.locale, "courses.index"),
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
    # "cannot come any more?": the same one-click cancel link as a reminder's
    context["cancel_link"] = link_in(user.locale, "bookings.cancel_by_link", token=cancel_token(booking))
    ics = _calendar([session], str(context["title"]), user.locale)
    return _email(user, "bookings/session_changed", [ics], **context)


def session_cancelled(notification: Notification) -> Outgoing | None:
    """Tell a person booked that a session will not take place."""
    user, session, booking = recipient(notification), _session(notification), _booking(notification)
    if not user.wants_email or session is None or booking is None:
        return None
    context = _change_context(notification, booking, user)
    ics = _calendar([session], str(context["title"]), user.locale, CANCEL)
    return _email(user, "bookings/session_cancelled", [ics], **context)


def _cancelled_sessions_of(booking: Booking) -> list[OfferSession]:
    """The sessions a cancelled offer took from this person (all their bookings on it): the
    events to take out of their calendar."""
    offer = booking.offer
    if booking.session is None:
        booked = list(offer.sessions)
    else:
        ids = db.session.scalars(
            sa.select(Booking.session_id).where(
                Booking.offer_id == offer.id,
                Booking.user_id == booking.user_id,
                Booking.cancel_reason == CancelReason.OFFER_CANCELLED,
            )
        )
        wanted = set(ids) | {booking.session_id}
        booked = [session for session in offer.sessions if session.id in wanted]
    now = utcnow()
    return sorted((s for s in booked if s.is_cancelled and s.ends_at > now), key=lambda s: s.starts_at)


def offer_cancelled(notification: Notification) -> Outgoing | None:
    """Tell a person booked that a whole course or activity is cancelled, and take its sessions
    out of their calendar."""
    user, booking = recipient(notification), _booking(notification)
    if not user.wants_email or booking is None:
        return None
    context = _change_context(notification, booking, user)
    sessions = _cancelled_sessions_of(booking)
    attachments = [_calendar(sessions, str(context["title"]), user.locale, CANCEL)] if sessions else []
    return _email(user, "bookings/offer_cancelled", attachments, **context)


# --- the same by SMS: short, with the reference and one link, written to fit two segments ---------


def _next_start(booking: Booking, session: OfferSession | None = None) -> datetime | None:
    if session is not None:
        return session.starts_at
    coming = booking.upcoming_sessions
    return coming[0].starts_at if coming else None


def _text(
    notification: Notification,
    booking: Booking,
    template: str,
    *,
    session: OfferSession | None = None,
    deadline: datetime | None = None,
    **extra: Any,
) -> Outgoing | Later | None:
    """Write a text about ``booking`` in the person's language; at night, put it off until morning
    unless it is due before then (``deadline``)."""
    user = recipient(notification)
    if not user.wants_sms or not user.phone:
        return None
    start = _next_start(booking, session)
    if start is None:
        return None
    due_by = deadline or start - timedelta(hours=2)
    morning = sms.daytime(utcnow(), due_by)
    if morning is not None:
        return Later(morning)
    title, _description = booking.offer.text_in(user.locale)
    shown = session or booking.session
    where = shown.place if shown is not None else booking.offer.location
    context = {
        "when": start,
        "course": booking.session is None and session is None,
        "ref": booking.reference,
        "link": sms.bare(external_url("bookings.short", code=short_code(booking))),
        **extra,
    }
    place = where.name if where is not None else ""

    # a household member's booking, told to the holder: the text starts with the member's name
    member = booking.user.name if booking.user is not None and booking.user_id != user.id else None

    def write(length: int | None) -> str:
        # a long title and a long place name give way; the reference and the link never do
        if length is None:
            text = sms.render_text(f"bookings/{template}", user.locale, title=title, place=place, **context)
        else:
            shown, at = sms.shorten(title, length), sms.shorten(place, max(length, 12))
            text = sms.render_text(f"bookings/{template}", user.locale, title=shown, place=at, **context)
        return f"{sms.shorten(member, 20)}: {text}" if member else text

    return sms.fitted(user.phone, write)


def booking_confirmed_sms(notification: Notification) -> Outgoing | Later | None:
    """Text that a place is confirmed (or, after a yes, kept)."""
    booking = _booking(notification)
    if booking is None or booking.status != BookingStatus.CONFIRMED or booking.hold_until is not None:
        return None
    return _text(notification, booking, "booking_confirmed")


def booking_waitlisted_sms(notification: Notification) -> Outgoing | Later | None:
    """Text the number on the waiting list."""
    booking = _booking(notification)
    if booking is None or booking.status != BookingStatus.WAITLISTED:
        return None
    return _text(notification, booking, "booking_waitlisted", position=waitlist_place(booking) or 1)


def booking_promoted_sms(notification: Notification) -> Outgoing | Later | None:
    """Text that a place came free: theirs, or held until they say yes."""
    booking = _booking(notification)
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        return None
    user = recipient(notification)
    if booking.hold_until is None:
        return _text(notification, booking, "booking_promoted")
    if booking.hold_until <= utcnow():
        return None
    return _text(
        notification,
        booking,
        "booking_held",
        deadline=booking.hold_until - timedelta(hours=2),
        hold_until=booking.hold_until,
        word=YES_WORDS.get(user.locale, "YES"),
    )


def booking_cancelled_sms(notification: Notification) -> Outgoing | Later | None:
    """Text that a booking ended: cancelled by them, by the organiser, or not kept in time."""
    booking = _booking(notification)
    if booking is None or booking.status != BookingStatus.CANCELLED:
        return None
    return _text(notification, booking, "booking_cancelled", why=notification.payload.get("why", "participant"))


def reminder_sms(notification: Notification) -> Outgoing | Later | None:
    """Text a reminder of the session, with how to cancel."""
    booking, session = _booking(notification), _session(notification)
    if booking is None or session is None or booking.status != BookingStatus.CONFIRMED:
        return None
    if session.status != SessionStatus.SCHEDULED or session.starts_at <= utcnow():
        return None
    return _text(notification, booking, "reminder", session=session, deadline=session.starts_at - timedelta(hours=1))


def session_changed_sms(notification: Notification) -> Outgoing | Later | None:
    """Text the new time or place of a session."""
    booking, session = _booking(notification), _session(notification)
    if booking is None or session is None or session.is_cancelled or not booking.is_active:
        return None
    return _text(notification, booking, "session_changed", session=session)


def session_cancelled_sms(notification: Notification) -> Outgoing | Later | None:
    """Text that a session will not take place."""
    booking, session = _booking(notification), _session(notification)
    if booking is None or session is None:
        return None
    return _text(notification, booking, "session_cancelled", session=session, deadline=session.starts_at)


def offer_cancelled_sms(notification: Notification) -> Outgoing | Later | None:
    """Text that a whole course or activity is cancelled."""
    booking = _booking(notification)
    if booking is None:
        return None
    first = min((s for s in booking.offer.sessions), key=lambda s: s.starts_at, default=None)
    return _text(notification, booking, "offer_cancelled", session=first, deadline=first.starts_at if first else None)


# --- what a coordinator tells someone einstein cannot reach (the call list) --------------------------


def _call(notification: Notification, template: str, session: OfferSession | None = None) -> Outgoing | None:
    """What to tell the person on the phone, in the reader's (the coordinator's) language."""
    booking = _booking(notification)
    if booking is None or booking.user is None:
        return None
    shown = session or _session(notification)
    start = _next_start(booking, shown)
    title, _description = booking.offer.text_in(str(get_locale()))
    text = render_template(
        f"calls/{template}.html",
        booking=booking,
        title=title,
        when=start,
        session=shown,
        payload=notification.payload,
    )
    # a household member has no phone: the desk calls the holder of their household
    called = booking.user.household_of or booking.user
    return Outgoing(called.phone or "", " ".join(text.split()))


def promoted_call(notification: Notification) -> Outgoing | None:
    """Call: a place came free for them."""
    return _call(notification, "booking_promoted")


def cancelled_call(notification: Notification) -> Outgoing | None:
    """Call: their booking was cancelled by the organiser, or not kept in time (not when they did it)."""
    if notification.payload.get("why", "participant") == "participant":
        return None
    return _call(notification, "booking_cancelled")


def session_changed_call(notification: Notification) -> Outgoing | None:
    """Call: their session has a new time or place."""
    return _call(notification, "session_changed")


def session_cancelled_call(notification: Notification) -> Outgoing | None:
    """Call: their session will not take place."""
    return _call(notification, "session_cancelled")


def offer_cancelled_call(notification: Notification) -> Outgoing | None:
    """Call: the whole course or activity is cancelled."""
    return _call(notification, "offer_cancelled")


def preload(rows: list[Notification]) -> None:
    """Load the bookings and sessions of a batch, with all their messages show, in a few queries."""
    booking_ids = {row.booking_id for row in rows if row.booking_id is not None}
    session_ids = {row.session_id for row in rows if row.session_id is not None}
    if booking_ids:
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.id.in_(booking_ids))
            .options(
                # each offer and session once, not once per booking row (a session's reminders
                # are a batch of bookings of one session: joined, its row came 50 times)
                selectinload(Booking.session).joinedload(OfferSession.location),
                selectinload(Booking.offer).options(
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
    for kind, label, email, text in (
        (BookingMessage.BOOKING_CONFIRMED, _l("Booking confirmed"), booking_confirmed, booking_confirmed_sms),
        (BookingMessage.BOOKING_WAITLISTED, _l("On the waiting list"), booking_waitlisted, booking_waitlisted_sms),
        (BookingMessage.REMINDER, _l("Reminder"), reminder, reminder_sms),
    ):
        registry.register(kind, label, email=email, sms=text)
    # the ones that matter also on the call list, for people no message reaches
    for kind, label, email, text, call in (
        (
            BookingMessage.BOOKING_PROMOTED,
            _l("Place from the waiting list"),
            booking_promoted,
            booking_promoted_sms,
            promoted_call,
        ),
        (
            BookingMessage.BOOKING_CANCELLED,
            _l("Booking cancelled"),
            booking_cancelled,
            booking_cancelled_sms,
            cancelled_call,
        ),
        (
            BookingMessage.SESSION_CHANGED,
            _l("Session changed"),
            session_changed,
            session_changed_sms,
            session_changed_call,
        ),
        (
            BookingMessage.SESSION_CANCELLED,
            _l("Session cancelled"),
            session_cancelled,
            session_cancelled_sms,
            session_cancelled_call,
        ),
        (
            BookingMessage.OFFER_CANCELLED,
            _l("Course or activity cancelled"),
            offer_cancelled,
            offer_cancelled_sms,
            offer_cancelled_call,
        ),
    ):
        registry.register(kind, label, email=email, sms=text, call=call)
