"""What a change to the catalogue means for the people booked: their places, their reminders,
and the messages that tell them. All in the caller's transaction, by explicit calls.

The catalogue (``einstein.courses``) changes offers and sessions and knows nothing of bookings;
this area owns the consequences, as indico keeps such rules in an ``operations`` module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from einstein.auth.models import User
from einstein.bookings import reminders
from einstein.bookings import services as places
from einstein.bookings.errors import BookingError
from einstein.bookings.messages import BookingMessage, row_for
from einstein.bookings.models import Booking, BookingStatus, CancelReason
from einstein.bookings.queries import booked_on
from einstein.bookings.targets import Target
from einstein.courses import services as offers
from einstein.courses.errors import CatalogueError
from einstein.courses.models import Location, Offer, OfferKind, OfferSession
from einstein.courses.schedule import Schedule
from einstein.db import db
from einstein.notifications import outbox


@dataclass(frozen=True)
class SessionEdit:
    """What saving a session's form did."""

    #: anything at all (time, place, places, languages)
    changed: bool
    #: the people booked were told (a new time or place)
    told: bool


def _places(target: Target, capacity: int) -> None:
    try:
        places.change_capacity(target, capacity)
    except BookingError as error:
        raise CatalogueError(error.message, field="capacity") from error


def create_offer(creator: User, kind: OfferKind, data: offers.OfferData, schedule: Schedule) -> Offer:
    """Add a course or an activity with its sessions (nobody is booked yet: nothing follows)."""
    return offers.create_offer(creator, kind, data, schedule)


def change_offer(offer: Offer, data: offers.OfferData, editor: User) -> bool:
    """Change an offer and its places; return True when its new words wait for a coordinator.

    More places go to the waiting list at once, fewer than are booked are refused, and new
    reminder times are planned for everyone booked.
    """
    offsets_before = list(offer.reminder_offsets or [])
    held = offers.update_offer(offer, data, editor)
    if offer.is_course:
        _places(Target(offer, None), data.capacity)
    else:
        offer.capacity = data.capacity
        for session in offers.future_sessions(offer):
            _places(Target(offer, session), data.capacity)
    offer.held_places = data.held_places  # now that the places are set (the form keeps it within)
    db.session.flush()
    if list(offer.reminder_offsets) != offsets_before:
        reminders.replan_offer(offer)
    return held


def add_sessions(offer: Offer, schedule: Schedule) -> list[OfferSession]:
    """Add sessions; for a course, everyone booked gets its reminders."""
    sessions = offers.add_sessions(offer, schedule)
    if offer.is_course:
        for session in sessions:
            reminders.plan_for_session(session)
    return sessions


def change_session(
    session: OfferSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    location: Location,
    capacity: int | None,
    languages: list[str],
    editor: User,
) -> SessionEdit:
    """Move a session, change its place, places or languages; tell the people booked.

    Says whether anything changed and whether the people booked were told (of a new time or
    place). Their reminders move with the session.
    """
    change = offers.update_session(
        session, starts_at=starts_at, ends_at=ends_at, location=location, languages=languages, editor=editor
    )
    resized = False
    if capacity is not None and not session.offer.is_course and capacity != session.capacity:
        _places(Target(session.offer, session), capacity)
        resized = True
    db.session.flush()
    if not (change.moved or change.relocated):
        return SessionEdit(changed=change.anything or resized, told=False)
    if change.moved:
        reminders.reschedule_session(session)
    outbox.add(
        [
            row_for(BookingMessage.SESSION_CHANGED, booking, session_id=session.id, payload=change.before)
            for booking in booked_on(session)
            if booking.user_id is not None
        ]
    )
    return SessionEdit(changed=True, told=True)


def cancel_session(session: OfferSession, message: str = "") -> int:
    """Cancel one session: its bookings end (activities), everyone booked is told. Returns how many."""
    offers.cancel_session(session)
    affected = booked_on(session)
    if not session.offer.is_course:
        places.end_all(Target(session.offer, session), CancelReason.SESSION_CANCELLED)
    reminders.cancel_for_session(session)
    outbox.add(
        [
            row_for(BookingMessage.SESSION_CANCELLED, booking, session_id=session.id, payload={"message": message})
            for booking in affected
            if booking.user_id is not None
        ]
    )
    db.session.flush()
    return len(affected)


def cancel_offer(offer: Offer, message: str = "") -> int:
    """Cancel a whole offer: every session, every booking; each person booked is told once."""
    active = list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.offer_id == offer.id, Booking.status != BookingStatus.CANCELLED)
            .options(joinedload(Booking.user))
        )
    )
    cancelled = offers.cancel_offer(offer)
    for session in cancelled:
        reminders.cancel_for_session(session)
    targets = [Target(offer, None)] if offer.is_course else [Target(offer, session) for session in cancelled]
    for target in targets:
        places.end_all(target, CancelReason.OFFER_CANCELLED)
    first: dict[int, Booking] = {}  # each person is told once, about their first booking
    for booking in active:
        if booking.user_id is not None:
            first.setdefault(booking.user_id, booking)
    outbox.add(
        [row_for(BookingMessage.OFFER_CANCELLED, booking, payload={"message": message}) for booking in first.values()]
    )
    db.session.flush()
    return len(first)
