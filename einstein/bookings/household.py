"""Households: people booked by the account holder they live with (children, a partner).

A household member is a ``User`` that never signs in: no password, no e-mail, no phone, only a
name, an age group and a language, with the holder's consent recorded (``consent_recorded_by_id``
is the holder, or the desk coordinator who asked). Each member holds their own place: a normal
booking with ``user_id`` the member and ``booked_by_id`` the holder, made by ``services.book``
under the same lock and the same rules as anyone's. Messages about it go to the holder
(``messages.row_for``). Deleting the holder deletes the members (``users.household_of_id`` is
ON DELETE CASCADE); ``remove_member`` first gives their coming places to the waiting list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from einstein.auth.models import AgeGroup, User
from einstein.bookings import queries, services
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.db import db, utcnow

#: More people than a household plausibly has is a mistake or abuse.
MAX_MEMBERS = 12

#: What a household is told about one person who got no place, with the person's name in it.
REFUSALS = {
    "full": _l("%(name)s: sorry, there is no place left and no waiting list."),
    "already_booked": _l("%(name)s already has a place."),
    "already_waitlisted": _l("%(name)s is already on the waiting list."),
}


class HouseholdError(Exception):
    """A household change that cannot be made (too many members)."""


def members_of(holder: User) -> list[User]:
    """The members of ``holder``'s household, in the order they were added."""
    return list(db.session.scalars(sa.select(User).where(User.household_of_id == holder.id).order_by(User.id)))


def member_of(holder: User, member_id: int | None) -> User | None:
    """The member ``member_id`` of ``holder``'s household, or None (someone else's, or nobody)."""
    if member_id is None:
        return None
    member = db.session.get(User, member_id)
    return member if member is not None and member.household_of_id == holder.id else None


def add_member(holder: User, *, name: str, age_group: AgeGroup, locale: str, recorded_by: User) -> User:
    """Add a person to ``holder``'s household, with consent recorded by ``recorded_by``.

    Raises HouseholdError when the household is full.
    """
    if holder.household_of_id is not None:  # a member has no household of their own
        raise HouseholdError("member")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.household_of_id == holder.id))
    if (count or 0) >= MAX_MEMBERS:
        raise HouseholdError("full")
    member = User(
        name=name,
        locale=locale,
        age_group=age_group,
        household_of_id=holder.id,
        email_notifications=False,
        consent_recorded_by_id=recorded_by.id,
        consent_recorded_at=utcnow(),
    )
    db.session.add(member)
    db.session.flush()
    return member


def update_member(member: User, *, name: str, age_group: AgeGroup, locale: str, recorded_by: User) -> None:
    """Correct a member's name, age group or language (consent is given again with the change)."""
    member.name = name
    member.age_group = age_group
    member.locale = locale
    member.consent_recorded_by_id = recorded_by.id
    member.consent_recorded_at = utcnow()


def remove_member(member: User) -> None:
    """Take a person out of the household: coming places go to the waiting list, the person goes;
    their past bookings stay as anonymous counts, as a deleted account's do."""
    for booking in queries.upcoming_bookings_of(member):
        services.cancel(booking, reason=CancelReason.ACCOUNT_DELETED, notify=False)
    db.session.delete(member)
    db.session.flush()


def remove_all(holder: User) -> None:
    """Remove every member of ``holder``'s household (before the holder's account is deleted)."""
    for member in members_of(holder):
        remove_member(member)


@dataclass
class Outcome:
    """What happened to one person of a household booking."""

    person: User
    booking: Booking | None = None
    error: BookingError | None = None
    #: their place on the waiting list when they went on it (its length, under the lock)
    place: int | None = None

    @property
    def message(self) -> str:
        """The line the holder reads about this person."""
        name = self.person.name
        if self.error is not None:
            refusal = REFUSALS.get(self.error.code)
            if refusal is not None:
                return str(refusal) % {"name": name}
            return str(_("%(name)s: %(problem)s", name=name, problem=self.error.message))
        assert self.booking is not None  # noqa: S101 - an outcome has a booking or an error
        if self.booking.status == BookingStatus.CONFIRMED:
            return str(_("%(name)s has a place (reference %(ref)s).", name=name, ref=self.booking.reference))
        return str(
            _(
                "%(name)s is on the waiting list, number %(num)d.",
                name=name,
                num=self.place or 1,
            )
        )


def book_people(
    holder: User,
    locked: services.Locked,
    people: list[User],
    *,
    by: User | None = None,
    source: BookingSource = BookingSource.SELF,
) -> list[Outcome]:
    """Book ``people`` (the holder and/or members of their household) in the order given.

    ``locked`` is the course or session as ``lock_for_booking`` locked it for ``holder``: its
    places are locked once, for everyone. Each person is booked by ``services.book`` like anyone
    else: those beyond the free places go on the waiting list where the offer has one, otherwise
    they are refused, each with their own outcome. ``by`` is who books (the holder, or a desk
    coordinator).
    """
    booker = by or holder
    target = locked.target
    found = _bookings_there(target, [p.id for p in people if p.id != holder.id])
    outcomes: list[Outcome] = []
    for person in people:
        existing = locked.booking if person.id == holder.id else found.get(person.id)
        try:
            booking = services.book(
                person,
                services.Locked(target, existing),
                source=source,
                booked_by=booker if booker.id != person.id else None,
            )
        except BookingError as error:
            outcomes.append(Outcome(person, error=error))
        else:
            waiting = booking.status == BookingStatus.WAITLISTED
            outcomes.append(Outcome(person, booking=booking, place=target.unit.waitlist_count if waiting else None))
    return outcomes


def _bookings_there(target: Target, user_ids: list[int]) -> dict[int, Booking]:
    """The bookings these people have on ``target`` (any state), by person."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Booking)
        .where(target.booking_filter(), Booking.user_id.in_(user_ids))
        .execution_options(populate_existing=True)
    )
    return {booking.user_id: booking for booking in rows if booking.user_id is not None}


def household_bookings(holder: User, target: Target) -> dict[int, Booking]:
    """The active bookings of ``holder``'s household members on ``target``, by member (for the
    offer page's "who is coming?")."""
    members = sa.select(User.id).where(User.household_of_id == holder.id)
    rows = db.session.scalars(
        sa.select(Booking).where(
            target.booking_filter(), Booking.user_id.in_(members), Booking.status != BookingStatus.CANCELLED
        )
    )
    return {booking.user_id: booking for booking in rows if booking.user_id is not None}


def export_members(holder: User) -> list[dict[str, Any]]:
    """The household's members and their bookings, for the holder's "download my data"."""

    def when(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    result = []
    for member in members_of(holder):
        bookings = db.session.scalars(
            sa.select(Booking).where(Booking.user_id == member.id).order_by(Booking.created_at, Booking.id)
        )
        result.append(
            {
                "name": member.name,
                "age_group": member.age_group.value if member.age_group else None,
                "language": member.locale,
                "consent_recorded_at": when(member.consent_recorded_at),
                "bookings": [
                    {
                        "reference": b.reference,
                        "offer": b.offer.title,
                        "session_start": when(b.session.starts_at) if b.session else None,
                        "status": b.status.value,
                        "booked_at": when(b.created_at),
                        "cancelled_at": when(b.cancelled_at),
                    }
                    for b in bookings
                ],
            }
        )
    return result
