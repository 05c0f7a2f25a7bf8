"""The rules of attendance: who may take it, marking taps, walk-ins, completion and certificates."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.audit import services as audit
from einstein.auth import services as accounts
from einstein.auth.models import Audience, User
from einstein.auth.phones import normalise_phone
from einstein.bookings import desk, queries
from einstein.bookings import services as bookings
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking, BookingSource, BookingStatus
from einstein.bookings.targets import Target
from einstein.courses.models import Offer, OfferSession, SessionStatus
from einstein.db import db, utcnow
from einstein.errors import CodedError
from einstein.i18n import TIMEZONE, local_today

#: Attendance can be taken from this long before a session starts (people arrive early).
OPENS_BEFORE = timedelta(hours=2)

COUNTER = {
    AttendanceStatus.PRESENT: "present_count",
    AttendanceStatus.ABSENT: "absent_count",
    AttendanceStatus.EXCUSED: "excused_count",
}

ERRORS = {
    "not_yet": _l("Attendance opens two hours before the session starts."),
    "cancelled": _l("This session is cancelled."),
    "not_booked": _l("This person has no place in this session."),
    "unknown_reference": _l("No booking with this reference for this session. Check the card and try again."),
    "phone_elsewhere": _l(
        "This phone number cannot be used here. Add the person without it, or ask a coordinator at the desk."
    ),
    "full_choose": _l(
        "There is no place left. Choose below: let them in beyond the places, or put them on the waiting list."
    ),
    "full_no_waitlist": _l(
        "There is no place left and this offer keeps no waiting list. To let them in, choose “beyond the places”."
    ),
}


class AttendanceError(CodedError):
    """Attendance that cannot be recorded, with a message for the person taking it."""

    messages = ERRORS


def check_open(session: OfferSession) -> None:
    """Refuse attendance for cancelled sessions and for sessions still far off."""
    if session.status == SessionStatus.CANCELLED:
        raise AttendanceError("cancelled")
    if session.starts_at - OPENS_BEFORE > utcnow():
        raise AttendanceError("not_yet")


def _belongs(booking: Booking, session: OfferSession) -> bool:
    if booking.status != BookingStatus.CONFIRMED:
        return False
    if session.offer.is_course:
        return booking.offer_id == session.offer_id and booking.session_id is None
    return booking.session_id == session.id


def mark(session: OfferSession, booking: Booking, status: AttendanceStatus, by: User) -> Attendance:
    """Record one tap: this person's status for this session, and keep the session's counters.

    Each tap writes only its own person's row, under the session's lock, so two devices taking
    attendance at once never undo each other's taps.
    """
    check_open(session)
    if not _belongs(booking, session):
        raise AttendanceError("not_booked")
    # the session's row (for a course too: its attendance counters live on the session)
    locked = bookings.lock_row(session)
    row = db.session.scalar(
        sa.select(Attendance).where(Attendance.session_id == session.id, Attendance.booking_id == booking.id)
    )
    before = row.status if row is not None else None
    if row is None:
        row = Attendance(session_id=session.id, booking_id=booking.id, status=status, marked_by_id=by.id)
        db.session.add(row)
        setattr(locked, COUNTER[status], getattr(locked, COUNTER[status]) + 1)
    elif row.status != status:
        setattr(locked, COUNTER[row.status], getattr(locked, COUNTER[row.status]) - 1)
        setattr(locked, COUNTER[status], getattr(locked, COUNTER[status]) + 1)
        row.status, row.marked_by_id, row.marked_at = status, by.id, utcnow()
    if before != status and after_the_fact(session):
        audit.record(
            "attendance.changed_later",
            actor_id=by.id,
            subject_id=booking.user_id,
            offer_id=session.offer_id,
            reference=booking.reference,
            status=status.value,
            was=before.value if before is not None else None,
        )
    db.session.flush()
    return row


def after_the_fact(session: OfferSession) -> bool:
    """Whether attendance marked now is marked afterwards: once the day of the session is over.

    Taps during the session and that evening are attendance being taken; a change on a later day
    changes a record people rely on (certificates, no-shows), so it goes into the audit trail.
    """
    return local_today() > session.ends_at.astimezone(TIMEZONE).date()


def mark_by_reference(session: OfferSession, reference: str, by: User) -> Booking:
    """Mark the person on a booking card present, from the reference typed or scanned."""
    booking = queries.by_reference(reference)
    if booking is None or not _belongs(booking, session):
        raise AttendanceError("unknown_reference")
    mark(session, booking, AttendanceStatus.PRESENT, by)
    return booking


def walk_in_person(by: User, session: OfferSession, *, name: str, phone: str | None, locale: str) -> User:
    """The person who walked in: someone booked on this offer with this phone number, or a new
    person registered now (consent recorded by ``by``).

    A number is matched only against people booked here, whom the person taking attendance sees
    on the list anyway: the form must never tell a volunteer who owns some other number.
    A number that belongs to someone else is sent to a coordinator at the desk.
    """
    phone = normalise_phone(phone) if phone else None
    if phone:
        booked: User | None = db.session.scalar(
            sa.select(User)
            .join(Booking, Booking.user_id == User.id)
            .where(User.phone == phone, Booking.offer_id == session.offer_id, Booking.status != BookingStatus.CANCELLED)
            .limit(1)
        )
        if booked is not None:
            return booked
        if accounts.contact_taken(None, phone):
            raise AttendanceError("phone_elsewhere")
    return desk.register_at_desk(by, name=name, phone=phone, email=None, locale=locale, audience=Audience.UNSAID)


class IfFull(enum.StrEnum):
    """What the person taking attendance chose for someone at the door of a full session."""

    #: let them in beyond the places: confirmed, marked over capacity, outside the counter
    OVER = "over"
    #: put them on the waiting list (not marked present: they have no place)
    WAITLIST = "waitlist"


class WalkInResult(enum.StrEnum):
    """What happened to someone who turned up, as the person taking attendance is told."""

    #: a place (theirs already, or one that was free): marked present
    PRESENT = "present"
    #: let in beyond the places: marked present
    OVER = "over"
    #: on the waiting list: not marked present
    WAITING = "waiting"


@dataclass
class WalkIn:
    """Someone who turned up, and what became of them."""

    booking: Booking
    result: WalkInResult
    #: their number on the waiting list (for WAITING)
    position: int | None = None


def walk_in(session: OfferSession, person: User, by: User, if_full: IfFull | None = None) -> WalkIn:
    """Give someone who turned up a place and mark them present; at a full session, as chosen:
    let them in beyond the places (marked so, outside the counter) or put them on the waiting list.

    Without a choice a full session is refused with what can be chosen, so nobody is put on a
    waiting list or over the places without the person at the door deciding it.
    """
    check_open(session)
    target = Target.of_session(session)
    existing = bookings.find_booking(person, target)
    if existing is not None and existing.status == BookingStatus.CONFIRMED:
        booking = existing
    elif existing is not None and existing.status == BookingStatus.WAITLISTED and if_full == IfFull.WAITLIST:
        return WalkIn(existing, WalkInResult.WAITING, queries.waitlist_place(existing))
    else:
        try:
            booking = bookings.book(
                person,
                target,
                source=BookingSource.WALK_IN,
                booked_by=by,
                waitlist=if_full == IfFull.WAITLIST,
                over_capacity=if_full == IfFull.OVER,
            )
        except BookingError as error:
            if error.code in {"full", "already_waitlisted"}:
                code = "full_choose" if session.offer.waitlist_enabled else "full_no_waitlist"
                raise AttendanceError(code) from error
            raise
        if booking.status == BookingStatus.WAITLISTED:
            return WalkIn(booking, WalkInResult.WAITING, queries.waitlist_place(booking))
    mark(session, booking, AttendanceStatus.PRESENT, by)
    return WalkIn(booking, WalkInResult.OVER if booking.over_capacity else WalkInResult.PRESENT)


@dataclass
class Row:
    """One person on the attendance list."""

    booking: Booking
    status: AttendanceStatus | None


@dataclass
class Sheet:
    """The attendance list of one session, in three queries whatever its size."""

    session: OfferSession
    rows: list[Row]
    counts: dict[str, int] = field(default_factory=dict)


def sheet(session: OfferSession) -> Sheet:
    """Everyone with a place in the session, by name, with what has been tapped so far."""
    confirmed = list(
        db.session.scalars(
            sa.select(Booking)
            .where(Target.of_session(session).booking_filter(), Booking.status == BookingStatus.CONFIRMED)
            .options(joinedload(Booking.user))
            .outerjoin(Booking.user)
            .order_by(sa.func.lower(User.name), Booking.id)
        )
    )
    marks = dict(
        db.session.execute(
            sa.select(Attendance.booking_id, Attendance.status).where(Attendance.session_id == session.id)
        ).all()
    )
    rows = [Row(booking, marks.get(booking.id)) for booking in confirmed]
    counts = {status.value: session_count for status, session_count in counts_of(session).items()}
    counts["unmarked"] = sum(1 for row in rows if row.status is None)
    counts["over_capacity"] = sum(1 for row in rows if row.booking.over_capacity)
    return Sheet(session, rows, counts)


def counts_of(session: OfferSession) -> dict[AttendanceStatus, int]:
    """How many are marked present, absent and excused (the session's counters)."""
    return {status: getattr(session, attr) for status, attr in COUNTER.items()}


# --- course completion -----------------------------------------------------------------------------


def threshold_reached(attended: int, held: int, threshold: int) -> bool:
    """The one rule for how often someone must come: at least ``threshold`` % of ``held``
    sessions (the share rounded as the completion page shows it)."""
    return held > 0 and round(100 * attended / held) >= threshold


@dataclass
class Completion:
    """How often one person came to the sessions of a course, and whether that earns a certificate."""

    booking: Booking
    #: session id -> status
    marks: dict[int, AttendanceStatus]
    attended: int
    #: sessions that have taken place (started, not cancelled)
    held: int
    threshold: int
    #: sessions that take place, held or to come (cancelled ones do not count)
    scheduled: int = 0
    #: scheduled sessions not over yet
    to_come: int = 0

    @property
    def share(self) -> int:
        return round(100 * self.attended / self.held) if self.held else 0

    @property
    def reached(self) -> bool:
        """Whether the attendance so far reaches the course's threshold."""
        return threshold_reached(self.attended, self.held, self.threshold)

    @property
    def over(self) -> bool:
        """Whether every session of the course has ended (and at least one took place)."""
        return self.held > 0 and self.to_come == 0

    @property
    def earned(self) -> bool:
        """A certificate: the course is over and the threshold reached."""
        return self.over and self.reached

    @property
    def needed(self) -> int:
        """How many of the scheduled sessions a certificate needs."""
        return next((n for n in range(self.scheduled + 1) if threshold_reached(n, self.scheduled, self.threshold)), 0)

    @property
    def reachable(self) -> bool:
        """Whether coming to every session not yet started would still reach the threshold."""
        return threshold_reached(self.attended + self.scheduled - self.held, self.scheduled, self.threshold)


@dataclass(frozen=True)
class Schedule:
    """Where a course's sessions stand now."""

    held: list[OfferSession]
    scheduled: int
    to_come: int


def schedule_of(offer: Offer) -> Schedule:
    """The sessions of a course that took place, and how many take place in all and are still to come."""
    now = utcnow()
    scheduled = [s for s in offer.sessions if s.status == SessionStatus.SCHEDULED]
    held = [s for s in scheduled if s.starts_at <= now]
    return Schedule(held, len(scheduled), sum(1 for s in scheduled if s.ends_at > now))


def held_sessions(offer: Offer) -> list[OfferSession]:
    """The sessions of an offer that have taken place (started, not cancelled)."""
    return schedule_of(offer).held


def _completion(booking: Booking, marks: dict[int, AttendanceStatus], schedule: Schedule) -> Completion:
    held = {s.id for s in schedule.held}
    marks = {session_id: status for session_id, status in marks.items() if session_id in held}
    attended = sum(1 for status in marks.values() if status == AttendanceStatus.PRESENT)
    return Completion(
        booking, marks, attended, len(held), booking.offer.completion_threshold, schedule.scheduled, schedule.to_come
    )


def completion(offer: Offer) -> tuple[Schedule, list[Completion]]:
    """Attendance per participant over a whole course, in three queries."""
    schedule = schedule_of(offer)
    people = list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                Booking.offer_id == offer.id, Booking.session_id.is_(None), Booking.status == BookingStatus.CONFIRMED
            )
            .options(joinedload(Booking.user))
            .order_by(Booking.id)
        )
    )
    marks: dict[int, dict[int, AttendanceStatus]] = {}
    if schedule.held:
        for booking_id, session_id, status in db.session.execute(
            sa.select(Attendance.booking_id, Attendance.session_id, Attendance.status).where(
                Attendance.session_id.in_([s.id for s in schedule.held])
            )
        ):
            marks.setdefault(booking_id, {})[session_id] = status
    return schedule, [_completion(booking, marks.get(booking.id, {}), schedule) for booking in people]


