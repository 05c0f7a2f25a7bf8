"""The rules of booking: places, the waiting list, and who gets the next free place.

Every change to a course's or a session's places happens here, under a lock on the row that
holds the places (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every writing transaction
begins IMMEDIATE, see ``einstein.db.configure_engine``). The counters on that row are only ever
changed under the same lock, so two people can never both get the last place.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from einstein import caching
from einstein.auth.models import Audience, User
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.bounds import as_id
from einstein.courses.models import Offer, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, utcnow
from einstein.notifications import reminders
from einstein.notifications import services as outbox
from einstein.notifications.models import NotificationKind

#: What a participant is told when a booking cannot be made, in one place.
ERRORS = {
    "not_public": _l("This offer is not open for booking."),
    "cancelled": _l("This session has been cancelled."),
    "started": _l("This has already started, so it can no longer be booked."),
    "no_sessions": _l("This course has no sessions left to book."),
    "full": _l("Sorry, this is full and there is no waiting list."),
    "full_offer_waitlist": _l("It just got full. You can join the waiting list: if a place comes free, it is yours."),
    "already_booked": _l("You already have a place."),
    "already_waitlisted": _l("You are already on the waiting list."),
    "wrong_kind": _l("A course is booked as a whole, not one session at a time."),
    "already_cancelled": _l("This booking was already cancelled."),
    "cancel_started": _l("This has already started, so the booking can no longer be cancelled here."),
    "capacity_below_booked": _l(
        "There are already %(booked)d people booked: the number of places cannot be lower than that."
    ),
}

#: Booking references avoid letters and digits that are easy to confuse (0/O, 1/I/L, 5/S, 2/Z).
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"


class BookingError(Exception):
    """A booking that cannot be made, with a message for the person."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values

    @property
    def message(self) -> str:
        return str(ERRORS[self.code]) % self.values if self.values else str(ERRORS[self.code])


@dataclass
class Target:
    """What is booked: a course (``session`` is None) or one session of an activity."""

    offer: Offer
    session: OfferSession | None

    @classmethod
    def of_session(cls, session: OfferSession) -> Target:
        """What gives a place at this session: the whole course for a course, else the session itself."""
        return cls(session.offer, None if session.offer.is_course else session)

    @property
    def unit(self) -> Offer | OfferSession:
        return self.session if self.session is not None else self.offer

    def booking_filter(self) -> sa.ColumnElement[bool]:
        if self.session is not None:
            return Booking.session_id == self.session.id
        return sa.and_(Booking.offer_id == self.offer.id, Booking.session_id.is_(None))


def new_reference() -> str:
    """Return a short, unambiguous booking reference such as ``K7MQ-4X9A``."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def _locking_places(query: sa.Select[Any], target: Target) -> sa.Select[Any]:
    """``query`` for the row that holds the places, locked (unless a test switched locks off)
    and read afresh from the database."""
    model = type(target.unit)
    query = query.where(model.id == target.unit.id).execution_options(populate_existing=True)
    if current_app.config.get("BOOKING_LOCKS", True):
        query = query.with_for_update(of=model)
    return query


def lock_places(target: Target) -> Offer | OfferSession:
    """Lock the row that holds the places and reload its counters from the database."""
    return db.session.execute(_locking_places(sa.select(type(target.unit)), target)).scalar_one()


def target_for(offer: Offer, session: OfferSession | None) -> Target:
    """Check that ``session`` belongs to ``offer`` and is the right thing to book."""
    if offer.is_course:
        return Target(offer, None)
    if session is None or session.offer_id != offer.id:
        raise BookingError("wrong_kind")
    return Target(offer, session)


def check_bookable(target: Target, *, at_desk: bool = False) -> None:
    """Refuse offers that are not public, cancelled sessions and what has started.

    At the desk or the door (``at_desk``) a coordinator or volunteer may still add someone to a
    session that is under way, or to a course that has begun, until its last session ends.
    """
    now = utcnow()
    if target.offer.status != OfferStatus.PUBLISHED:
        raise BookingError("not_public")
    if target.session is not None:
        if target.session.status == SessionStatus.CANCELLED:
            raise BookingError("cancelled")
        if (target.session.ends_at if at_desk else target.session.starts_at) <= now:
            raise BookingError("started")
        return
    upcoming = [s for s in target.offer.sessions if s.status == SessionStatus.SCHEDULED]
    if not upcoming:
        raise BookingError("no_sessions")
    if (upcoming[-1].ends_at if at_desk else upcoming[0].starts_at) <= now:
        raise BookingError("started")


def find_booking(user: User, target: Target) -> Booking | None:
    """Return the person's booking (in any state) for this course or session."""
    return db.session.scalar(sa.select(Booking).where(Booking.user_id == user.id, target.booking_filter()))


