"""The desk: coordinators find or register people, book them in, and cancel for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.auth import reach
from einstein.auth import services as accounts
from einstein.auth.models import Audience, User
from einstein.auth.names import name_key, word_keys
from einstein.auth.phones import normalise_phone
from einstein.bookings import services
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.bounds import as_id
from einstein.courses.models import Offer, OfferKind, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, utcnow
from einstein.notifications.channels import CALL

#: Courses, or activity sessions, on one page of the desk's list.
PAGE_SIZE = 8
#: Likely duplicates shown when registering someone (the closest first).
DUPLICATES_SHOWN = 10

_Row = TypeVar("_Row")


# --- what the desk can book ------------------------------------------------------------------------


@dataclass
class CourseRow:
    """A course on the desk's list: one booking gives a place in all its sessions still to come."""

    offer: Offer
    #: the first of its sessions that has not ended (it may be under way)
    next_start: datetime
    #: its scheduled sessions that have not ended
    sessions_left: int

    @property
    def key(self) -> str:
        return f"offer-{self.offer.id}"


@dataclass
class Page(Generic[_Row]):
    """One page of a list, and whether there is a next one."""

    rows: list[_Row]
    number: int
    has_next: bool


def session_key(session: OfferSession) -> str:
    """The key of an activity session on the desk's list."""
    return f"session-{session.id}"


def _title_filter(query: str | None) -> list[sa.ColumnElement[bool]]:
    """Every word of the search somewhere in an offer's titles or description (any language)."""
    return [Offer.search_text.contains(word, autoescape=True) for word in (query or "").lower().split()[:8]]


