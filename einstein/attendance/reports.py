"""Figures for coordinators: bookings, attendance, fill and no-show rates, and the mix.

Every figure is an aggregate computed in the database, in a fixed number of queries whatever
the number of bookings. The newcomer / neighbour mix has rules of its own (see below).

These count from the raw tables, and are the rules: the dashboard reads the same figures from
summary rows (einstein.attendance.summary), and the tests hold the two equal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from einstein.attendance.models import Attendance, AttendanceStatus, MixSnapshot
from einstein.auth.models import Audience, User
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Category, Offer, OfferKind, OfferSession, OfferStatus, SessionStatus, places_column
from einstein.db import db, write_aside
from einstein.i18n import TIMEZONE, local_today

log = logging.getLogger(__name__)

#: The programme aims for at least this share (%) of the places to go to neighbours.
NEIGHBOUR_AIM = 20
#: People absent without notice this often in the period are on the follow-up list.
REPEATED_NO_SHOWS = 2


class week_start(FunctionElement[datetime]):  # noqa: N801 (an SQL function, named like one)
    """The Monday (00:00 UTC) of the week a timestamp falls in, on PostgreSQL and SQLite."""

    type = sa.DateTime()
    inherit_cache = True


@compiles(week_start, "postgresql")
def _week_start_pg(element: week_start, compiler: Any, **kw: Any) -> str:
    return f"date_trunc('week', {compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC')"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@dataclass(frozen=True)
class Period:
    """The days a report covers, in Utrecht time, both ends included."""

    start: date
    end: date

    @classmethod
    def default(cls) -> Period:
        """The last eight weeks and the next four."""
        today = local_today()
        return cls(today - timedelta(weeks=8), today + timedelta(weeks=4))

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=TIMEZONE)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=TIMEZONE)


def in_period(period: Period, category: Category | None) -> list[sa.ColumnElement[bool]]:
    """The sessions the dashboard counts: scheduled, of a published or cancelled offer, in the period."""
    conditions = [
        OfferSession.starts_at >= period.starts_at,
        OfferSession.starts_at < period.ends_before,
        OfferSession.status == SessionStatus.SCHEDULED,
        Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CANCELLED]),
    ]
    if category is not None:
        conditions.append(Offer.category == category)
    return conditions


@dataclass
class Figures:
    """Sums over a set of sessions."""

    sessions: int = 0
    places: int = 0
    booked: int = 0
    waiting: int = 0
    present: int = 0
    absent: int = 0
    excused: int = 0
    #: people let in beyond the places (at the door of a full session); not in ``booked``
    over_capacity: int = 0

    @classmethod
    def from_row(cls, row: Any) -> Figures:
        return cls(*(int(value or 0) for value in row))

    @property
    def marked(self) -> int:
        return self.present + self.absent + self.excused

    @property
    def fill_rate(self) -> int | None:
        return round(100 * self.booked / self.places) if self.places else None

    @property
    def no_show_rate(self) -> int | None:
        return round(100 * self.absent / self.marked) if self.marked else None


def over_capacity_column() -> sa.ScalarSelect[int]:
    """SQL for how many were let in beyond the places of a session (of a course: the course's).

    They are outside the place counters (which never pass the places), so they are counted from
    their bookings (``Booking.over_capacity``), for a query over ``OfferSession``.
    """
    return (
        sa.select(sa.func.count(Booking.id))
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.over_capacity,
            sa.or_(
                Booking.session_id == OfferSession.id,
                sa.and_(Booking.session_id.is_(None), Booking.offer_id == OfferSession.offer_id),
            ),
        )
        .correlate(OfferSession)
        .scalar_subquery()
    )


def _sums() -> list[sa.ColumnElement[Any]]:
    return [
        sa.func.count(OfferSession.id),
        sa.func.sum(OfferSession.capacity),
        sa.func.sum(places_column("confirmed_count")),
        sa.func.sum(places_column("waitlist_count")),
        sa.func.sum(OfferSession.present_count),
        sa.func.sum(OfferSession.absent_count),
        sa.func.sum(OfferSession.excused_count),
        sa.func.sum(over_capacity_column()),
    ]


def _base() -> sa.Select[Any]:
    return sa.select(*_sums()).select_from(OfferSession).join(Offer, Offer.id == OfferSession.offer_id)


def totals(period: Period, category: Category | None = None) -> Figures:
    """Figures over every session in the period."""
    return Figures.from_row(db.session.execute(_base().where(*in_period(period, category))).one())


def by_week(period: Period, category: Category | None = None) -> list[tuple[date, Figures]]:
    """Figures per week, for the chart over time."""
    week = week_start(OfferSession.starts_at).label("week")
    rows = db.session.execute(
        sa.select(week, *_sums())
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*in_period(period, category))
        .group_by(week)
        .order_by(week)
    )
    result = []
    for row in rows:
        value = row[0]
        day = value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])
        result.append((day, Figures.from_row(row[1:])))
    return result


def by_category(period: Period) -> list[tuple[Category, Figures]]:
    """Figures per category."""
    rows = db.session.execute(
        sa.select(Offer.category, *_sums())
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*in_period(period, None))
        .group_by(Offer.category)
        .order_by(Offer.category)
    )
    return [(row[0], Figures.from_row(row[1:])) for row in rows]


@dataclass
class OfferFigures:
    """One offer's figures in the period."""

    offer_id: int
    title: str
    kind: OfferKind
    figures: Figures


def by_offer(
    period: Period, category: Category | None, page: int, per_page: int = 20
) -> tuple[list[OfferFigures], bool]:
    """Figures per offer, a page at a time; returns (rows, has_more). (No mix per offer: see below.)"""
    rows = db.session.execute(
        sa.select(Offer.id, Offer.title, Offer.kind, *_sums())
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*in_period(period, category))
        .group_by(Offer.id, Offer.title, Offer.kind)
        .order_by(Offer.title, Offer.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    offers = [OfferFigures(row[0], row[1], row[2], Figures.from_row(row[3:])) for row in rows[:per_page]]
    return offers, len(rows) > per_page


@dataclass
class SessionFigures:
    """One session's figures."""

    session_id: int
    offer_id: int
    title: str
    starts_at: datetime
    figures: Figures


def session_figure_columns() -> tuple[Any, ...]:
    """A session's places, bookings, waiting list and marks, in the order ``Figures.from_row``
    reads them after the session count (places where they live: ``places_column``)."""
    return (
        OfferSession.capacity,
        places_column("confirmed_count"),
        places_column("waitlist_count"),
        OfferSession.present_count,
        OfferSession.absent_count,
        OfferSession.excused_count,
    )


def sessions(
    period: Period,
    category: Category | None,
    page: int,
    per_page: int = 25,
    over_capacity: sa.ColumnElement[Any] | None = None,
    joined: tuple[Any, sa.ColumnElement[bool]] | None = None,
) -> tuple[list[SessionFigures], bool]:
    """Figures per session, newest first, a page at a time. The people let in beyond the places
    are counted from the bookings unless ``over_capacity`` says where else to read them (with
    the table that holds them outer-joined on ``joined``)."""
    statement = (
        sa.select(
            OfferSession.id,
            Offer.id,
            Offer.title,
            OfferSession.starts_at,
            sa.literal(1),
            *session_figure_columns(),
            over_capacity if over_capacity is not None else over_capacity_column(),
        )
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
    )
    if joined is not None:
        statement = statement.outerjoin(*joined)
    rows = db.session.execute(
        statement.where(*in_period(period, category))
        .order_by(OfferSession.starts_at.desc(), OfferSession.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    result = [SessionFigures(r[0], r[1], r[2], r[3], Figures.from_row(r[4:])) for r in rows[:per_page]]
    return result, len(rows) > per_page


# --- the newcomer / neighbour mix --------------------------------------------------------------------
#
# People's answer to "about you" is private: the privacy page promises that nobody sees it. The
# mix is therefore never computed for a period a coordinator chooses (two periods that differ by
# one session would give that session's answers) and never for a month still under way (looking
# before and after one booking would give that person's answer). It is counted once per closed
# calendar month and category, frozen in MixSnapshot, shown only for months with at least
# MIX_MIN_PLACES places, and every number shown is rounded to a multiple of MIX_ROUNDING, so that
# adding or subtracting published numbers (all categories against one, months against their
# sum) never gives a count exactly.

#: A month's mix is shown only when at least this many places were taken in it.
MIX_MIN_PLACES = 10
#: Every count of the mix that is shown is rounded to a multiple of this.
MIX_ROUNDING = 5


def rounded(count: int) -> int:
    """``count`` to the nearest multiple of MIX_ROUNDING (halves up)."""
    return int((count + MIX_ROUNDING // 2) // MIX_ROUNDING * MIX_ROUNDING)


@dataclass
class Mix:
    """How many places newcomers, neighbours and people who did not say took, as may be shown.

    ``shown`` holds rounded counts, or is None when there were too few places to show any.
    """

    counts: dict[Audience, int]
    shown: dict[Audience, int] | None = field(init=False)

    def __post_init__(self) -> None:
        counts = {audience: self.counts.get(audience, 0) for audience in Audience}
        enough = sum(counts.values()) >= MIX_MIN_PLACES
        self.shown = {audience: rounded(count) for audience, count in counts.items()} if enough else None

    @property
    def total(self) -> int:
        """The rounded total (what the shares are of)."""
        return sum(self.shown.values()) if self.shown else 0

    def share(self, audience: Audience) -> int | None:
        """A percentage of the rounded counts; None when nothing may be shown."""
        if not self.shown or not self.total:
            return None
        return round(100 * self.shown[audience] / self.total)

    @property
    def neighbour_aim_met(self) -> bool | None:
        """Whether neighbours took at least NEIGHBOUR_AIM % of the places (None: cannot be shown)."""
        share = self.share(Audience.NEIGHBOUR)
        return None if share is None else share >= NEIGHBOUR_AIM


@dataclass
class MonthMix:
    """The mix of one closed month."""

    month: date
    mix: Mix


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def closed_months(period: Period) -> list[date]:
    """The calendar months that overlap ``period`` and are over (in Utrecht), oldest first."""
    this_month = month_start(local_today())
    months, month = [], month_start(period.start)
    while month <= period.end and month < this_month:
        months.append(month)
        month = next_month(month)
    return months


def _count_month(month: date, category: Category | None) -> dict[Audience, int]:
    """The exact mix of a month: confirmed places in its sessions (a course once per month)."""
    counts: dict[Audience, int] = {}
    period = Period(month, next_month(month) - timedelta(days=1))
    for select in _confirmed_in_period(period, category, Booking.audience, sa.func.count()):
        for audience, count in db.session.execute(select.group_by(Booking.audience)):
            counts[audience] = counts.get(audience, 0) + count
    return counts


def _snapshot(month: date, category: Category | None) -> MixSnapshot:
    """The frozen count of a closed month, made the first time anyone asks for it."""
    key = category.value if category is not None else ""
    found = db.session.scalar(sa.select(MixSnapshot).where(MixSnapshot.month == month, MixSnapshot.category == key))
    if found is not None:
        return found
    counts = _count_month(month, category)
    values = {
        "month": month,
        "category": key,
        "newcomer": counts.get(Audience.NEWCOMER, 0),
        "neighbour": counts.get(Audience.NEIGHBOUR, 0),
        "unsaid": counts.get(Audience.UNSAID, 0),
    }
    try:
        write_aside(sa.insert(MixSnapshot).values(**values))
    except sa.exc.IntegrityError:
        # another request froze the same month a moment ago, from the same closed month's rows
        log.info("the mix of %s was frozen by another request", month)
    return MixSnapshot(**values)


def mix_by_month(period: Period, category: Category | None = None) -> list[MonthMix]:
    """The mix of every closed month of ``period``, as it may be shown."""
    result = []
    for month in closed_months(period):
        snapshot = _snapshot(month, category)
        counts = {
            Audience.NEWCOMER: snapshot.newcomer,
            Audience.NEIGHBOUR: snapshot.neighbour,
            Audience.UNSAID: snapshot.unsaid,
        }
        result.append(MonthMix(month, Mix(counts)))
    return result


def mix_overall(months: list[MonthMix]) -> Mix | None:
    """The mix over several months, added up from what each month shows (never from exact counts)."""
    shown = [m.mix.shown for m in months if m.mix.shown]
    if not shown:
        return None
    total = Mix({})
    total.shown = {audience: sum(s[audience] for s in shown) for audience in Audience}
    return total


def _confirmed_in_period(period: Period, category: Category | None, *columns: Any) -> list[sa.Select[Any]]:
    """Two selects over the confirmed bookings of the period: activity bookings of its sessions,
    and course bookings of courses with a session in it (each counted once)."""
    sessions = (
        sa.select(*columns)
        .select_from(Booking)
        .join(OfferSession, OfferSession.id == Booking.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(Booking.status == BookingStatus.CONFIRMED, *in_period(period, category))
    )
    courses_in_period = (
        sa.select(OfferSession.offer_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*in_period(period, category))
    )
    courses = (
        sa.select(*columns)
        .select_from(Booking)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.session_id.is_(None),
            Booking.offer_id.in_(courses_in_period),
        )
    )
    return [sessions, courses]


# --- follow-up ---------------------------------------------------------------------------------------


@dataclass
class FollowUp:
    """Someone who missed several sessions without telling: worth a friendly call."""

    user: User
    no_shows: int
    last_missed: datetime


def follow_up(period: Period, limit: int = 50) -> list[FollowUp]:
    """People absent without notice at least REPEATED_NO_SHOWS times in the period."""
    count = sa.func.count(Attendance.id).label("no_shows")
    last = sa.func.max(OfferSession.starts_at).label("last_missed")
    rows = db.session.execute(
        sa.select(User, count, last)
        .join(Booking, Booking.user_id == User.id)
        .join(Attendance, Attendance.booking_id == Booking.id)
        .join(OfferSession, OfferSession.id == Attendance.session_id)
        .where(
            Attendance.status == AttendanceStatus.ABSENT,
            OfferSession.starts_at >= period.starts_at,
            OfferSession.starts_at < period.ends_before,
        )
        .group_by(User.id)
        .having(count >= REPEATED_NO_SHOWS)
        .order_by(count.desc(), last.desc())
        .limit(limit)
    )
    return [FollowUp(user, no_shows, missed) for user, no_shows, missed in rows]