def lock_for_booking(user: User, model: type[Offer] | type[OfferSession], unit_id: int) -> Locked | None:
    """Load a course or a session, lock its places and find the person's booking, in one statement.

    None if there is no such course or session. A course's Target has no session (a booking
    form checks ``offer.is_course`` before booking a session).
    """
    query = _lock_for_booking_query(model, current_app.config.get("BOOKING_LOCKS", True))
    row = db.session.execute(query, {"user_id": user.id, "unit_id": unit_id}).one_or_none()
    if row is None:
        return None
    unit, booking = row
    target = Target(unit.offer, unit) if isinstance(unit, OfferSession) else Target(unit, None)
    return Locked(target, booking)


@functools.cache
def _lock_for_booking_query(model: type[Offer] | type[OfferSession], lock: bool) -> sa.Select[Any]:
    # built once: in a rush, building the statement anew cost as much as a database round trip
    person = Booking.user_id == sa.bindparam("user_id")
    if model is OfferSession:
        query = (
            sa.select(OfferSession, Booking)
            .join(OfferSession.offer)
            .outerjoin(Booking, sa.and_(person, Booking.session_id == OfferSession.id))
            .options(contains_eager(OfferSession.offer))
        )
    else:
        query = sa.select(Offer, Booking).outerjoin(
            Booking, sa.and_(person, Booking.offer_id == Offer.id, Booking.session_id.is_(None))
        )
    query = query.where(model.id == sa.bindparam("unit_id")).execution_options(populate_existing=True)
    return query.with_for_update(of=model) if lock else query


@dataclass
class Locked:
    """What is being booked, its places locked in this transaction, and the person's booking there."""

    target: Target
    booking: Booking | None


def book(
    user: User,
    target: Target,
    *,
    source: BookingSource = BookingSource.SELF,
    booked_by: User | None = None,
    waitlist: bool = True,
) -> Booking:
    """Give ``user`` a place, or a place on the waiting list, or raise BookingError.

    Counting and inserting happen under the lock on the places, so this holds with any number
    of web workers and machines.
    """
    locked = lock_for_booking(user, type(target.unit), target.unit.id)
    if locked is None:  # deleted since the caller loaded it
        raise BookingError("not_public")
    return book_locked(user, Locked(target, locked.booking), source=source, booked_by=booked_by, waitlist=waitlist)


def book_locked(
    user: User,
    locked: Locked,
    *,
    source: BookingSource = BookingSource.SELF,
    booked_by: User | None = None,
    waitlist: bool = True,
) -> Booking:
    """``book``, for a caller that holds the lock on the places already (``lock_for_booking``)."""
    target, booking = locked.target, locked.booking
    unit = target.unit
    check_bookable(target, at_desk=source != BookingSource.SELF)
    if booking is not None and booking.status == BookingStatus.CONFIRMED:
        raise BookingError("already_booked")
    if booking is not None and booking.status == BookingStatus.WAITLISTED:
        raise BookingError("already_waitlisted")

    now = utcnow()
    if unit.confirmed_count < unit.capacity:
        status, position = BookingStatus.CONFIRMED, None
        _count(unit, "confirmed_count", now)
    elif target.offer.waitlist_enabled and waitlist:
        status = BookingStatus.WAITLISTED
        last = db.session.scalar(sa.select(sa.func.max(Booking.waitlist_position)).where(target.booking_filter()))
        position = (last or 0) + 1
        _count(unit, "waitlist_count", now)
    else:
        raise BookingError("full")

    values = {
        "status": status,
        "waitlist_position": position,
        "audience": user.audience,
        "source": source,
        "booked_by_id": booked_by.id if booked_by is not None else None,
        "cancel_reason": None,
        "cancelled_at": None,
        "confirmed_at": now if status == BookingStatus.CONFIRMED else None,
    }
    new = booking is None
    if booking is None:
        booking = _insert_booking(user, target, values, now)
    else:  # booked again after cancelling: the same row
        for name, value in values.items():
            setattr(booking, name, value)
    if status == BookingStatus.CONFIRMED:
        _confirmed([booking], NotificationKind.BOOKING_CONFIRMED, new=new)
    else:
        outbox.queue(NotificationKind.BOOKING_WAITLISTED, user, booking=booking)
    return booking


