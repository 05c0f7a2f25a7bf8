"""Volunteers' record: helping at sessions, and the hours volunteers gave.

An organiser asks for a number of helpers per session (``Offer.helpers_wanted``, 0: none asked);
volunteers sign up and withdraw until the session starts. Sign-up counts the helpers under a
lock on the session's row (as bookings do), and a unique pair (session, person) backs it.

**Hours** are counted only from sessions that took place: over (ended), not cancelled, of an
offer that was public (published, or cancelled later). Attendance need not have been taken: many
activities (a walking group, a cooking evening) never take it, and an organiser cancels a session
that does not happen (that tells the people booked). A person's hours are those of the sessions
they organised (the offer's organiser) or helped at, each session counted once; a withdrawn
sign-up leaves no row. Durations are real time (UTC), so a session across the night the clocks
change counts the hours that passed. Coordinators and admins are staff, not volunteers: the
reports leave them out (their own page still shows what they gave).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from einstein.attendance.models import Helper
from einstein.auth.models import Role, User
from einstein.bookings.services import lock_row
from einstein.courses.models import Offer, OfferSession, OfferStatus, SessionStatus, has_started
from einstein.db import db, utcnow
from einstein.errors import CodedError
from einstein.i18n import TIMEZONE

#: The most helpers an organiser can ask for per session.
MOST_HELPERS = 50
#: The organisation named on a statement of volunteer work unless ``VOLUNTEER_ORGANISATION`` says another.
DEFAULT_ORGANISATION = "Plan Einstein Utrecht"

ERRORS = {
    "not_public": _l("This offer is not open for helpers."),
    "cancelled": _l("This session has been cancelled."),
    "started": _l("This session has already started."),
    "none_wanted": _l("The organiser has not asked for helpers for this session."),
    "enough": _l("Thank you, but there are enough helpers for this session already."),
    "organiser": _l("You organise this session: your hours count already."),
    "already": _l("You are already helping at this session."),
    "not_helping": _l("You are not signed up to help at this session."),
}


class VolunteeringError(CodedError):
    """A sign-up or withdrawal that cannot be done, with a message for the volunteer."""

    messages = ERRORS


class seconds_between(FunctionElement[float]):  # noqa: N801 (an SQL function, named like one)
    """Seconds from the first timestamp to the second, on PostgreSQL and SQLite."""

    type = sa.Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"


def hours_of(session: OfferSession) -> float:
    """A session's length in hours of real time."""
    return (session.ends_at - session.starts_at).total_seconds() / 3600


# --- helping at a session ------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Helpers at one session as a volunteer's page shows them: "Helpers: 1 of 2"."""

    session_id: int
    wanted: int
    helpers: int
    mine: bool
    organiser: bool

    @property
    def open(self) -> bool:
        """Whether one more can sign up."""
        return self.helpers < self.wanted and not self.mine and not self.organiser


def helper_counts(session_ids: Iterable[int]) -> dict[int, int]:
    """How many helpers each session has."""
    ids = list(session_ids)
    if not ids:
        return {}
    query = sa.select(Helper.session_id, sa.func.count()).where(Helper.session_id.in_(ids)).group_by(Helper.session_id)
    return {session_id: int(count) for session_id, count in db.session.execute(query)}


def slots(user: Any, offer: Offer, sessions: Iterable[OfferSession], now: datetime | None = None) -> dict[int, Slot]:
    """The helper slots a volunteer sees on an offer's page: sessions still to come, when helpers are wanted."""
    now = now or utcnow()
    wanted = offer.helpers_wanted
    if not wanted or not offer.is_public or not getattr(user, "is_authenticated", False):
        return {}
    shown = [s for s in sessions if not s.is_cancelled and not has_started(offer, s, now)]
    if not shown:
        return {}
    ids = [s.id for s in shown]
    counts = helper_counts(ids)
    mine = set(
        db.session.scalars(sa.select(Helper.session_id).where(Helper.session_id.in_(ids), Helper.user_id == user.id))
    )
    organiser = offer.organiser_id == user.id
    return {i: Slot(i, wanted, counts.get(i, 0), i in mine, organiser) for i in ids}


def _check_open(session: OfferSession, now: datetime) -> None:
    offer = session.offer
    if not offer.is_public:
        raise VolunteeringError("not_public")
    if session.is_cancelled:
        raise VolunteeringError("cancelled")
    if has_started(offer, session, now):
        raise VolunteeringError("started")


def sign_up(user: User, session: OfferSession) -> Helper:
    """Sign a volunteer up to help, never beyond the number wanted (counted under the session's lock)."""
    now = utcnow()
    session = lock_row(session)
    _check_open(session, now)
    offer = session.offer
    if offer.organiser_id == user.id:
        raise VolunteeringError("organiser")
    if offer.helpers_wanted <= 0:
        raise VolunteeringError("none_wanted")
    if find(user, session) is not None:
        raise VolunteeringError("already")
    if helper_counts([session.id]).get(session.id, 0) >= offer.helpers_wanted:
        raise VolunteeringError("enough")
    helper = Helper(session_id=session.id, user_id=user.id, created_at=now)
    db.session.add(helper)
    db.session.flush()
    return helper


