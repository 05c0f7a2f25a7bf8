"""Reading bookings: a person's bookings, waiting-list places, who is booked, calendar feeds."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload

from einstein.auth.models import User
from einstein.bookings.models import REFERENCE_ALPHABET, Booking, BookingStatus
from einstein.bookings.targets import Target
from einstein.courses.models import Offer, OfferKind, OfferSession, OfferTranslation
from einstein.db import children_of, db, load_unloaded, utcnow


def waitlist_place(booking: Booking) -> int | None:
    """Return the person's place on the waiting list (1 is next), or None if not waiting."""
    if booking.status != BookingStatus.WAITLISTED or booking.waitlist_position is None:
        return None
    target = Target.of_booking(booking)
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(
            target.booking_filter(),
            Booking.status == BookingStatus.WAITLISTED,
            Booking.waitlist_position < booking.waitlist_position,
        )
    )
    return int(ahead or 0) + 1


def upcoming_bookings_of(user: User) -> list[Booking]:
    """Return the person's active bookings for what has not ended yet."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id == user.id, Booking.status != BookingStatus.CANCELLED)
        .options(joinedload(Booking.session), joinedload(Booking.offer).selectinload(Offer.sessions))
    ).unique()
    return [booking for booking in bookings if booking.upcoming_sessions]


def by_reference(reference: str) -> Booking | None:
    """Find a booking by the reference on its card (any case, with or without the dash)."""
    cleaned = "".join(ch for ch in reference.upper() if ch.isalnum())[:8]
    if len(cleaned) != 8 or any(ch not in REFERENCE_ALPHABET for ch in cleaned):
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.reference == f"{cleaned[:4]}-{cleaned[4:]}"))


@dataclass
class MyBookings:
    """A person's bookings, split into what is coming and what is over."""

    upcoming: list[Booking]
    #: the latest of what is over or cancelled, newest first (all of it if asked)
    past: list[Booking]
    #: booking id -> place on the waiting list
    positions: dict[int, int]
    #: how many are over or cancelled in all
    past_total: int = 0


#: Past and cancelled bookings "my bookings" shows before "show all".


PAST_SHOWN = 20