def _count(unit: Offer | OfferSession, counter: str, now: datetime) -> None:
    """Add one to a counter of the locked ``unit``, in one UPDATE of its own.

    The booking rush's path, like ``_insert_booking``: SQLAlchemy's unit of work costs more
    than the statement. The object keeps the new count, and the catalogue cache is told.
    """
    table = type(unit).__table__
    count = getattr(unit, counter) + 1
    statement = table.update().where(table.c.id == sa.bindparam("unit_id"))
    db.session.execute(statement, {"unit_id": unit.id, counter: count, "updated_at": now})
    set_committed_value(unit, counter, count)
    caching.note_catalogue_change(db.session())


def _insert_booking(user: User, target: Target, values: dict[str, Any], now: datetime) -> Booking:
    """Write a new booking with one INSERT and return it as a persistent object, with no query.

    The object holds every column and its person, offer and session, as if it had been loaded.
    """
    columns = {
        "reference": new_reference(),
        "user_id": user.id,
        "offer_id": target.offer.id,
        "session_id": target.session.id if target.session is not None else None,
        "created_at": now,
        "updated_at": now,
        **values,
    }
    table = Booking.__table__
    # values as parameters, not in the statement: its compiled form then comes from the cache
    booking_id = db.session.execute(table.insert().returning(table.c.id), columns).scalar_one()
    booking = Booking(id=booking_id, **columns, user=user, offer=target.offer, session=target.session)
    make_transient_to_detached(booking)  # what was set counts as loaded from the database
    db.session.add(booking)
    return booking


def _confirmed(bookings: list[Booking], kind: NotificationKind, *, new: bool = False) -> None:
    """Plan the people's reminders and tell them their place is confirmed, in one INSERT.

    ``new`` bookings (written in this transaction) cannot have reminders yet: no need to look.
    """
    rows = []
    for booking in bookings:
        rows += reminders.reminder_rows(booking, new=new)
        if booking.user_id is not None:
            rows.append(outbox.row(kind, booking.user_id, booking=booking))
    outbox.add(rows)


def waitlist_place(booking: Booking) -> int | None:
    """Return the person's place on the waiting list (1 is next), or None if not waiting."""
    if booking.status != BookingStatus.WAITLISTED or booking.waitlist_position is None:
        return None
    target = Target(booking.offer, booking.session)
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


def target_of(booking: Booking) -> Target:
    """Return what ``booking`` holds a place in."""
    return Target(booking.offer, booking.session)


def has_started(target: Target) -> bool:
    """Return whether the session, or the course's first session, has begun."""
    now = utcnow()
    if target.session is not None:
        return target.session.starts_at <= now
    scheduled = [s for s in target.offer.sessions if s.status == SessionStatus.SCHEDULED]
    return bool(scheduled) and scheduled[0].starts_at <= now


def promote(target: Target, unit: Offer | OfferSession) -> list[Booking]:
    """Give free places to the waiting list in order; the caller holds the lock on ``unit``."""
    promoted: list[Booking] = []
    while unit.confirmed_count < unit.capacity and unit.waitlist_count > 0:
        waiting = db.session.scalar(
            sa.select(Booking)
            .where(target.booking_filter(), Booking.status == BookingStatus.WAITLISTED)
            .order_by(Booking.waitlist_position, Booking.id)
            .limit(1)
        )
        if waiting is None:  # counters drifted; never promote past the real list
            unit.waitlist_count = 0
            break
        waiting.status = BookingStatus.CONFIRMED
        waiting.waitlist_position = None
        waiting.confirmed_at = utcnow()
        unit.confirmed_count += 1
        unit.waitlist_count -= 1
        promoted.append(waiting)
    db.session.flush()
    _confirmed(promoted, NotificationKind.BOOKING_PROMOTED)
    return promoted


def _end(booking: Booking, reason: CancelReason, now: datetime) -> None:
    """Mark a booking cancelled and drop its reminders (the caller keeps the counters)."""
    booking.status = BookingStatus.CANCELLED
    booking.cancel_reason = reason
    booking.cancelled_at = now
    booking.waitlist_position = None
    reminders.cancel_for_booking(booking)


def cancel(booking: Booking, *, reason: CancelReason = CancelReason.PARTICIPANT, notify: bool = True) -> list[Booking]:
    """Cancel a booking or leave the waiting list; a freed place goes to the next in line.

    Returns the bookings promoted from the waiting list, in the same transaction.
    """
    target = target_of(booking)
    unit = lock_places(target)
    db.session.refresh(booking)
    if booking.status == BookingStatus.CANCELLED:
        raise BookingError("already_cancelled")
    if reason == CancelReason.PARTICIPANT and has_started(target):
        raise BookingError("cancel_started")
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    _end(booking, reason, utcnow())
    if notify and booking.user is not None:
        outbox.queue(
            NotificationKind.BOOKING_CANCELLED,
            booking.user,
            booking=booking,
            payload={"was": "confirmed" if was_confirmed else "waitlisted"},
        )
    if was_confirmed:
        unit.confirmed_count -= 1
        return promote(target, unit)
    unit.waitlist_count -= 1
    db.session.flush()
    return []


