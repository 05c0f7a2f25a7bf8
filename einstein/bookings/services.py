"""The rules of booking: places, the waiting list, and who gets the next free place.

Every change to a course's or a session's places happens here, under a lock on the row that
holds the places (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every writing transaction
begins IMMEDIATE, see ``einstein.db.configure_engine``). The counters on that row are only ever
changed under the same lock, so two people can never both get the last place; the database
refuses a counter above the places or below nought (CHECK constraints) as a last line.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from einstein import caching
from einstein.audit import services as audit
from einstein.auth.models import User
from einstein.bookings import held, reminders
from einstein.bookings.errors import BookingChangedError, BookingError
from einstein.bookings.messages import BookingMessage, row_for
from einstein.bookings.models import REFERENCE_ALPHABET, Booking, BookingSource, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.courses.models import Offer, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, table_of, utcnow
from einstein.notifications import outbox
from einstein.notifications.channels import CALL


def new_reference() -> str:
    """Return a short, unambiguous booking reference such as ``K7MQ-4X9A``."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


_Unit = TypeVar("_Unit", bound=Offer | OfferSession)


def lock_row(unit: _Unit) -> _Unit:
    """Lock an offer's or a session's row (unless a test switched locks off) and read its
    counters afresh from the database."""
    model = type(unit)
    query = sa.select(model).where(model.id == unit.id).execution_options(populate_existing=True)
    if current_app.config.get("BOOKING_LOCKS", True):
        query = query.with_for_update(of=model)
    return db.session.execute(query).scalar_one()


def lock_places(target: Target) -> Offer | OfferSession:
    """Lock the row that holds the places and reload its counters from the database."""
    return lock_row(target.unit)


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
def _lock_for_booking_query(
    model: type[Offer] | type[OfferSession], lock: bool
) -> sa.Select[OfferSession, Booking] | sa.Select[Offer, Booking]:
    # built once: in a rush, building the statement anew cost as much as a database round trip
    person = Booking.user_id == sa.bindparam("user_id")
    query: sa.Select[OfferSession, Booking] | sa.Select[Offer, Booking]
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
    what: Target | Locked,
    *,
    source: BookingSource = BookingSource.SELF,
    booked_by: User | None = None,
    waitlist: bool = True,
    over_capacity: bool = False,
) -> Booking:
    """Give ``user`` a place, or a place on the waiting list, or raise BookingError.

    ``what`` is a course or session to lock now, or one ``lock_for_booking`` locked already
    (the booking form's one statement). Counting and inserting happen under the lock on the
    places, so this holds with any number of web workers and machines.

    ``over_capacity``: someone standing at the door of a full session is let in beyond the
    places (also from the waiting list) instead of refused: confirmed, marked ``over_capacity``
    and kept out of the counter, which never passes the places.
    """
    if isinstance(what, Locked):
        locked = what
    else:
        found = lock_for_booking(user, type(what.unit), what.unit.id)
        if found is None:  # deleted since the caller loaded it
            raise BookingError("not_public")
        locked = Locked(what, found.booking)
    target, booking = locked.target, locked.booking
    unit = target.unit
    check_bookable(target, at_desk=source != BookingSource.SELF)
    if booking is not None and booking.status == BookingStatus.CONFIRMED:
        raise BookingError("already_booked")
    from_waiting_list = booking is not None and booking.status == BookingStatus.WAITLISTED
    if from_waiting_list and not over_capacity:
        raise BookingError("already_waitlisted")

    now = utcnow()
    if from_waiting_list:
        _count(unit, "waitlist_count", now, -1)
    extra = False
    free = unit.confirmed_count < unit.capacity
    # a free place may be held for the mix, and not for this person (einstein.bookings.held)
    kept = held.held_back(target, unit, user.audience, now) if free else None
    if free and kept is None:
        status, position = BookingStatus.CONFIRMED, None
        _count(unit, "confirmed_count", now)
    elif over_capacity:
        status, position, extra = BookingStatus.CONFIRMED, None, True
    elif target.offer.waitlist_enabled and waitlist:
        status = BookingStatus.WAITLISTED
        last = db.session.scalar(sa.select(sa.func.max(Booking.waitlist_position)).where(target.booking_filter()))
        position = (last or 0) + 1
        _count(unit, "waitlist_count", now)
    elif kept is not None:
        raise held.refusal(kept, can_wait=target.offer.waitlist_enabled)
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
        "over_capacity": extra,
    }
    new = booking is None
    if booking is None:
        booking = _insert_booking(user, target, values, now)
    else:  # booked again after cancelling: the same row
        for name, value in values.items():
            setattr(booking, name, value)
    if booked_by is not None and booked_by.id != user.id:
        audit.record(
            "booking.made_for",
            actor_id=booked_by.id,
            subject_id=user.id,
            offer_id=target.offer.id,
            reference=booking.reference,
            source=source.value,
        )
    if status == BookingStatus.CONFIRMED:
        _confirmed([booking], BookingMessage.BOOKING_CONFIRMED, new=new)
    else:
        outbox.add([row_for(BookingMessage.BOOKING_WAITLISTED, booking)])
    return booking


