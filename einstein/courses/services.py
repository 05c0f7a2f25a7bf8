"""The rules of the catalogue: making and changing offers and sessions.

What a change means for the people booked (their places, reminders and messages) is not
decided here but in ``einstein.bookings.operations``, which calls these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from einstein.audit import services as audit
from einstein.auth.models import Audience, User
from einstein.bounds import as_id
from einstein.courses import messages, translations
from einstein.courses.calendar import SESSION_CHANGED
from einstein.courses.errors import CatalogueError
from einstein.courses.models import (
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    Organisation,
    SessionLanguage,
    SessionStatus,
)
from einstein.courses.revisions import (
    apply_words,
    approve_place,
    drop_translation,
    held_for_review,
    propose,
    refresh_search_text,
    required_reason,
)
from einstein.courses.schedule import Schedule
from einstein.db import db, utcnow


@dataclass
class OfferData:
    """What an offer says, as the offer form gives it."""

    title: str
    description: str
    language: str
    category: Category
    dutch_level: DutchLevel
    languages: list[str]
    location: Location
    organisation: Organisation | None
    contact: str
    capacity: int
    waitlist_enabled: bool
    reminder_offsets: list[str]
    completion_threshold: int
    #: a free place from the waiting list waits for the person's yes, for at most this many hours
    promotion_hold: bool = False
    promotion_hours: int = 24
    #: what a course covers (for its certificates), in ``language``
    covers: str = ""
    #: places held for the mix: how many, for whom, until how many days before the start
    held_places: int = 0
    held_for: Audience = Audience.NEIGHBOUR
    held_days: int = 7


def find_or_add_place(
    location_id: str | None, name: str | None, address: str | None, postcode: str | None, step_free: bool
) -> Location:
    """Return the chosen place, or the new place described (reusing one with the same name and street).

    A new place is not approved: it reaches participants once someone who may publish uses it.
    """
    if name and address:
        place = db.session.scalar(sa.select(Location).where(Location.name == name, Location.address == address))
        if place is None:
            place = Location(name=name, address=address, postcode=postcode or None, step_free=step_free)
            db.session.add(place)
            db.session.flush()
        return place
    place_id = as_id(location_id)
    place = db.session.get(Location, place_id) if place_id is not None else None
    if place is None:
        raise CatalogueError(str(_l("Please choose a place, or fill in a new one.")), field="location_id")
    return place


def find_or_add_organisation(organisation_id: str | None, new_name: str | None) -> Organisation | None:
    """Return the chosen partner organisation, the new one named, or None."""
    if new_name:
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == new_name))
        if organisation is None:
            organisation = Organisation(name=new_name)
            db.session.add(organisation)
            db.session.flush()
        return organisation
    if organisation_id:
        chosen = as_id(organisation_id)
        organisation = db.session.get(Organisation, chosen) if chosen is not None else None
        if organisation is None:
            raise CatalogueError(
                str(_l("Please choose a partner organisation from the list.")), field="organisation_id"
            )
        return organisation
    return None


def _words(data: OfferData) -> dict[str, Any]:
    return {
        "title": data.title,
        "description": data.description,
        "language": data.language,
        "contact": data.contact,
        "location_id": data.location.id,
    }


def _apply_settings(offer: Offer, data: OfferData) -> None:
    offer.category = data.category
    offer.dutch_level = data.dutch_level
    offer.organisation = data.organisation
    offer.waitlist_enabled = data.waitlist_enabled
    offer.promotion_hold = data.promotion_hold
    offer.promotion_hours = data.promotion_hours
    offer.reminder_offsets = list(data.reminder_offsets)
    offer.completion_threshold = data.completion_threshold
    offer.covers = data.covers if offer.is_course else ""
    offer.held_for, offer.held_days = data.held_for, data.held_days
    # never above the places while they change (a CHECK): fewer at once, more once the places are
    # set (``bookings.operations.change_offer``)
    offer.held_places = min(offer.held_places, data.held_places)


def _apply(offer: Offer, data: OfferData) -> None:
    _apply_settings(offer, data)
    apply_words(offer, _words(data))


def _new_sessions(offer: Offer, schedule: Schedule, languages: list[str]) -> list[OfferSession]:
    sessions = []
    for starts_at, ends_at in schedule.times():
        session = OfferSession(starts_at=starts_at, ends_at=ends_at, location=offer.location, capacity=offer.capacity)
        session.languages = [SessionLanguage(language=code) for code in languages]
        offer.sessions.append(session)
        sessions.append(session)
    return sessions


def create_offer(creator: User, kind: OfferKind, data: OfferData, schedule: Schedule) -> Offer:
    """Add a course or an activity with its sessions.

    Coordinators publish at once; a volunteer's activity waits for approval unless the volunteer
    is trusted.
    """
    if kind == OfferKind.COURSE and not creator.is_coordinator:
        raise CatalogueError(str(_l("Only coordinators can publish courses.")))
    publish = creator.is_coordinator or creator.trusted
    offer = Offer(
        kind=kind,
        status=OfferStatus.PUBLISHED if publish else OfferStatus.PENDING,
        organiser=creator,
        capacity=data.capacity,
        held_places=data.held_places,
    )
    _apply_settings(offer, data)
    offer.title, offer.description, offer.language = data.title, data.description, data.language
    offer.contact, offer.location = data.contact, data.location
    refresh_search_text(offer)
    if publish:
        offer.approved_by_id = creator.id
        offer.approved_at = utcnow()
        approve_place(offer.location)
    _new_sessions(offer, schedule, data.languages)
    db.session.add(offer)
    db.session.flush()
    return offer


def future_sessions(offer: Offer) -> list[OfferSession]:
    """The scheduled sessions of an offer that have not started."""
    now = utcnow()
    return [s for s in offer.sessions if s.starts_at > now and s.status == SessionStatus.SCHEDULED]


def update_offer(offer: Offer, data: OfferData, editor: User) -> bool:
    """Change what an offer says and how it runs; return True when its new words wait for review.

    The waiting list, reminder times and languages change at once. The words and the place
    change at once only for those who may publish: for others the approved version stays
    online and the change waits as a revision. (The places and the reminders of the people
    booked follow in ``bookings.operations.change_offer``.)
    """
    _apply_settings(offer, data)
    held = held_for_review(offer, editor)
    if held:
        held = propose(offer, editor, _words(data))
    else:
        apply_words(offer, _words(data))
    for session in future_sessions(offer):
        if sorted(session.language_codes) != sorted(data.languages):
            session.languages = [SessionLanguage(language=code) for code in data.languages]
    return held


def add_sessions(offer: Offer, schedule: Schedule) -> list[OfferSession]:
    """Add more sessions to an offer, with the offer's place, places and languages."""
    languages = next((s.language_codes for s in reversed(offer.sessions) if s.languages), ["nl"])
    sessions = _new_sessions(offer, schedule, languages)
    db.session.flush()
    return sessions