def find(user: User, session: OfferSession) -> Helper | None:
    """The person's sign-up to help at a session, if any."""
    return db.session.scalar(sa.select(Helper).where(Helper.session_id == session.id, Helper.user_id == user.id))


def withdraw(user: User, session: OfferSession) -> None:
    """Take back a sign-up to help, until the session starts (afterwards it is part of the record)."""
    session = lock_row(session)
    helper = find(user, session)
    if helper is None:
        raise VolunteeringError("not_helping")
    if has_started(session.offer, session):
        raise VolunteeringError("started")
    db.session.delete(helper)
    db.session.flush()


def set_wanted(offer: Offer, number: int) -> None:
    """Ask for ``number`` helpers at each session of an offer (those already signed up stay)."""
    offer.helpers_wanted = number
    db.session.flush()


@dataclass(frozen=True)
class SessionHelpers:
    """One session of an offer and who helps at it, for the organiser and coordinators."""

    session: OfferSession
    helpers: list[User]


def helpers_of(offer: Offer, sessions: Iterable[OfferSession]) -> list[SessionHelpers]:
    """Who helps at each of these sessions, in one query."""
    chosen = list(sessions)
    ids = [s.id for s in chosen]
    names: dict[int, list[User]] = {i: [] for i in ids}
    if ids:
        query = (
            sa.select(Helper.session_id, User)
            .join(User, User.id == Helper.user_id)
            .where(Helper.session_id.in_(ids))
            .order_by(Helper.created_at, Helper.id)
        )
        for session_id, user in db.session.execute(query):
            names[session_id].append(user)
    return [SessionHelpers(s, names[s.id]) for s in chosen]


# --- the hours given -----------------------------------------------------------------------------


def took_place(now: datetime) -> list[sa.ColumnElement[bool]]:
    """SQL conditions: a session that took place (the rule in the module's docstring)."""
    return [
        OfferSession.status == SessionStatus.SCHEDULED,
        OfferSession.ends_at <= now,
        Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CANCELLED]),
    ]


#: What a volunteer did at a session.
ORGANISED = "organised"
HELPED = "helped"
ROLE_LABELS = {ORGANISED: _l("Organised"), HELPED: _l("Helped")}


@dataclass(frozen=True)
class Given:
    """One session a volunteer gave time to."""

    session: OfferSession
    role: str
    hours: float

    @property
    def offer(self) -> Offer:
        return self.session.offer

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[self.role])


def given(user: User, now: datetime | None = None) -> list[Given]:
    """Every session that took place that the person organised or helped at, oldest first."""
    now = now or utcnow()
    base = sa.select(OfferSession).join(Offer, Offer.id == OfferSession.offer_id).where(*took_place(now))
    organised = db.session.scalars(base.where(Offer.organiser_id == user.id)).all()
    helped = db.session.scalars(
        base.join(Helper, Helper.session_id == OfferSession.id).where(Helper.user_id == user.id)
    ).all()
    roles = {s.id: (s, HELPED) for s in helped}
    roles.update({s.id: (s, ORGANISED) for s in organised})  # organised wins: a session counts once
    rows = [Given(s, role, hours_of(s)) for s, role in roles.values()]
    return sorted(rows, key=lambda g: (g.session.starts_at, g.session.id))


def _month(moment: datetime) -> date:
    return moment.astimezone(TIMEZONE).date().replace(day=1)


@dataclass(frozen=True)
class Month:
    """The hours of one calendar month (Utrecht time), with its sessions."""

    month: date
    hours: float
    sessions: list[Given]


def by_month(rows: list[Given]) -> list[Month]:
    """The sessions per month, newest month first."""
    months: dict[date, list[Given]] = {}
    for row in rows:
        months.setdefault(_month(row.session.starts_at), []).append(row)
    return [Month(month, sum(g.hours for g in items), items) for month, items in sorted(months.items(), reverse=True)]


@dataclass(frozen=True)
class ActivityHours:
    """One offer on a statement: how many sessions and hours, and what the person did."""

    offer: Offer
    sessions: int
    hours: float
    roles: list[str]

    @property
    def role_labels(self) -> list[str]:
        return [str(ROLE_LABELS[role]) for role in self.roles]


@dataclass(frozen=True)
class Statement:
    """What a statement of volunteer work says (the page and any check of it read this alone).

    ``first`` and ``last`` are the days of the first and last session (None when nothing counted).
    """

    user_id: int
    name: str
    organisation: str
    first: date | None
    last: date | None
    hours: float
    sessions: int
    activities: list[ActivityHours] = field(default_factory=list)
    issued: date | None = None

    @property
    def empty(self) -> bool:
        return self.sessions == 0