def _count(unit: Offer | OfferSession, counter: str, now: datetime, step: int = 1) -> None:
    """Add ``step`` (one) to a counter of the locked ``unit``, in one UPDATE of its own.

    The booking rush's path, like ``_insert_booking``: SQLAlchemy's unit of work costs more
    than the statement. The object keeps the new count, and the catalogue cache is told, with
    whether the places filled up or came free (the "free places" listing changes only then).
    """
    before = getattr(unit, counter)
    count = before + step
    db.session.execute(_counter_update(type(unit)), {"unit_id": unit.id, counter: count, "updated_at": now})
    set_committed_value(unit, counter, count)
    flipped = counter == "confirmed_count" and (before < unit.capacity) != (count < unit.capacity)
    caching.note_places_changed(db.session(), unit.id if isinstance(unit, Offer) else unit.offer_id, flipped)


@functools.cache
def _counter_update(model: type[Offer] | type[OfferSession]) -> sa.Update:
    """``UPDATE`` of one offer's or session's row by its id (``unit_id``), the columns set given
    with the parameters: built once, like the lock's statement."""
    table = table_of(model)
    return table.update().where(table.c.id == sa.bindparam("unit_id"))


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
    table = table_of(Booking)
    # values as parameters, not in the statement: its compiled form then comes from the cache
    booking_id = db.session.execute(table.insert().returning(table.c.id), columns).scalar_one()
    booking = Booking(id=booking_id, **columns, user=user, offer=target.offer, session=target.session)
    make_transient_to_detached(booking)  # what was set counts as loaded from the database
    db.session.add(booking)
    return booking


def _confirmed(bookings: list[Booking], kind: BookingMessage, *, new: bool = False) -> None:
    """Plan the people's reminders and tell them their place is confirmed, in one INSERT.

    ``new`` bookings (written in this transaction) cannot have reminders yet: no need to look.
    """
    rows: list[outbox.OutboxRow] = []
    for booking in bookings:
        rows += reminders.reminder_rows(booking, new=new)
        if booking.user_id is not None:
            rows.append(row_for(kind, booking))
    outbox.add(rows)


def promote(target: Target, unit: Offer | OfferSession) -> list[Booking]:
    """Give free places to the waiting list in order; the caller holds the lock on ``unit``.

    Someone let in beyond the places (``over_capacity``) takes a freed place first: they are in
    the room already, and the room is then no fuller than its places.
    """
    while unit.confirmed_count < unit.capacity:
        extra = db.session.scalar(
            sa.select(Booking)
            .where(target.booking_filter(), Booking.status == BookingStatus.CONFIRMED, Booking.over_capacity)
            .order_by(Booking.confirmed_at, Booking.id)
            .limit(1)
        )
        if extra is None:
            break
        extra.over_capacity = False
        unit.confirmed_count += 1
    promoted: list[Booking] = []
    while unit.confirmed_count < unit.capacity and unit.waitlist_count > 0:
        # while places are held for the mix and the open ones are taken: the first who may take it
        only = held.promotion_filter(target, unit, utcnow())
        waiting = db.session.scalar(
            sa.select(Booking)
            .where(target.booking_filter(), Booking.status == BookingStatus.WAITLISTED, *_and(only))
            .order_by(Booking.waitlist_position, Booking.id)
            .limit(1)
        )
        if waiting is None:
            if only is None:  # counters drifted; never promote past the real list
                unit.waitlist_count = 0
            break
        waiting.status = BookingStatus.CONFIRMED
        waiting.waitlist_position = None
        waiting.confirmed_at = utcnow()
        waiting.hold_until = hold_deadline(target, waiting.confirmed_at)
        unit.confirmed_count += 1
        unit.waitlist_count -= 1
        promoted.append(waiting)
    db.session.flush()
    _confirmed(promoted, BookingMessage.BOOKING_PROMOTED)
    return promoted


def _and(condition: sa.ColumnElement[bool] | None) -> tuple[sa.ColumnElement[bool], ...]:
    return () if condition is None else (condition,)