@dataclass
class SessionChange:
    """What changing a session did: moved, to another place, and how it was before."""

    moved: bool
    relocated: bool
    #: the old time and place, for the message to the people booked
    before: dict[str, str]
    #: the languages spoken changed (nobody is told of that)
    languages: bool = False

    @property
    def anything(self) -> bool:
        return self.moved or self.relocated or self.languages


def update_session(
    session: OfferSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    location: Location,
    languages: list[str],
    editor: User,
) -> SessionChange:
    """Move a session, change its place or languages.

    A new time takes effect at once, from anyone who manages the offer: it is no text that could
    mislead, and people booked must hear of it now, not after a review. A place is words (a name
    and an address): someone whose words wait for review may only move a session of a public
    offer to a place a coordinator has already let through.
    """
    if session.is_cancelled:
        raise CatalogueError(str(_l("This session is cancelled and cannot be changed.")))
    if location.id != session.location_id and not location.is_approved:
        if held_for_review(session.offer, editor):
            message = _l("A new place needs a coordinator's approval first. Choose a place from the list, or ask one.")
            raise CatalogueError(str(message), field="location_id")
        approve_place(location)
    before = {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "place": session.place.one_line if session.place else "",
    }
    # the form speaks in minutes: a time stored with seconds is not "moved" by saving it unchanged
    moved = (starts_at, ends_at) != (_to_the_minute(session.starts_at), _to_the_minute(session.ends_at))
    if moved and starts_at <= utcnow() < session.starts_at:
        raise CatalogueError(
            str(_l("This time has already passed. Choose a day and time still to come, or cancel the session.")),
            field="day",
        )
    relocated = location.id != session.location_id
    if moved:
        session.starts_at, session.ends_at = starts_at, ends_at
    session.location = location
    if moved or relocated:
        # what a calendar shows changed: the event's SEQUENCE grows with it (courses.calendar)
        audit.record(SESSION_CHANGED, actor_id=editor.id, offer_id=session.offer_id, session=session.id, was=before)
    spoken = sorted(session.language_codes) != sorted(languages)
    if spoken:
        session.languages = [SessionLanguage(language=code) for code in languages]
    return SessionChange(moved, relocated, before, spoken)