def change_capacity(target: Target, capacity: int) -> list[Booking]:
    """Set the places of a course or session; more places go to the waiting list at once.

    Fewer places than are booked is refused: nobody loses a confirmed place this way.
    """
    unit = lock_places(target)
    if capacity < unit.confirmed_count:
        raise BookingError("capacity_below_booked", booked=unit.confirmed_count)
    unit.capacity = capacity
    if target.session is None:
        for session in target.offer.sessions:
            session.capacity = capacity
    return promote(target, unit)


def end_all(target: Target, reason: CancelReason) -> list[Booking]:
    """End every booking of a cancelled course or session; the cancellation e-mail tells them."""
    unit = lock_places(target)
    ended = list(
        db.session.scalars(sa.select(Booking).where(target.booking_filter(), Booking.status != BookingStatus.CANCELLED))
    )
    now = utcnow()
    for booking in ended:
        _end(booking, reason, now)
    unit.confirmed_count = 0
    unit.waitlist_count = 0
    db.session.flush()
    return ended


def upcoming_bookings_of(user: User) -> list[Booking]:
    """Return the person's active bookings for what has not ended yet."""
    from sqlalchemy.orm import joinedload

    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id == user.id, Booking.status != BookingStatus.CANCELLED)
        .options(joinedload(Booking.session), joinedload(Booking.offer).selectinload(Offer.sessions))
    ).unique()
    return [booking for booking in bookings if booking.upcoming_sessions]


# --- reading bookings ----------------------------------------------------------------------------


def by_reference(reference: str) -> Booking | None:
    """Find a booking by the reference on its card (any case, with or without the dash)."""
    cleaned = "".join(ch for ch in reference.upper() if ch.isalnum())[:8]
    if len(cleaned) != 8 or any(ch not in REFERENCE_ALPHABET for ch in cleaned):
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.reference == f"{cleaned[:4]}-{cleaned[4:]}"))


def can_manage_booking(user: User | object, booking: Booking) -> bool:
    """The person booked and coordinators may cancel a booking."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(booking.user_id == user.id or user.is_coordinator)  # type: ignore[attr-defined]


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


def bookings_of(user: User, past_limit: int | None = PAST_SHOWN) -> MyBookings:
    """A person's coming bookings, and the latest ``past_limit`` of the others (None: all of them).

    A booking is coming while it is active and its last session (a course's last) has not
    ended. One query loads what is shown, with its offers and sessions; a second counts the
    past bookings, only when there are more than are shown.
    """
    from sqlalchemy.orm import joinedload, selectinload

    now = utcnow()
    session_end = sa.select(OfferSession.ends_at).where(OfferSession.id == Booking.session_id).scalar_subquery()
    course_end = (
        sa.select(sa.func.max(OfferSession.ends_at)).where(OfferSession.offer_id == Booking.offer_id).scalar_subquery()
    )
    last_end = sa.func.coalesce(
        sa.case((Booking.session_id.is_not(None), session_end), else_=course_end), Booking.created_at
    )
    coming = sa.and_(Booking.status != BookingStatus.CANCELLED, last_end > now)
    mine = Booking.user_id == user.id
    older = sa.select(Booking.id).where(mine, sa.not_(coming)).order_by(Booking.created_at.desc(), Booking.id.desc())
    shown = sa.or_(coming, Booking.id.in_(older if past_limit is None else older.limit(past_limit)))
    rows = db.session.execute(
        sa.select(Booking, coming)
        .where(mine, shown)
        .options(
            joinedload(Booking.offer).options(selectinload(Offer.translations), joinedload(Offer.location)),
            joinedload(Booking.offer).selectinload(Offer.sessions).joinedload(OfferSession.location),
            joinedload(Booking.session).joinedload(OfferSession.location),
        )
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    ).unique()
    upcoming, past = [], []
    for booking, is_coming in rows:
        (upcoming if is_coming else past).append(booking)
    upcoming.sort(key=lambda b: next_session_start(b) or now)
    total = len(past)
    if past_limit is not None and total >= past_limit:  # there may be more: count them
        total = db.session.scalar(sa.select(sa.func.count()).where(mine, sa.not_(coming))) or 0
    positions = waitlist_places([b for b in upcoming if b.status == BookingStatus.WAITLISTED])
    return MyBookings(upcoming, past, positions, total)


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


def active_bookings_for_offer(user: User | object, offer: Offer) -> dict[int | None, Booking]:
    """The person's active bookings on this offer, keyed by session id (None for the course)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = db.session.scalars(
        sa.select(Booking).where(
            Booking.user_id == user.id,
            Booking.offer_id == offer.id,
            Booking.status != BookingStatus.CANCELLED,  # type: ignore[attr-defined]
        )
    )
    return {booking.session_id: booking for booking in rows}