#: A place held for an answer is held at least this long, or not at all (the place is simply theirs).
HOLD_AT_LEAST = timedelta(hours=1)
#: ... and it is settled this long before the start, so the next person can still come.
HOLD_SETTLED_BEFORE = timedelta(hours=2)


def hold_deadline(target: Target, now: datetime) -> datetime | None:
    """Until when a place from the waiting list waits for the person's yes, or None.

    Only for offers that ask (``promotion_hold``): ``promotion_hours`` at most, shorter when the
    session is near, settled two hours before it starts; with less than an hour left, there is
    no time to ask and the place is simply theirs.
    """
    offer = target.offer
    if not offer.promotion_hold:
        return None
    if target.session is not None:
        starts = target.session.starts_at
    else:
        coming = [s.starts_at for s in offer.sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
        if not coming:
            return None
        starts = min(coming)
    deadline = min(now + timedelta(hours=offer.promotion_hours), starts - HOLD_SETTLED_BEFORE)
    return deadline if deadline - now >= HOLD_AT_LEAST else None


def accept_hold(booking: Booking) -> None:
    """The person said yes (a reply, a tap): the place held for them is theirs for good."""
    target = Target.of_booking(booking)
    lock_places(target)
    db.session.refresh(booking)
    if booking.status != BookingStatus.CONFIRMED or booking.hold_until is None:
        raise BookingError("not_held")
    if booking.hold_until <= utcnow():
        raise BookingError("hold_over")
    booking.hold_until = None
    outbox.add([row_for(BookingMessage.BOOKING_CONFIRMED, booking)])
    db.session.flush()


def release_unanswered(limit: int = 200) -> int:
    """Give the places nobody said yes to in time to the next person on the list; return how many.

    Each under its lock, checked again there: a yes that came in a moment ago wins.
    """
    now = utcnow()
    ids = list(
        db.session.scalars(
            sa.select(Booking.id)
            .where(Booking.status == BookingStatus.CONFIRMED, Booking.hold_until <= now)
            .order_by(Booking.hold_until)
            .limit(limit)
        )
    )
    released = 0
    for booking_id in ids:
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            continue
        lock_places(Target.of_booking(booking))
        db.session.refresh(booking)
        if booking.status != BookingStatus.CONFIRMED or booking.hold_until is None or booking.hold_until > now:
            continue
        cancel(booking, reason=CancelReason.NO_ANSWER)
        released += 1
    return released


def _end(booking: Booking, reason: CancelReason, now: datetime) -> None:
    """Mark a booking cancelled and drop its reminders (the caller keeps the counters)."""
    booking.status = BookingStatus.CANCELLED
    booking.hold_until = None
    booking.cancel_reason = reason
    booking.cancelled_at = now
    booking.waitlist_position = None
    reminders.cancel_for_booking(booking)


def cancel(
    booking: Booking,
    *,
    reason: CancelReason = CancelReason.PARTICIPANT,
    notify: bool = True,
    by: User | None = None,
    seen: str | None = None,
) -> list[Booking]:
    """Cancel a booking or leave the waiting list; a freed place goes to the next in line.

    Returns the bookings promoted from the waiting list, in the same transaction. Cancelled
    ``by`` someone else (a coordinator at the desk), it goes into the audit trail. ``seen`` is
    the state the person's page showed (a one-tap form carries it): checked under the lock, so
    a tap meant for the waiting list never gives up a place that came free a moment before.
    """
    target = Target.of_booking(booking)
    unit = lock_places(target)
    db.session.refresh(booking)
    if booking.status == BookingStatus.CANCELLED:
        raise BookingError("already_cancelled")
    if seen and seen != booking.status.value:
        raise BookingChangedError()
    if reason == CancelReason.PARTICIPANT and target.has_started:
        raise BookingError("cancel_started")
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    _end(booking, reason, utcnow())
    if by is not None and by.id != booking.user_id:
        audit.record(
            "booking.cancelled_for",
            actor_id=by.id,
            subject_id=booking.user_id,
            offer_id=booking.offer_id,
            reference=booking.reference,
        )
    if notify and booking.user_id is not None:
        was = "confirmed" if was_confirmed else "waitlisted"
        told = row_for(BookingMessage.BOOKING_CANCELLED, booking, payload={"was": was, "why": reason.value})
        # someone einstein cannot reach who cancelled (at the desk, on a shared phone) knows it:
        # nobody needs to call them about it
        if not (told["channel"] == CALL and reason == CancelReason.PARTICIPANT):
            outbox.add([told])
    if was_confirmed and booking.over_capacity:  # a place beyond the places frees none
        db.session.flush()
        return []
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
