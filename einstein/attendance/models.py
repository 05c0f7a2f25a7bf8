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


class CredentialKind(LabelledEnum):
    """What a verifiable document says: a course was completed, or volunteer work was done."""

    CERTIFICATE = "certificate"
    VOLUNTEER_STATEMENT = "volunteer_statement"

    @classmethod
    def labels(cls) -> dict[CredentialKind, Any]:
        return {cls.CERTIFICATE: _l("Certificate of participation"), cls.VOLUNTEER_STATEMENT: _l("Volunteer statement")}


class Credential(Model):
    """A certificate or volunteer statement as issued, which anyone can check by its code
    (einstein.attendance.credentials).

    What the public check shows is frozen here when the document is first shown, so it says what
    the paper says even after a name, a title or the attendance changes. Issued once per person
    and ``subject``; a revoked one stays revoked (it is not issued again).
    """

    __tablename__ = "credentials"
    __table_args__ = (sa.UniqueConstraint("holder_id", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code printed on the document and in its QR code, without dashes (``credentials.format_code``).
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[CredentialKind] = mapped_column(enum_column(CredentialKind))
    #: None once the person deleted their account.
    holder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The course, for a certificate.
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offers.id", ondelete="SET NULL"), index=True)
    #: What the document is about, for issuing it once: ``offer:<id>``, or a statement's period and hours.
    subject: Mapped[str] = mapped_column(sa.String(80))
    #: Frozen at issue: the holder's name, the title and the language it is written in.
    holder_name: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(200))
    title_lang: Mapped[str] = mapped_column(sa.String(8))
    #: The first and last day (Amsterdam time) of what was done.
    first_day: Mapped[date]
    last_day: Mapped[date]
    #: For a volunteer statement: the minutes of volunteer work it states.
    minutes: Mapped[int | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def shown_code(self) -> str:
        """The code as printed: three groups of four (``K7MQ-4X9A-B3CP``)."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    def __repr__(self) -> str:
        return f"<Credential {self.code} {self.kind.value}{' revoked' if self.revoked_at else ''}>"


class _DashboardFigures:
    """The figures the dashboard adds up, kept per session and summed per day."""

    places: Mapped[int] = mapped_column(default=0)
    booked: Mapped[int] = mapped_column(default=0)
    waiting: Mapped[int] = mapped_column(default=0)
    present: Mapped[int] = mapped_column(default=0)
    absent: Mapped[int] = mapped_column(default=0)
    excused: Mapped[int] = mapped_column(default=0)
    over_capacity: Mapped[int] = mapped_column(default=0)
    #: Answers to "How was it?" about the session, per face.
    good: Mapped[int] = mapped_column(default=0)
    okay: Mapped[int] = mapped_column(default=0)
    not_good: Mapped[int] = mapped_column(default=0)


class DashboardSession(_DashboardFigures, Model):
    """One session's figures as the dashboard counts them (einstein.attendance.summary).

    Kept for every session, counted or not (``counted``: scheduled, of a published or cancelled
    offer), so that a change can be taken back from its day's sums. No foreign key: a session
    deleted must still be found here to be subtracted.
    """

    __tablename__ = "dashboard_sessions"
    __table_args__ = (
        sa.Index("ix_dashboard_sessions_offer_id_day", "offer_id", "day"),
        sa.Index("ix_dashboard_sessions_day", "day"),
    )

    session_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    offer_id: Mapped[int]
    counted: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str] = mapped_column(sa.String(20))
    #: The day the session starts on, in Utrecht (what a period is made of).
    day: Mapped[date]
    #: The Monday of the week it starts in, in UTC (how the chart over time groups: reports.week_start).
    week: Mapped[date]

    def __repr__(self) -> str:
        return f"<DashboardSession {self.session_id} {self.day}{'' if self.counted else ' not counted'}>"


class DashboardDay(_DashboardFigures, Model):
    """The sums of the counted sessions of one day, week and category: what the dashboard adds up.

    A day in Utrecht falls in at most two UTC weeks (a Monday's first hours are Sunday in UTC),
    hence the week in the key; the dashboard reads a few hundred of these for any period.
    """

    __tablename__ = "dashboard_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    sessions: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<DashboardDay {self.day} {self.category} {self.sessions} sessions>"


class DashboardChange(Model):
    """A session (or every session of an offer) whose dashboard figures may have changed.

    Written in the same transaction as the change (one INSERT), applied to the summary rows the
    next time the dashboard is read. Both ids None: recount everything.
    """

    __tablename__ = "dashboard_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int | None]
    session_id: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<DashboardChange offer={self.offer_id} session={self.session_id}>"


class DashboardNoShow(Model):
    """One absence without notice, with who and when: what the dashboard's follow-up list counts.

    Kept with the session's other summary rows (einstein.attendance.summary), so that the list
    reads the absences of the period from one index instead of joining attendance, bookings and
    sessions for every session of the period.
    """

    __tablename__ = "dashboard_no_shows"
    __table_args__ = (sa.Index("ix_dashboard_no_shows_starts_at_user_id", "starts_at", "user_id"),)

    session_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int]
    starts_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<DashboardNoShow session={self.session_id} user={self.user_id}>"
