"""What a booking takes a place in: a whole course, or one session of an activity."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking
from einstein.courses.models import Offer, OfferSession, has_started, places_of


@dataclass
class Target:
    """What is booked: a course (``session`` is None) or one session of an activity."""

    offer: Offer
    session: OfferSession | None

    @classmethod
    def of(cls, offer: Offer, session: OfferSession | None) -> Target:
        """What gives a place at ``session`` of ``offer``: the whole course for a course."""
        return cls(offer, None if offer.is_course else session)

    @classmethod
    def of_session(cls, session: OfferSession) -> Target:
        """What gives a place at this session: the whole course for a course, else the session itself."""
        return cls.of(session.offer, session)

    @classmethod
    def of_booking(cls, booking: Booking) -> Target:
        """What ``booking`` holds a place in."""
        return cls(booking.offer, booking.session)

    @property
    def unit(self) -> Offer | OfferSession:
        """The row that holds the places and their counters."""
        return places_of(self.offer, self.session)

    @property
    def has_started(self) -> bool:
        return has_started(self.offer, self.session)

    def booking_filter(self) -> sa.ColumnElement[bool]:
        """SQL for the bookings of this course or session."""
        if self.session is not None:
            return Booking.session_id == self.session.id
        return sa.and_(Booking.offer_id == self.offer.id, Booking.session_id.is_(None))


def target_for(offer: Offer, session: OfferSession | None) -> Target:
    """Check that ``session`` belongs to ``offer`` and is the right thing to book."""
    if offer.is_course:
        return Target(offer, None)
    if session is None or session.offer_id != offer.id:
        raise BookingError("wrong_kind")
    return Target(offer, session)
