"""Two records of one person become one: the desk registered someone twice, or someone signed up
after being registered at the desk.

One record stays (the one that can sign in, if one can; else the older one) and takes the
details the coordinator chose from either. Everything that points at the other record moves to
it: bookings, attendance, waiting-list places, messages, the audit trail (and anything an area
adds later that points at a person). A person never ends up with two places in one course or
session: where both records hold one, the stronger stays (a place before a waiting-list place,
the earlier place on the list), the other is given up, and a freed place goes to the next
person on the waiting list as after any cancellation. The merge goes into the audit trail, with
ids and booking references only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload, selectinload

from einstein.attendance import services as attendance
from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.audit import services as audit
from einstein.auth import services as accounts
from einstein.auth.models import User
from einstein.bookings import services as bookings
from einstein.bookings.models import Booking, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.courses.models import Offer
from einstein.db import db
from einstein.errors import CodedError
from einstein.notifications.models import Notification
from einstein.privacy import services as privacy

#: The details a coordinator chooses between, in the order the form shows them.
FIELDS = ("name", "phone", "email", "locale", "audience")
#: References to a person that do not move: the other record's sign-ins end with it.
STAYING = {("login_sessions", "user_id")}
#: References moved here without looking for clashes: bookings' clashes are settled first.
SETTLED = {("bookings", "user_id")}

ERRORS = {
    "same": _l("This is the same person twice: there is nothing to merge."),
    "both_sign_in": _l(
        "Both can sign in with a password, so einstein cannot tell which sign-in to keep. "
        "Ask the person which one they use; an admin can then remove the other."
    ),
}


class MergeError(CodedError):
    """Two records that cannot be merged, with a message for the coordinator."""

    messages = ERRORS


@dataclass
class Clash:
    """Both records hold a place, or wait, for the same course or session: one stays."""

    stays: Booking
    goes: Booking

    @property
    def frees_place(self) -> bool:
        """Whether giving up ``goes`` frees a place, which the waiting list then gets."""
        return (
            self.goes.status == BookingStatus.CONFIRMED
            and not getattr(self.goes, "over_capacity", False)
            and bool(self.goes.upcoming_sessions)
        )


@dataclass
class Plan:
    """What merging two records would do."""

    keep: User
    drop: User
    #: where both hold a place or wait (active bookings only; cancelled ones simply go)
    clashes: list[Clash]
    #: every clash, also between cancelled bookings (both rows cannot stay)
    all_clashes: list[Clash]
    #: the dropped record's bookings that move as they are
    moving: int
    #: per detail, the records whose (different, non-empty) values can be chosen, the kept one first
    options: dict[str, list[User]] = field(default_factory=dict)
    problem: str | None = None


@dataclass
class Merged:
    """What a merge did, for the coordinator's message."""

    person: User
    moved: int
    given_up: list[str]


def kept_and_dropped(first: User, second: User) -> tuple[User, User]:
    """The record that stays is the one that can sign in, if one can; else the older one."""
    if first.can_sign_in != second.can_sign_in:
        return (first, second) if first.can_sign_in else (second, first)
    return (first, second) if first.id < second.id else (second, first)


def _bookings_of(user: User) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.user_id == user.id)
            .options(
                joinedload(Booking.offer).options(selectinload(Offer.translations), selectinload(Offer.sessions)),
                joinedload(Booking.session),
            )
            .order_by(Booking.id)
        ).unique()
    )


_STATUS_ORDER = {BookingStatus.CONFIRMED: 0, BookingStatus.WAITLISTED: 1, BookingStatus.CANCELLED: 2}


def _strength(booking: Booking) -> tuple[Any, ...]:
    """Sorts the stronger booking first: a place, a place within the places, a place not waiting
    for a yes, the earlier place on the waiting list, the older booking."""
    return (
        _STATUS_ORDER[booking.status],
        bool(getattr(booking, "over_capacity", False)),
        booking.hold_until is not None,
        booking.waitlist_position or 0,
        booking.created_at,
        booking.id,
    )


def _value(user: User, name: str) -> Any:
    return getattr(user, name)