def completion_from(booking: Booking, marks: dict[int, AttendanceStatus]) -> Completion:
    """The completion of a course booking, from its marks (session id -> status)."""
    return _completion(booking, marks, schedule_of(booking.offer))


def completion_of(booking: Booking) -> Completion | None:
    """The completion of one confirmed course booking (for the certificate); None for anything else."""
    if booking.session_id is not None or booking.status != BookingStatus.CONFIRMED or not booking.offer.is_course:
        return None
    marks = dict(
        db.session.execute(
            sa.select(Attendance.session_id, Attendance.status).where(Attendance.booking_id == booking.id)
        ).all()
    )
    return completion_from(booking, marks)


def attendance_of(user: User, booking_ids: list[int] | None = None) -> dict[int, dict[int, AttendanceStatus]]:
    """A person's attendance (only for ``booking_ids`` if given): booking id -> session id -> status."""
    result: dict[int, dict[int, AttendanceStatus]] = {}
    query = (
        sa.select(Attendance.booking_id, Attendance.session_id, Attendance.status)
        .join(Booking, Booking.id == Attendance.booking_id)
        .where(Booking.user_id == user.id)
    )
    if booking_ids is not None:
        query = query.where(Attendance.booking_id.in_(booking_ids))
    rows = db.session.execute(query)
    for booking_id, session_id, status in rows:
        result.setdefault(booking_id, {})[session_id] = status
    return result
