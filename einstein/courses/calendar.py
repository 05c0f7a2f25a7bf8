"""Calendar (.ics) files for offers, sessions and personal feeds, built with icalendar."""

from __future__ import annotations

from collections.abc import Iterable

from icalendar import Calendar, Event

from einstein.courses.models import OfferSession
from einstein.db import utcnow
from einstein.urls import external_url


def _event(session: OfferSession, locale: str) -> Event:
    offer = session.offer
    title, description = offer.text_in(locale)
    event = Event()
    # Stable per session, so a calendar updates the event instead of adding a new one.
    event.add("uid", f"session-{session.id}@einstein")
    event.add("dtstamp", utcnow())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", title)
    url = external_url("courses.offer_detail", offer_id=offer.id)
    event.add("description", f"{description}\n\n{url}".strip())
    event.add("url", url)
    if session.place is not None:
        event.add("location", session.place.one_line)
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    # Must grow with every change so calendars take the new time or place.
    event.add("sequence", int(session.updated_at.timestamp()) if session.updated_at else 0)
    return event


def calendar_bytes(sessions: Iterable[OfferSession], name: str, locale: str) -> bytes:
    """A calendar holding one event per session."""
    calendar = Calendar()
    calendar.add("prodid", "-//einstein//Utrecht//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for session in sessions:
        calendar.add_component(_event(session, locale))
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical() unannotated
    return ical
