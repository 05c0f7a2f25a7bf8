"""Attendance: who came to a session."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from einstein.auth.models import User
from einstein.bookings.models import Booking
from einstein.courses.models import OfferSession
from einstein.db import LabelledEnum, Model, enum_column, utcnow


class AttendanceStatus(LabelledEnum):
    """What the person taking attendance tapped."""

    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"

    @classmethod
    def labels(cls) -> dict[AttendanceStatus, Any]:
        return {cls.PRESENT: _l("Present"), cls.ABSENT: _l("Absent"), cls.EXCUSED: _l("Excused")}


class Attendance(Model):
    """Whether the person behind a booking came to one session; one row per session and booking."""

    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "booking_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus))
    marked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[OfferSession] = relationship()
    booking: Mapped[Booking] = relationship()

    def __repr__(self) -> str:
        return f"<Attendance session={self.session_id} booking={self.booking_id} {self.status.value}>"


class Helper(Model):
    """A volunteer who said they will help at one session (einstein.attendance.volunteering).

    Withdrawing deletes the row; the hours of a session that took place count from these rows.
    """

    __tablename__ = "helpers"
    __table_args__ = (sa.UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[OfferSession] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Helper session={self.session_id} user={self.user_id}>"


class MixSnapshot(Model):
    """The newcomer / neighbour mix of one closed calendar month, counted once and never again.

    Figures about people's self-description are only ever shown per whole month that is over,
    from this frozen count: nobody can compare two periods that differ by one session, or the
    same month before and after someone booked or changed their answer, to learn one person's
    answer. ``category`` is "" for all categories together.
    """

    __tablename__ = "mix_snapshots"
    __table_args__ = (sa.UniqueConstraint("month", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The first day of the month (Amsterdam time).
    month: Mapped[date]
    category: Mapped[str] = mapped_column(sa.String(20), default="")
    newcomer: Mapped[int] = mapped_column(default=0)
    neighbour: Mapped[int] = mapped_column(default=0)
    unsaid: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<MixSnapshot {self.month:%Y-%m} {self.category or 'all'}>"