def organisation_name() -> str:
    """The organisation that issues statements (setting ``VOLUNTEER_ORGANISATION``)."""
    return str(current_app.config.get("VOLUNTEER_ORGANISATION") or DEFAULT_ORGANISATION)


def statement_for(user: User, now: datetime | None = None) -> Statement:
    """The statement of volunteer work of one person: who, where, when, how many hours, at what."""
    now = now or utcnow()
    rows = given(user, now)
    per_offer: dict[int, list[Given]] = {}
    for row in rows:
        per_offer.setdefault(row.session.offer_id, []).append(row)
    activities = [
        ActivityHours(
            items[0].offer,
            len(items),
            sum(g.hours for g in items),
            [role for role in (ORGANISED, HELPED) if any(g.role == role for g in items)],
        )
        for items in per_offer.values()
    ]
    activities.sort(key=lambda a: (-a.hours, a.offer.title))
    local = [g.session.starts_at.astimezone(TIMEZONE).date() for g in rows]
    return Statement(
        user_id=user.id,
        name=user.name,
        organisation=organisation_name(),
        first=min(local) if local else None,
        last=max(local) if local else None,
        hours=sum(g.hours for g in rows),
        sessions=len(rows),
        activities=activities,
        issued=now.astimezone(TIMEZONE).date(),
    )


# --- for coordinators ----------------------------------------------------------------------------


def _given_in(starts: datetime, ends_before: datetime, now: datetime) -> sa.Subquery:
    """(user_id, session_id, role) for sessions that took place and started in the period."""
    in_period = [*took_place(now), OfferSession.starts_at >= starts, OfferSession.starts_at < ends_before]
    organised = (
        sa.select(
            Offer.organiser_id.label("user_id"),
            OfferSession.id.label("session_id"),
            sa.literal(ORGANISED).label("role"),
        )
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(Offer.organiser_id.is_not(None), *in_period)
    )
    helped = (
        sa.select(Helper.user_id, Helper.session_id, sa.literal(HELPED).label("role"))
        .select_from(Helper)
        .join(OfferSession, OfferSession.id == Helper.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*in_period)
        # a helper who also organised counts once, as the organiser
        .where(sa.or_(Offer.organiser_id.is_(None), Offer.organiser_id != Helper.user_id))
    )
    return sa.union_all(organised, helped).subquery("given")


#: Staff are not volunteers: the reports leave out coordinators and admins.
_VOLUNTEER_ROLES = [Role.PARTICIPANT, Role.VOLUNTEER]


@dataclass(frozen=True)
class VolunteerHours:
    """One volunteer's hours in a period, for the reports."""

    user_id: int
    name: str
    sessions: int
    organised: int
    helped: int
    hours: float


def hours_by_volunteer(starts: datetime, ends_before: datetime, now: datetime | None = None) -> list[VolunteerHours]:
    """Each volunteer's sessions and hours in a period (sessions starting in it), most hours first; one query."""
    now = now or utcnow()
    given_ = _given_in(starts, ends_before, now)
    seconds = sa.func.sum(seconds_between(OfferSession.starts_at, OfferSession.ends_at))
    query = (
        sa.select(
            User.id,
            User.name,
            sa.func.count(),
            sa.func.sum(sa.case((given_.c.role == ORGANISED, 1), else_=0)),
            sa.func.sum(sa.case((given_.c.role == HELPED, 1), else_=0)),
            seconds,
        )
        .select_from(given_)
        .join(User, User.id == given_.c.user_id)
        .join(OfferSession, OfferSession.id == given_.c.session_id)
        .where(User.role.in_(_VOLUNTEER_ROLES))
        .group_by(User.id, User.name)
        .order_by(seconds.desc(), User.name, User.id)
    )
    return [
        VolunteerHours(
            user_id, name, int(count), int(organised or 0), int(helped or 0), round(float(secs or 0) / 3600, 2)
        )
        for user_id, name, count, organised, helped, secs in db.session.execute(query)
    ]


def given_rows(starts: datetime, ends_before: datetime, now: datetime | None = None) -> Iterator[tuple[Any, ...]]:
    """(name, offer title, kind, starts, ends, role, hours) per volunteer and session, for the export."""
    now = now or utcnow()
    given_ = _given_in(starts, ends_before, now)
    query = (
        sa.select(
            User.name,
            Offer.title,
            Offer.kind,
            OfferSession.starts_at,
            OfferSession.ends_at,
            given_.c.role,
        )
        .select_from(given_)
        .join(User, User.id == given_.c.user_id)
        .join(OfferSession, OfferSession.id == given_.c.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(User.role.in_(_VOLUNTEER_ROLES))
        .order_by(User.name, User.id, OfferSession.starts_at, OfferSession.id)
    )
    for name, title, kind, starts_at, ends_at, role in db.session.execute(query.execution_options(yield_per=1000)):
        hours = round((ends_at - starts_at).total_seconds() / 3600, 2)
        yield name, title, kind, starts_at, ends_at, ROLE_LABELS[role], hours