def _to_the_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def cancel_session(session: OfferSession) -> None:
    """Mark one session cancelled (``bookings.operations`` ends its bookings and tells people)."""
    if session.is_cancelled:
        raise CatalogueError(str(_l("This session was already cancelled.")))
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = utcnow()


def cancel_offer(offer: Offer) -> list[OfferSession]:
    """Mark a whole offer and its sessions still to come cancelled; return those sessions."""
    if offer.status == OfferStatus.CANCELLED:
        raise CatalogueError(str(_l("This was already cancelled.")))
    now = utcnow()
    offer.status = OfferStatus.CANCELLED
    offer.cancelled_at = now
    cancelled = []
    for session in offer.sessions:
        if session.status == SessionStatus.SCHEDULED and session.ends_at > now:
            session.status = SessionStatus.CANCELLED
            session.cancelled_at = now
            cancelled.append(session)
    return cancelled


def _decide(offer: Offer, coordinator: User, status: OfferStatus, refusal: Any) -> None:
    if offer.status != OfferStatus.PENDING:
        raise CatalogueError(str(refusal))
    offer.status = status
    offer.approved_by_id = coordinator.id
    offer.approved_at = utcnow()


def approve(offer: Offer, coordinator: User) -> None:
    """Publish a volunteer's activity, and the places it uses; the volunteer is told."""
    _decide(offer, coordinator, OfferStatus.PUBLISHED, _l("Only activities waiting for approval can be approved."))
    approve_place(offer.location)
    for session in offer.sessions:
        approve_place(session.location)
    offer.rejection_reason = ""
    messages.tell_offer_decided(offer)


def reject(offer: Offer, coordinator: User, reason: str) -> None:
    """Do not publish a volunteer's activity (it stays visible to its volunteer), and tell the
    volunteer why: a no without a reason is refused."""
    reason = required_reason(reason)
    _decide(offer, coordinator, OfferStatus.REJECTED, _l("Only activities waiting for approval can be declined."))
    offer.rejection_reason = reason
    messages.tell_offer_decided(offer)


def set_translation(offer: Offer, locale: str, title: str, description: str, editor: User) -> bool:
    """Add or change the offer's text in another language; return True when it waits for review
    (as a translation of its own, decided apart from other changes: see ``translations``)."""
    return translations.write(offer, locale, title, description, editor)


def remove_translation(offer: Offer, locale: str, editor: User) -> bool:
    """Remove the offer's text in one language; return True when that waits for review."""
    if held_for_review(offer, editor):
        return propose(offer, editor, translations={locale: None})
    drop_translation(offer, locale)
    return False