def _options(keep: User, drop: User) -> dict[str, list[User]]:
    """Which record's value of each detail can be chosen.

    A record that can sign in keeps its own e-mail address and phone number (they are how it
    signs in; the owner changes them with their password), unless it has none.
    """
    options: dict[str, list[User]] = {}
    for name in FIELDS:
        holders = [user for user in (keep, drop) if _value(user, name)]
        if len(holders) == 2 and _value(keep, name) == _value(drop, name):
            holders = [keep]
        if name in {"phone", "email"} and keep.can_sign_in and _value(keep, name):
            holders = [keep]
        options[name] = holders or [keep]
    return options


def plan(first: User, second: User) -> Plan:
    """What merging ``first`` and ``second`` would do (nothing is changed)."""
    keep, drop = kept_and_dropped(first, second)
    theirs = {(b.offer_id, b.session_id): b for b in _bookings_of(keep)}
    all_clashes: list[Clash] = []
    moving = 0
    for booking in _bookings_of(drop):
        other = theirs.get((booking.offer_id, booking.session_id))
        if other is None:
            moving += 1
            continue
        stays, goes = sorted((other, booking), key=_strength)
        all_clashes.append(Clash(stays, goes))
    problem = None
    if first.id == second.id:
        problem = "same"
    elif first.can_sign_in and second.can_sign_in:
        problem = "both_sign_in"
    active = [c for c in all_clashes if c.stays.is_active or c.goes.is_active]
    return Plan(keep, drop, active, all_clashes, moving, _options(keep, drop), problem)


def merge(first: User, second: User, *, by: User, chosen: dict[str, int]) -> Merged:
    """Merge two records of one person; ``chosen`` names, per detail, the id of the record whose
    value to keep (a detail not chosen keeps the kept record's value, or the only one there is)."""
    # Lock both people first: a booking for either waits until the merge is done.
    db.session.execute(sa.select(User.id).where(User.id.in_([first.id, second.id])).with_for_update())
    db.session.refresh(first)
    db.session.refresh(second)
    found = plan(first, second)
    if found.problem:
        raise MergeError(found.problem)
    keep, drop = found.keep, found.drop
    sources = {name: _source(found.options[name], chosen.get(name)) for name in FIELDS}
    details = {name: _value(source, name) for name, source in sources.items()}
    moved = found.moving + sum(1 for clash in found.all_clashes if clash.stays.user_id == drop.id)
    given_up = [_settle(clash) for clash in found.all_clashes]
    db.session.flush()
    drop_id, keep_id = drop.id, keep.id
    phone_state = (drop.phone_verified_at, drop.sms_stopped_at)
    email_state = drop.email_verified_at
    # Free the unique number and address, then move every reference to the kept record.
    drop.phone = drop.pending_phone = drop.email = drop.pending_email = None
    db.session.flush()
    _move_references(drop_id, keep_id)
    db.session.expire_all()  # rows were moved under the ORM's feet
    keep = db.session.get_one(User, keep_id)
    if sources["phone"].id == drop_id:
        keep.phone, keep.pending_phone = details["phone"], None
        keep.phone_verified_at, keep.sms_stopped_at = phone_state
    if sources["email"].id == drop_id:
        keep.email, keep.pending_email, keep.email_verified_at = details["email"], None, email_state
    if sources["phone"].id == drop_id or sources["email"].id == drop_id:
        keep.security_stamp = secrets.token_hex(16)
    keep.name, keep.locale, keep.audience = details["name"], details["locale"], details["audience"]
    db.session.delete(db.session.get_one(User, drop_id))
    db.session.flush()
    privacy.follow_answer(keep)  # the bookings still to come, theirs and the moved ones
    accounts.follow_reach(keep)
    audit.record(
        "person.merged",
        actor_id=by.id,
        subject_id=keep_id,
        merged_id=drop_id,
        details_taken=sorted(name for name, source in sources.items() if source.id == drop_id),
        given_up=given_up,
    )
    return Merged(keep, moved, given_up)


def _source(holders: list[User], chosen_id: int | None) -> User:
    return next((user for user in holders if user.id == chosen_id), holders[0])