def bookable_courses(query: str | None, page: int) -> Page[CourseRow]:
    """Published courses with a session still to end, the soonest first, whose words match ``query``."""
    now = utcnow()
    coming = (
        sa.select(
            OfferSession.offer_id,
            sa.func.min(OfferSession.starts_at).label("next_start"),
            sa.func.count().label("sessions_left"),
        )
        .where(OfferSession.status == SessionStatus.SCHEDULED, OfferSession.ends_at > now)
        .group_by(OfferSession.offer_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Offer, coming.c.next_start, coming.c.sessions_left)
        .join(coming, coming.c.offer_id == Offer.id)
        .where(Offer.kind == OfferKind.COURSE, Offer.status == OfferStatus.PUBLISHED, *_title_filter(query))
        .options(selectinload(Offer.translations), joinedload(Offer.location))
        .order_by(coming.c.next_start, Offer.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    found = [CourseRow(offer, next_start, int(left)) for offer, next_start, left in rows]
    return Page(found[:PAGE_SIZE], page, len(found) > PAGE_SIZE)


def bookable_sessions(query: str | None, page: int) -> Page[OfferSession]:
    """Activity sessions not yet ended, the soonest first, whose offer's words match ``query``."""
    sessions = list(
        db.session.scalars(
            sa.select(OfferSession)
            .join(OfferSession.offer)
            .where(
                Offer.kind == OfferKind.ACTIVITY,
                Offer.status == OfferStatus.PUBLISHED,
                OfferSession.status == SessionStatus.SCHEDULED,
                OfferSession.ends_at > utcnow(),  # sessions under way too: someone may walk in
                *_title_filter(query),
            )
            .options(
                contains_eager(OfferSession.offer).options(
                    selectinload(Offer.translations), joinedload(Offer.location)
                ),
                joinedload(OfferSession.location),
            )
            .order_by(OfferSession.starts_at, OfferSession.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return Page(sessions[:PAGE_SIZE], page, len(sessions) > PAGE_SIZE)


def booked_keys(person: User) -> set[str]:
    """The desk keys of what the person holds a place in, or waits for."""
    rows = db.session.execute(
        sa.select(Booking.offer_id, Booking.session_id).where(
            Booking.user_id == person.id, Booking.status != BookingStatus.CANCELLED
        )
    )
    return {f"session-{session_id}" if session_id else f"offer-{offer_id}" for offer_id, session_id in rows}


def target_from_key(key: str) -> Target | None:
    """Turn a desk list key ("offer-12", "session-34") back into what it books."""
    kind, _, raw_id = (key or "").partition("-")
    target_id = as_id(raw_id)
    if target_id is None:
        return None
    if kind == "offer":
        offer = db.session.get(Offer, target_id)
        return Target(offer, None) if offer is not None and offer.is_course else None
    if kind == "session":
        session = db.session.get(OfferSession, target_id)
        return Target(session.offer, session) if session is not None and not session.offer.is_course else None
    return None


# --- people ----------------------------------------------------------------------------------------


def register_at_desk(
    coordinator: User, *, name: str, phone: str | None, email: str | None, locale: str, audience: Audience
) -> User:
    """Make an account for someone at the desk, recording who took their consent and when."""
    person = accounts.register(
        name, email=email, phone=phone, password=None, locale=locale, audience=audience, at_desk=True
    )
    person.consent_recorded_by_id = coordinator.id
    person.consent_recorded_at = utcnow()
    return person


def likely_duplicates(
    name: str, *, phone: str | None = None, email: str | None = None, but_not: User | None = None
) -> list[User]:
    """People who may be this person already: the same name (case, spaces and accents aside),
    the same phone number (also one waiting for its code) or the same e-mail address.

    The ones sharing a number or an address come first: a name can be shared by two people.
    """
    contact: list[sa.ColumnElement[bool]] = []
    if phone:
        contact += [User.phone == phone, User.pending_phone == phone]
    email = accounts.normalise_email(email)
    if email:
        contact += [User.email == email, User.pending_email == email]
    key = name_key(name)
    same = [*contact, User.name_key == key] if key else contact
    if not same:
        return []
    shares_contact = sa.or_(*contact) if contact else sa.false()
    query = (
        sa.select(User)
        .where(sa.or_(*same))
        .order_by(sa.case((shares_contact, 0), else_=1), User.id)
        .limit(DUPLICATES_SHOWN)
    )
    if but_not is not None:
        query = query.where(User.id != but_not.id)
    return list(db.session.scalars(query))


def coming_counts(people: list[User]) -> dict[int, int]:
    """How many active bookings each person has, to tell two people apart at a glance."""
    if not people:
        return {}
    rows = db.session.execute(
        sa.select(Booking.user_id, sa.func.count())
        .where(Booking.user_id.in_([p.id for p in people]), Booking.status != BookingStatus.CANCELLED)
        .group_by(Booking.user_id)
    )
    return {user_id: int(count) for user_id, count in rows if user_id is not None}


def find_participants(query: str, limit: int = 20) -> list[User]:
    """Find people by name (every word, case and accents aside), phone or e-mail for the desk."""
    needle = query.strip().lower()
    conditions: list[sa.ColumnElement[bool]] = [
        sa.func.lower(User.name).contains(needle, autoescape=True),
        User.email.contains(needle, autoescape=True),
    ]
    keys = word_keys(query)[:8]
    if keys:
        conditions.append(sa.and_(*(User.name_key.contains(key, autoescape=True) for key in keys)))
    phone = normalise_phone(query)
    if phone:
        conditions.append(User.phone == phone)
    found = sa.select(User).where(sa.or_(*conditions)).order_by(User.name, User.id).limit(limit)
    return list(db.session.scalars(found))


# --- cancelling for someone --------------------------------------------------------------------------


@dataclass
class CancelledAtDesk:
    """What the coordinator is told after cancelling for someone."""

    name: str
    was_waiting: bool
    #: how the person hears of it ("by text message"), or None: nothing is sent, tell them now
    told: str | None


def cancel_at_desk(booking: Booking, *, by: User, they_asked: bool, seen: str | None = None) -> CancelledAtDesk:
    """Cancel someone's place (or waiting-list place) at the desk.

    When they asked for it themselves (standing at the desk, on the phone) their message says
    "cancelled, as you asked", and someone einstein cannot reach is not put on the call list to
    hear what they said themselves. Otherwise it is the organiser's cancellation. Either way it
    goes into the audit trail, and a freed place goes to the waiting list. ``seen`` is the state
    the coordinator's page showed: if the booking changed since, nothing is done (``BookingChangedError``).
    """
    person = booking.user
    if person is None:  # erased: nobody to cancel for (the view shows only active bookings)
        raise BookingError("already_cancelled")
    reason = CancelReason.PARTICIPANT if they_asked else CancelReason.ORGANISER
    if they_asked and Target.of_booking(booking).has_started:
        reason = CancelReason.ORGANISER  # the desk may still end a place once it has begun
    was_waiting = booking.status == BookingStatus.WAITLISTED
    services.cancel(booking, reason=reason, by=by, seen=seen)
    channel = reach.channel_for(person)
    told = None if channel == CALL and reason == CancelReason.PARTICIPANT else reach.told_about(person)
    return CancelledAtDesk(person.name, was_waiting, told)