@functools.cache
def _bookings_statements(past_limit: int | None, language: str) -> tuple[sa.Select[Booking, bool], sa.Select[int]]:
    """The statements of ``bookings_of``, made once for each limit and language (building them
    cost about as much as running them): the bookings shown, each with whether it is coming; and
    how many are over or cancelled. Parameters: ``user_id``, ``now``."""
    now: sa.BindParameter[datetime] = sa.bindparam("now")
    session_end = sa.select(OfferSession.ends_at).where(OfferSession.id == Booking.session_id).scalar_subquery()
    course_end = (
        sa.select(sa.func.max(OfferSession.ends_at)).where(OfferSession.offer_id == Booking.offer_id).scalar_subquery()
    )
    last_end = sa.func.coalesce(
        sa.case((Booking.session_id.is_not(None), session_end), else_=course_end), Booking.created_at
    )
    coming = sa.and_(Booking.status != BookingStatus.CANCELLED, last_end > now)
    # the person's own bookings and their household members' (who have no account of their own),
    # as one IN on the indexed user_id: "theirs OR their household's" made PostgreSQL read every
    # booking of everyone (35 ms at 42,000 bookings, and growing with them)
    user_id: sa.BindParameter[int] = sa.bindparam("user_id")
    people = sa.select(User.id).where(sa.or_(User.id == user_id, User.household_of_id == user_id))
    mine = Booking.user_id.in_(people)
    older = sa.select(Booking.id).where(mine, sa.not_(coming)).order_by(Booking.created_at.desc(), Booking.id.desc())
    shown = sa.or_(coming, Booking.id.in_(older if past_limit is None else older.limit(past_limit)))
    # the offers' texts in the language shown (a card asks for no other: ``Offer.text_for``): an
    # offer has at most one, so it is joined, not read by a statement of its own
    texts = joinedload(Offer.translations.and_(OfferTranslation.locale == language))
    bookings = (
        sa.select(Booking, coming)
        .where(mine, shown)
        .options(
            joinedload(Booking.offer).options(texts, joinedload(Offer.location)),
            joinedload(Booking.session).joinedload(OfferSession.location),
        )
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    return bookings, sa.select(sa.func.count()).where(mine, sa.not_(coming))


def bookings_of(user: User, language: str, past_limit: int | None = PAST_SHOWN) -> MyBookings:
    """A person's coming bookings, and the latest ``past_limit`` of the others (None: all of them),
    their offers with their texts in ``language`` (the one they are shown in).

    A booking is coming while it is active and its last session (a course's last) has not
    ended. One query loads what is shown, with its offers and sessions; a second counts the
    past bookings, only when there are more than are shown.
    """
    now = utcnow()
    parameters = {"user_id": user.id, "now": now}
    shown, past_count = _bookings_statements(past_limit, language)
    upcoming: list[Booking] = []
    past: list[Booking] = []
    for booking, is_coming in db.session.execute(shown, parameters).unique():
        (upcoming if is_coming else past).append(booking)
    _load_course_sessions([b.offer for b in upcoming + past if b.session_id is None])
    upcoming.sort(key=lambda b: next_session_start(b) or now)
    total = len(past)
    if past_limit is not None and total >= past_limit:  # there may be more: count them
        total = db.session.scalar(past_count, parameters) or 0
    positions = waitlist_places([b for b in upcoming if b.status == BookingStatus.WAITLISTED])
    return MyBookings(upcoming, past, positions, total)


#: The sessions of some courses, with their places, in order (``load_unloaded``).
_COURSE_SESSIONS = children_of(
    sa.select(OfferSession).options(joinedload(OfferSession.location)).order_by(OfferSession.starts_at),
    OfferSession.offer_id,
)


def _load_course_sessions(offers: list[Offer]) -> None:
    """Load the sessions of these courses in one statement (a course card counts them and shows the
    next; its completion counts those held). An activity's card needs only its own session: the
    sessions of a weekly activity booked once are not read at all."""
    load_unloaded(offers, "sessions", _COURSE_SESSIONS)


def next_session_start(booking: Booking) -> datetime | None:
    """When the booking's next scheduled session starts (for a course, the next of its sessions)."""
    return min((s.starts_at for s in booking.upcoming_sessions), default=None)


def waitlist_places(waiting: list[Booking]) -> dict[int, int]:
    """Places on the waiting list for several bookings, in one query."""
    if not waiting:
        return {}
    ahead = sa.orm.aliased(Booking)
    mine = sa.orm.aliased(Booking)
    same_unit = sa.and_(
        ahead.offer_id == mine.offer_id,
        sa.or_(ahead.session_id == mine.session_id, sa.and_(ahead.session_id.is_(None), mine.session_id.is_(None))),
    )
    rows = db.session.execute(
        sa.select(mine.id, sa.func.count(ahead.id))
        .join(
            ahead,
            sa.and_(
                same_unit, ahead.status == BookingStatus.WAITLISTED, ahead.waitlist_position < mine.waitlist_position
            ),
            isouter=True,
        )
        .where(mine.id.in_([b.id for b in waiting]))
        .group_by(mine.id)
    )
    return {booking_id: int(count) + 1 for booking_id, count in rows}


def active_bookings_for_offer(user: Any, offer: Offer) -> dict[int | None, Booking]:
    """The person's active bookings on this offer, keyed by session id (None for the course).

    ``user`` is the person asking, signed in or not (``current_user``).
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = db.session.scalars(
        sa.select(Booking).where(
            Booking.user_id == user.id,
            Booking.offer_id == offer.id,
            Booking.status != BookingStatus.CANCELLED,
        )
    )
    return {booking.session_id: booking for booking in rows}


@dataclass
class OfferNow:
    """An offer as its page needs it per request when the page's shared part was kept: the
    offer's row (a course's places), its sessions' places, and the person's active bookings."""

    offer: Offer
    #: The activity's sessions asked for, by id ({} for a course: its places are on the course);
    #: None if one of them is gone (the page is then made afresh).
    sessions: dict[int, OfferSession] | None
    #: The person's active bookings on the course (key None) or on these sessions (their ids).
    mine: dict[int | None, Booking]


@functools.cache
def _offer_now_statement(signed_in: bool) -> sa.Select[*tuple[Any, ...]]:
    """The statement of ``offer_now``, made once (for visitors, and with the person's bookings).
    Parameters: ``offer_id``, ``session_ids`` (a list), ``user_id``."""
    activity_sessions = sa.and_(
        OfferSession.offer_id == Offer.id,
        Offer.kind == OfferKind.ACTIVITY,
        OfferSession.id.in_(sa.bindparam("session_ids", expanding=True)),
    )
    statement = (
        sa.select(Offer, OfferSession)
        .outerjoin(OfferSession, activity_sessions)
        .where(Offer.id == sa.bindparam("offer_id"))
        # the row comes once for each session: not its long texts, which the kept part shows
        .options(defer(Offer.description), defer(Offer.search_text), defer(Offer.covers))
    )
    if not signed_in:
        return statement
    theirs = sa.and_(
        Booking.offer_id == Offer.id,
        Booking.user_id == sa.bindparam("user_id"),
        Booking.status != BookingStatus.CANCELLED,
        sa.or_(Booking.session_id.is_(None), Booking.session_id == OfferSession.id),
    )
    return statement.add_columns(Booking).outerjoin(Booking, theirs)


def offer_now(offer_id: int, session_ids: tuple[int, ...], user: Any) -> OfferNow | None:
    """The offer, the places of the sessions with these ids and the bookings ``user`` (signed in
    or not: ``current_user``) holds on them, in one statement; None if there is no such offer."""
    signed_in = bool(getattr(user, "is_authenticated", False))
    parameters = {"offer_id": offer_id, "session_ids": list(session_ids)}
    if signed_in:
        parameters["user_id"] = user.id
    rows: list[Any] = list(db.session.execute(_offer_now_statement(signed_in), parameters))
    if not rows:
        return None
    offer = rows[0][0]
    sessions = {row[1].id: row[1] for row in rows if row[1] is not None}
    mine = {row[2].session_id: row[2] for row in rows if signed_in and row[2] is not None}
    complete = offer.is_course or len(sessions) == len(set(session_ids))
    return OfferNow(offer, sessions if complete else None, mine)


def people_on(target: Target) -> list[Booking]:
    """Who is booked and who waits, in order, for the organiser's list."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(target.booking_filter(), Booking.status != BookingStatus.CANCELLED)
            .options(joinedload(Booking.user))
            .order_by(Booking.status, Booking.waitlist_position, Booking.confirmed_at, Booking.id)
        )
    )


