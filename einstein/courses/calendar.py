"""Calendar (.ics) files for offers, sessions and personal feeds, built with icalendar.

An event is known to calendars by its UID, one per session on this deployment, and a calendar
takes a new version of it only when its SEQUENCE is higher (RFC 5546). So the SEQUENCE grows
when, and only when, what a calendar shows changes: a new time or place (each one recorded in the
audit trail as ``session.changed``), and the session being cancelled. A booking or a new counter
on the session changes nothing a calendar shows, and leaves it alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from einstein.audit.models import AuditEvent
from einstein.courses.models import OfferSession
from einstein.db import db, utcnow
from einstein.mail import site_host
from einstein.urls import external_url

#: The audit action that records a new time or place for a session (``details["session"]``).
SESSION_CHANGED = "session.changed"
#: The iTIP methods einstein sends (RFC 5546): an event to keep, and an event to take out.
PUBLISH, CANCEL = "PUBLISH", "CANCEL"


def event_uid(session: OfferSession) -> str:
    """The session's UID: the same in every file and feed, unique to this deployment's host."""
    return f"session-{session.id}@{site_host()}"


def changes_of(sessions: Sequence[OfferSession]) -> Counter[int]:
    """How often each session got a new time or place, from the audit trail (one query)."""
    offer_ids = {session.offer_id for session in sessions}
    wanted = {session.id for session in sessions}
    counted: Counter[int] = Counter()
    if not offer_ids:
        return counted
    details = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == SESSION_CHANGED, AuditEvent.offer_id.in_(offer_ids))
    )
    for detail in details:
        session_id = detail.get("session") if isinstance(detail, dict) else None
        if session_id in wanted:
            counted[session_id] += 1
    return counted


def sequence_of(session: OfferSession, changes: Counter[int]) -> int:
    """The event's SEQUENCE: one more for every new time or place, and one more once cancelled."""
    return changes[session.id] + (1 if session.is_cancelled else 0)


def _organizer() -> vCalAddress:
    """The sender of the e-mails (RFC 5546 asks for an ORGANIZER in PUBLISH and CANCEL)."""
    name, address = parseaddr(str(current_app.config["MAIL_FROM"]))
    organizer = vCalAddress(f"mailto:{address or 'noreply@' + site_host()}")
    organizer.params["cn"] = vText(name or "einstein")
    return organizer


def _event(session: OfferSession, locale: str, changes: Counter[int], cancel: bool) -> Event:
    offer = session.offer
    title, description = offer.text_in(locale)
    event = Event()
    event.add("uid", event_uid(session))
    event.add("dtstamp", utcnow())
    event.add("sequence", sequence_of(session, changes))
    event.add("organizer", _organizer())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", title)
    url = external_url("courses.offer_detail", offer_id=offer.id, lang=locale)
    event.add("description", f"{description}\n\n{url}".strip())
    event.add("url", url)
    if session.place is not None:
        event.add("location", session.place.one_line)
    event.add("status", "CANCELLED" if cancel or session.is_cancelled else "CONFIRMED")
    return event


def calendar_bytes(sessions: Iterable[OfferSession], name: str, locale: str, method: str = PUBLISH) -> bytes:
    """A calendar holding one event per session: to keep (PUBLISH), or to take out (CANCEL, as a
    cancelled booking's or session's e-mail carries it)."""
    listed = list(sessions)
    changes = changes_of(listed)
    calendar = Calendar()
    calendar.add("prodid", "-//einstein//Utrecht//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for session in listed:
        calendar.add_component(_event(session, locale, changes, cancel=method == CANCEL))
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical() unannotated
    return ical