def people_on(target: Target) -> list[Booking]:
    """Who is booked and who waits, in order, for the organiser's list."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(target.booking_filter(), Booking.status != BookingStatus.CANCELLED)
            .options(joinedload(Booking.user))
            .order_by(Booking.status, Booking.waitlist_position, Booking.confirmed_at, Booking.id)
        )
    )


def feed_sessions(user: User) -> list[OfferSession]:
    """The sessions of a person's confirmed bookings, for their calendar feed (last month onwards)."""
    from datetime import timedelta

    from sqlalchemy.orm import joinedload

    since = utcnow() - timedelta(days=31)
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id == user.id, Booking.status == BookingStatus.CONFIRMED)
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


# --- links in e-mails ----------------------------------------------------------------------------

CANCEL_SALT = "einstein.cancel-booking"


def _state(booking: Booking) -> str:
    """A short digest that changes whenever the booking does (confirmed, promoted, cancelled,
    booked again): a link made for one state of the booking dies with it."""
    moments = (booking.created_at, booking.confirmed_at, booking.cancelled_at)
    text = booking.status.value + "|" + "|".join(m.isoformat() if m else "" for m in moments)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cancel_token(booking: Booking) -> str:
    """A signed token that lets the person cancel this booking from an e-mail without signing in."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CANCEL_SALT).dumps(
        [booking.id, booking.user_id, _state(booking)]
    )


def read_cancel_token(token: str) -> Booking | None:
    """Return the booking a cancel link is for, if the link is genuine and the booking is as it
    was when the link was made (same person, same state)."""
    if not token or len(token) > 256:
        return None
    try:
        booking_id, user_id, state = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CANCEL_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    booking = db.session.get(Booking, booking_id) if isinstance(booking_id, int) and 0 < booking_id < 2**31 else None
    if booking is None or booking.user_id is None or booking.user_id != user_id or state != _state(booking):
        return None
    return booking


# --- the desk ------------------------------------------------------------------------------------


@dataclass
class DeskTarget:
    """Something the desk can book: a course, or one activity session."""

    key: str
    label: str
    target: Target


def desk_targets(limit: int = 200) -> list[DeskTarget]:
    """Upcoming courses and activity sessions, soonest first, for the desk's list."""
    from einstein.courses.models import OfferKind
    from einstein.i18n import format_when

    now = utcnow()
    sessions = db.session.scalars(
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.ends_at > now,  # sessions under way too: someone may walk in
            Offer.status == OfferStatus.PUBLISHED,
        )
        .options(contains_eager(OfferSession.offer))
        .order_by(OfferSession.starts_at, OfferSession.id)
        .limit(limit)
    )
    targets: list[DeskTarget] = []
    seen_courses: set[int] = set()
    for session in sessions:
        offer = session.offer
        if offer.kind == OfferKind.COURSE:
            if offer.id in seen_courses:
                continue
            seen_courses.add(offer.id)
            unit: Offer | OfferSession = offer
            label = f"{offer.title} · {format_when(session.starts_at)} …"
            target = Target(offer, None)
            key = f"offer-{offer.id}"
        else:
            unit = session
            label = f"{offer.title} · {format_when(session.starts_at, session.ends_at)}"
            target = Target(offer, session)
            key = f"session-{session.id}"
        label += f" ({unit.free_places} / {unit.capacity})"
        targets.append(DeskTarget(key, label, target))
    return targets


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


def register_at_desk(
    coordinator: User, *, name: str, phone: str | None, email: str | None, locale: str, audience: Audience
) -> User:
    """Make an account for someone at the desk, recording who took their consent and when."""
    from einstein.auth import services as accounts

    person = accounts.register(name, email=email, phone=phone, password=None, locale=locale, audience=audience)
    person.consent_recorded_by_id = coordinator.id
    person.consent_recorded_at = utcnow()
    return person


def find_participants(query: str, limit: int = 20) -> list[User]:
    """Find people by name, phone or e-mail for the desk."""
    from einstein.auth.services import search_people

    return list(db.session.scalars(search_people(query).limit(limit)))