def _settle(clash: Clash) -> str:
    """Give up the weaker booking of a clash: its place (or waiting-list place) ends, its
    attendance and messages go to the one that stays, and the row goes. Returns its reference."""
    goes, stays = clash.goes, clash.stays
    if goes.is_active:
        if goes.upcoming_sessions:
            # still to come: as a cancellation, so a freed place goes to the next in line
            bookings.cancel(goes, reason=CancelReason.ORGANISER, notify=False)
        else:
            # over: nobody can have the place any more; the counters lose the duplicate
            unit = bookings.lock_places(Target.of_booking(goes))
            db.session.refresh(goes)
            if goes.status == BookingStatus.WAITLISTED:
                unit.waitlist_count -= 1
            elif goes.status == BookingStatus.CONFIRMED and not getattr(goes, "over_capacity", False):
                unit.confirmed_count -= 1
    _move_attendance(goes, stays)
    _move_messages(goes, stays)
    reference = goes.reference
    db.session.delete(goes)
    db.session.flush()
    return reference


#: Which of two marks for one session stays: present, then excused, then absent.
_MARK_ORDER = {AttendanceStatus.PRESENT: 0, AttendanceStatus.EXCUSED: 1, AttendanceStatus.ABSENT: 2}


def _move_attendance(goes: Booking, stays: Booking) -> None:
    """Marks of the booking given up go to the one that stays; of two marks for one session,
    the one that says most (present) stays, and the session's counters lose the other."""
    theirs = {
        mark.session_id: mark
        for mark in db.session.scalars(sa.select(Attendance).where(Attendance.booking_id == stays.id))
    }
    for mark in list(db.session.scalars(sa.select(Attendance).where(Attendance.booking_id == goes.id))):
        other = theirs.get(mark.session_id)
        if other is None:
            mark.booking_id = stays.id
            continue
        best, worst = sorted((other, mark), key=lambda m: (_MARK_ORDER[m.status], m.id))
        session = bookings.lock_row(mark.session)
        counter = attendance.COUNTER[worst.status]
        setattr(session, counter, getattr(session, counter) - 1)
        db.session.delete(worst)
        db.session.flush()
        best.booking_id = stays.id
    db.session.flush()


def _move_messages(goes: Booking, stays: Booking) -> None:
    """Messages about the booking given up stay in the person's history, on the one that stays;
    a reminder the one that stays has as well is one too many."""
    twin = aliased(Notification)
    db.session.execute(
        sa.delete(Notification)
        .where(
            Notification.booking_id == goes.id,
            Notification.reminder_offset.is_not(None),
            sa.exists().where(
                twin.booking_id == stays.id,
                twin.session_id == Notification.session_id,
                twin.reminder_offset == Notification.reminder_offset,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Notification)
        .where(Notification.booking_id == goes.id)
        .values(booking_id=stays.id)
        .execution_options(synchronize_session=False)
    )


def _move_references(drop_id: int, keep_id: int) -> None:
    """Point every column that names the dropped person at the kept one, in every table.

    Found from the schema, so a table an area adds later moves too. Where a unique constraint
    would then hold the same row twice (a permission both records had), the dropped copy goes.
    """
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name != "users" or key.column.name != "id":
                continue
            column = key.parent
            name = (table.name, column.name)
            if name in STAYING:
                continue
            if name not in SETTLED:
                _drop_twins(table, column, drop_id, keep_id)
            db.session.execute(sa.update(table).where(column == drop_id).values({column.name: keep_id}))


def _drop_twins(table: sa.Table, column: sa.Column[Any], drop_id: int, keep_id: int) -> None:
    """Delete the dropped person's rows that the kept person has too, by a unique constraint."""
    uniques = [set(c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    uniques += [set(i.columns) for i in table.indexes if i.unique and not _partial(i)]
    for columns in uniques:
        if column not in columns:
            continue
        other = table.alias()
        same = [other.c[column.name] == keep_id]
        same += [other.c[c.name] == table.c[c.name] for c in columns if c is not column]
        db.session.execute(sa.delete(table).where(column == drop_id, sa.exists().where(*same)))


def _partial(index: sa.Index) -> bool:
    return any(index.dialect_options[dialect].get("where") is not None for dialect in ("postgresql", "sqlite"))
