"""The place counters against the bookings they count: find drift, and mend it.

Counters are kept under the booking lock and the database refuses one above the places or
below nought, so drift should never happen; this is the check that it did not (run nightly by
beat, and by ``flask --app einstein check-counters``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Offer, OfferKind, OfferSession
from einstein.db import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drift:
    """One counter that does not match its bookings."""

    #: "course" (the counter is on the offer) or "session" (on an activity's session)
    kind: str
    unit_id: int
    counter: str
    stored: int
    actual: int


_COUNTERS = {BookingStatus.CONFIRMED: "confirmed_count", BookingStatus.WAITLISTED: "waitlist_count"}


def _counted(
    unit_column: sa.orm.QueryableAttribute[int | None], *where: sa.ColumnElement[bool]
) -> dict[tuple[int | None, str], int]:
    rows = db.session.execute(
        sa.select(unit_column, Booking.status, sa.func.count())
        # people let in beyond the places are outside the counters (Booking.over_capacity)
        .where(Booking.status.in_(list(_COUNTERS)), sa.not_(Booking.over_capacity), *where)
        .group_by(unit_column, Booking.status)
    )
    return {(unit_id, _COUNTERS[status]): count for unit_id, status, count in rows}


def counter_drift() -> list[Drift]:
    """Every counter that differs from the bookings, in four queries whatever the size."""
    drift = []
    courses = _counted(Booking.offer_id, Booking.session_id.is_(None))
    sessions = _counted(Booking.session_id, Booking.session_id.is_not(None))
    course_rows = db.session.execute(
        sa.select(Offer.id, Offer.confirmed_count, Offer.waitlist_count).where(Offer.kind == OfferKind.COURSE)
    )
    session_rows = db.session.execute(
        sa.select(OfferSession.id, OfferSession.confirmed_count, OfferSession.waitlist_count)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(Offer.kind == OfferKind.ACTIVITY)
    )
    for kind, rows, counted in (("course", course_rows, courses), ("session", session_rows, sessions)):
        for unit_id, confirmed, waiting in rows:
            for counter, stored in (("confirmed_count", confirmed), ("waitlist_count", waiting)):
                actual = counted.get((unit_id, counter), 0)
                if actual != stored:
                    drift.append(Drift(kind, unit_id, counter, stored, actual))
    if drift:
        log.warning("%d place counter(s) differ from their bookings: %s", len(drift), drift[:10])
    return drift


def fix_drift(drift: list[Drift]) -> None:
    """Set each drifted counter to what the bookings say (the caller commits)."""
    for row in drift:
        model = Offer if row.kind == "course" else OfferSession
        db.session.execute(sa.update(model).where(model.id == row.unit_id).values({row.counter: row.actual}))
