"""Bookings: a person's place in a course or in an activity's session."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from einstein.auth.models import Audience, User
from einstein.courses.models import Offer, OfferSession, SessionStatus, places_of
from einstein.db import LabelledEnum, Model, enum_column, utcnow


class BookingStatus(LabelledEnum):
    """Confirmed holds a place; waitlisted waits in order; cancelled holds nothing."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    @classmethod
    def labels(cls) -> dict[BookingStatus, Any]:
        return {cls.CONFIRMED: _l("Booked"), cls.WAITLISTED: _l("On the waiting list"), cls.CANCELLED: _l("Cancelled")}


class BookingSource(enum.StrEnum):
    """How the booking was made."""

    SELF = "self"
    DESK = "desk"
    WALK_IN = "walk_in"


class CancelReason(enum.StrEnum):
    """Why a booking ended, for the e-mail and for reports."""

    PARTICIPANT = "participant"
    ORGANISER = "organiser"
    SESSION_CANCELLED = "session_cancelled"
    OFFER_CANCELLED = "offer_cancelled"
    ACCOUNT_DELETED = "account_deleted"
    #: A place from the waiting list that the person did not take in time.
    NO_ANSWER = "no_answer"


#: Booking references avoid letters and digits that are easy to confuse (0/O, 1/I/L, 5/S, 2/Z).
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"


#: How lists and exports name a booking whose person deleted their account.
FORMER_PARTICIPANT = _l("Former participant")


class Booking(Model):
    """A person's place in a course (``session_id`` is None) or in one activity session.

    A person has at most one booking per course and per session, enforced by partial unique
    indexes; booking again after cancelling reuses the row.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        sa.Index(
            "uq_bookings_user_course",
            "user_id",
            "offer_id",
            unique=True,
            sqlite_where=sa.text("session_id IS NULL"),
            postgresql_where=sa.text("session_id IS NULL"),
        ),
        sa.Index(
            "uq_bookings_user_session",
            "user_id",
            "session_id",
            unique=True,
            sqlite_where=sa.text("session_id IS NOT NULL"),
            postgresql_where=sa.text("session_id IS NOT NULL"),
        ),
        sa.Index("ix_bookings_session_status_position", "session_id", "status", "waitlist_position"),
        sa.Index("ix_bookings_offer_status_position", "offer_id", "status", "waitlist_position"),
        sa.Index("ix_bookings_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code printed on the booking card and typed in at the door.
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True)
    #: None once the person deleted their account: the booking stays as an anonymous count.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"))
    #: The activity session booked; None for a course booking, which covers every session.
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"))
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus))
    #: Order on the waiting list (first come, first served); set while waitlisted.
    waitlist_position: Mapped[int | None]
    #: The person's self-description when booking, kept for anonymous aggregate reports only.
    audience: Mapped[Audience] = mapped_column(enum_column(Audience), default=Audience.UNSAID)
    source: Mapped[BookingSource] = mapped_column(enum_column(BookingSource), default=BookingSource.SELF)
    #: The coordinator or volunteer who booked on the person's behalf.
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[CancelReason | None] = mapped_column(enum_column(CancelReason))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    #: A place from the waiting list held until this moment for the person to say yes; None
    #: once they did (or when the offer gives places without asking).
    hold_until: Mapped[datetime | None]
    #: Confirmed beyond the places: someone who turned up at a full session and was let in at the
    #: door. Not in the place counters (which never pass the places); reports count them apart.
    over_capacity: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    offer: Mapped[Offer] = relationship()
    session: Mapped[OfferSession | None] = relationship()

    def __repr__(self) -> str:
        return f"<Booking {self.reference} {self.status.value}>"

    @property
    def is_active(self) -> bool:
        return self.status != BookingStatus.CANCELLED

    @property
    def unit(self) -> Offer | OfferSession:
        """What this booking takes a place in: the course or the activity session."""
        return places_of(self.offer, self.session)

    @property
    def person_name(self) -> str:
        """The name of the person booked; a deleted account leaves an anonymous booking."""
        return self.user.name if self.user is not None else str(FORMER_PARTICIPANT)

    @property
    def sessions(self) -> list[OfferSession]:
        """The sessions this booking is for: its activity session, or every session of the course."""
        return [self.session] if self.session is not None else list(self.offer.sessions)

    @property
    def upcoming_sessions(self) -> list[OfferSession]:
        """Its sessions that will still take place (scheduled and not over), soonest first."""
        now = utcnow()
        return [s for s in self.sessions if s.status == SessionStatus.SCHEDULED and s.ends_at > now]
