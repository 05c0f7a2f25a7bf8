"""Places held for the mix: who may take a free place while some are held, and their opening.

An organiser may hold some of the places of a course or an activity session for people who said
"neighbour" (or "newcomer") about themselves, until some days before the start
(``courses.models.holding_of``). Until then, everyone else, also someone who said nothing, may
take only the open places: the confirmed bookings of people who did not say ``held_for`` stay
below ``capacity - held``. Someone who said ``held_for`` may take any free place. At the opening
moment the held places are everyone's, and ``open_due`` gives them to the waiting list.

Everything here runs under the lock on the row that holds the places (``services.lock_places``),
as the counting of places does: the bookings counted cannot change while we count. What a person
said is read from their booking (``Booking.audience``, as they said it when booking), and never
leaves this module but as a yes or no for that one person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from einstein.auth.models import Audience
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking, BookingStatus
from einstein.bookings.targets import Target
from einstein.courses.models import (
    MAX_HELD_DAYS,
    Holding,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    SessionStatus,
    held_opening,
    holding_of,
)
from einstein.db import db
from einstein.i18n import format_when


def others_booked(target: Target, holding: Holding) -> int:
    """How many open places are taken: confirmed places of people who did not say ``held_for``.

    Someone let in at the door beyond the places (``over_capacity``) takes none.
    """
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Booking)
            .where(
                target.booking_filter(),
                Booking.status == BookingStatus.CONFIRMED,
                Booking.over_capacity.is_(False),
                Booking.audience != holding.held_for,
            )
        )
        or 0
    )


def open_places_left(target: Target, unit: Offer | OfferSession, holding: Holding) -> int:
    """The open places (not held) nobody has taken yet; the caller holds the lock on ``unit``."""
    return max(unit.capacity - holding.places - others_booked(target, holding), 0)


def held_back(target: Target, unit: Offer | OfferSession, audience: Audience, now: datetime) -> Holding | None:
    """The holding that keeps someone who said ``audience`` from a free place now, or None.

    None when nothing is held, when they said ``held_for``, or when an open place is left. The
    caller holds the lock and knows a place is free.
    """
    holding = holding_of(target.offer, target.session, now)
    if holding is None or audience == holding.held_for:
        return None
    return holding if open_places_left(target, unit, holding) <= 0 else None


def refusal(holding: Holding, *, can_wait: bool) -> BookingError:
    """What someone is told who may not take a held place: until when, and what they can do.

    Plain words that say nothing of anyone's choice, theirs included.
    """
    until = format_when(holding.opens_at)
    return BookingError("held_waitlist" if can_wait else "held_full", until=until)


def promotion_filter(target: Target, unit: Offer | OfferSession, now: datetime) -> sa.ColumnElement[bool] | None:
    """Who on the waiting list may take the next free place: None for anyone, else SQL that
    keeps to the people who said ``held_for`` (the open places are taken). Under the lock."""
    holding = holding_of(target.offer, target.session, now)
    if holding is None or open_places_left(target, unit, holding) > 0:
        return None
    return Booking.audience == holding.held_for


def opened(now: datetime) -> list[Target]:
    """Courses and activity sessions whose held places have opened, with people waiting and
    places free: for ``open_held_places`` (which counts again under the lock)."""
    horizon = now + timedelta(days=MAX_HELD_DAYS + 1)
    courses = db.session.scalars(
        sa.select(Offer).where(
            Offer.kind == OfferKind.COURSE,
            Offer.status == OfferStatus.PUBLISHED,
            Offer.held_places > 0,
            Offer.waitlist_count > 0,
            Offer.confirmed_count < Offer.capacity,
        )
    )
    sessions = db.session.scalars(
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            Offer.kind == OfferKind.ACTIVITY,
            Offer.status == OfferStatus.PUBLISHED,
            Offer.held_places > 0,
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.starts_at > now,
            OfferSession.starts_at <= horizon,
            OfferSession.waitlist_count > 0,
            OfferSession.confirmed_count < OfferSession.capacity,
        )
        .order_by(OfferSession.starts_at)
    )
    targets = [Target(offer, None) for offer in courses]
    targets += [Target(session.offer, session) for session in sessions]
    # opened, and not begun: a course under way takes nobody new from its list here
    return [
        t
        for t in targets
        if (opening := held_opening(t.offer, t.session)) is not None and opening <= now and not t.has_started
    ]