def feed_sessions(user: User) -> list[OfferSession]:
    """The sessions of a person's confirmed bookings and of their household's (the children a
    parent takes along), for their calendar feed (last month onwards)."""
    since = utcnow() - timedelta(days=31)
    household = sa.select(User.id).where(sa.or_(User.id == user.id, User.household_of_id == user.id))
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id.in_(household), Booking.status == BookingStatus.CONFIRMED)
        .options(
            joinedload(Booking.session).joinedload(OfferSession.location),
            joinedload(Booking.offer).selectinload(Offer.sessions).joinedload(OfferSession.location),
            joinedload(Booking.offer).selectinload(Offer.translations),
        )
    ).unique()
    sessions: dict[int, OfferSession] = {}
    for booking in bookings:
        for session in booking.sessions:
            if session.ends_at >= since:
                sessions[session.id] = session
    return sorted(sessions.values(), key=lambda s: s.starts_at)


def booked_on(session: OfferSession) -> list[Booking]:
    """The confirmed and waitlisted bookings a change to this session concerns."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                Target.of_session(session).booking_filter(),
                Booking.status != BookingStatus.CANCELLED,
                Booking.user_id.is_not(None),
            )
            .options(joinedload(Booking.user))
        )
    )


def people_booked(offer: Offer) -> int:
    """How many people hold a place or wait on this offer (whom a cancellation would tell)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Booking.user_id))).where(
                Booking.offer_id == offer.id, Booking.status != BookingStatus.CANCELLED
            )
        )
        or 0
    )
