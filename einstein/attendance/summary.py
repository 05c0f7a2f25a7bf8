"""The dashboard's figures from summary rows, so that it costs the same with 1,000 sessions as with 100,000.

Three tables (einstein.attendance.models):

- ``dashboard_sessions``: one row per session with its figures as the dashboard counts them
  (the same rules as ``reports``: places, booked and waiting where the places live, attendance,
  people let in beyond the places, answers to "How was it?");
- ``dashboard_days``: the sums of the counted sessions per day (Utrecht), week (UTC, as the chart
  groups) and category; every figure over a period is a sum of a few hundred of these;
- ``dashboard_changes``: which sessions (or offers) changed, written in the same transaction as the
  change by one INSERT (``init_app`` listens to the unit of work and to the Core statements run
  through the session, so the booking rush's hand-written UPDATEs are seen too).

Reading the dashboard first applies what changed (``refresh``): each changed session is counted
again from the raw tables and the difference is added to its day's sums, so the work follows the
number of changes, never the number of sessions. ``rebuild`` counts everything again (the
migration's backfill, bulk loads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from einstein.attendance import reports
from einstein.attendance.feedback import Cell, Face, Feedback, Satisfaction, _cell
from einstein.attendance.models import (
    Attendance,
    AttendanceStatus,
    DashboardChange,
    DashboardDay,
    DashboardNoShow,
    DashboardSession,
)
from einstein.attendance.reports import (
    REPEATED_NO_SHOWS,
    Figures,
    FollowUp,
    OfferFigures,
    Period,
    SessionFigures,
    month_start,
    next_month,
)
from einstein.auth.models import User
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Category, Offer, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, reading_request, table_of, utcnow
from einstein.i18n import TIMEZONE

SESSIONS = table_of(DashboardSession)
DAYS = table_of(DashboardDay)
CHANGES = table_of(DashboardChange)
NO_SHOWS = table_of(DashboardNoShow)

#: The figures of a session, in ``Figures``' order after ``sessions``, then the answers per face.
FIGURES = ("places", "booked", "waiting", "present", "absent", "excused", "over_capacity")
FACES = {Face.GOOD: "good", Face.OKAY: "okay", Face.NOT_GOOD: "not_good"}
VALUES = (*FIGURES, *FACES.values())
#: Sessions counted again per round of statements.
CHUNK = 500
#: The placeholder day of a session row claimed before it is counted.
_NOWHERE = date(1970, 1, 1)

# --- what changed, noted in the transaction that changes it ------------------------------------------

#: Columns whose change moves a figure, per table (anything else, such as a title, does not).
_WATCHED = {
    "offers": {"status", "category", "kind", "capacity", "confirmed_count", "waitlist_count"},
    "offer_sessions": {
        "offer_id",
        "starts_at",
        "status",
        "capacity",
        "confirmed_count",
        "waitlist_count",
        "present_count",
        "absent_count",
        "excused_count",
    },
    "bookings": {"status", "over_capacity", "offer_id", "session_id"},
    "feedback": {"face", "session_id", "offer_id"},
    "attendance": {"status", "session_id", "booking_id"},
}
_NOTED = "einstein.dashboard.noted"
#: (offer id, session id): a session, or every session of an offer; (None, None): everything.
Key = tuple[int | None, int | None]
EVERYTHING: Key = (None, None)


def _keys_of_row(table: str, row: Any) -> list[Key]:
    """What a row of ``table`` (an object or a mapping of its columns) counts in."""

    def get(name: str) -> Any:
        return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)

    if table == "offers":
        return [(get("id"), None)]
    if table == "offer_sessions":
        return [(None, get("id"))]
    if table == "bookings":
        if get("session_id") is not None:
            return [(None, get("session_id"))]
        return [(get("offer_id"), None)]
    return [(None, get("session_id"))]  # feedback, attendance


def _note(session: OrmSession, keys: Iterable[Key]) -> None:
    """Write the keys not yet written in this transaction, in one INSERT."""
    noted: set[Key] = session.info.setdefault(_NOTED, set())
    fresh = sorted({key for key in keys if key not in noted}, key=lambda k: (k[0] or 0, k[1] or 0))
    if not fresh:
        return
    noted.update(fresh)
    session.connection().execute(CHANGES.insert(), [{"offer_id": o, "session_id": s} for o, s in fresh])


def _after_flush(session: OrmSession, _context: Any) -> None:
    gone = [obj.id for obj in session.deleted if isinstance(obj, User)]
    if gone:
        # their bookings lose them by the foreign key (SET NULL), which no statement here shows
        session.connection().execute(NO_SHOWS.delete().where(NO_SHOWS.c.user_id.in_(gone)))
    keys: list[Key] = []
    for obj in (*session.new, *session.deleted, *session.dirty):
        table = getattr(type(obj), "__tablename__", None)
        if table not in _WATCHED:
            continue
        if obj in session.dirty:
            state = sa.inspect(obj)
            changed = [n for n in _WATCHED[table] if n in state.attrs and state.attrs[n].history.has_changes()]
            if not changed:
                continue
            for name in ("offer_id", "session_id"):  # a booking moved: where it was counts too
                if name in changed:
                    before = dict.fromkeys(("id", "offer_id", "session_id"))
                    before.update({n: getattr(obj, n, None) for n in before})
                    before[name] = next(iter(state.attrs[name].history.deleted), None)
                    keys += _keys_of_row(table, before)
        keys += _keys_of_row(table, obj)
    if keys:
        _note(session, keys)


def _value(bind: Any, params: dict[str, Any]) -> Any:
    return params.get(bind.key, bind.value) if isinstance(bind, sa.BindParameter) else None


def _by_id(where: Any, table: sa.Table, params: dict[str, Any]) -> int | None:
    """The id in ``WHERE table.id = :x``, the shape of the rush path's UPDATEs; None otherwise."""
    if isinstance(where, sa.BinaryExpression) and where.operator is sa.sql.operators.eq:
        left = where.left
        if isinstance(left, sa.Column) and left.table is table and left.name == "id":
            value = _value(where.right, params)
            return int(value) if value is not None else None
    return None


def _on_execute(state: ORMExecuteState) -> None:
    """Note what a Core or bulk statement run through the session changes."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    statement: Any = state.statement
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name not in _WATCHED:
        return
    raw: Any = state.parameters
    param_sets: list[dict[str, Any]] = (
        [dict(p) for p in raw] if isinstance(raw, list | tuple) else [dict(raw or {})]
    ) or [{}]
    if state.is_insert:
        keys: list[Key] = []
        values = {getattr(k, "key", k): _value(v, {}) for k, v in (getattr(statement, "_values", None) or {}).items()}
        multi = getattr(statement, "_multi_values", None)
        if multi or getattr(statement, "select", None) is not None:
            _note(state.session, [EVERYTHING])
            return
        for params in param_sets:
            keys += _keys_of_row(name, {**values, **params})
        _note(state.session, [EVERYTHING] if any(k == EVERYTHING for k in keys) else keys)
        return
    assert isinstance(table, sa.Table)  # noqa: S101 (a DML statement's table)
    where = statement.whereclause
    keys = []
    for params in param_sets:
        if where is None:
            ids = [params.get("id")] if "id" in params else [None]
            if None in ids:
                _note(state.session, [EVERYTHING])
                return
            where_rows = sa.select(*_key_columns(table)).where(table.c.id.in_(ids))
            keys += [k for row in state.session.execute(where_rows) for k in _keys_of_row(name, row._mapping)]
            continue
        found = _by_id(where, table, params) if name in ("offers", "offer_sessions") else None
        if found is not None:
            keys += _keys_of_row(name, {"id": found})
            continue
        rows = state.session.execute(sa.select(*_key_columns(table)).where(where), params)
        keys += [k for row in rows for k in _keys_of_row(name, row._mapping)]
        # a booking moved to another session or offer: where it goes counts too
        moved = {
            getattr(k, "key", k): _value(v, params) for k, v in (getattr(statement, "_values", None) or {}).items()
        }
        if name in ("bookings", "feedback") and ({"session_id", "offer_id"} & {*moved, *params}):
            keys += _keys_of_row(name, {**moved, **params})
    _note(state.session, keys)


def _key_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [table.c[n] for n in ("id", "offer_id", "session_id") if n in table.c]


def _forget(session: OrmSession, *_args: Any) -> None:
    # any (sub)transaction that ends may take noted rows with it: note again rather than miss
    session.info.pop(_NOTED, None)


def init_app(app: Flask) -> None:
    """Note every change that moves a dashboard figure, in the transaction that makes it."""
    if not sa.event.contains(db.session, "after_flush", _after_flush):
        sa.event.listen(db.session, "after_flush", _after_flush)
        sa.event.listen(db.session, "do_orm_execute", _on_execute)
        sa.event.listen(db.session, "after_transaction_end", _forget)


# --- counting changed sessions again -----------------------------------------------------------------


def _day_and_week(starts_at: datetime) -> tuple[date, date]:
    """The Utrecht day a session starts on, and the Monday of its UTC week (``reports.week_start``)."""
    utc_day = starts_at.astimezone(UTC).date()
    return starts_at.astimezone(TIMEZONE).date(), utc_day - timedelta(days=utc_day.weekday())


def _counted(session_ids: list[int], connection: sa.Connection) -> dict[int, dict[str, Any]]:
    """The rows of ``dashboard_sessions`` as the raw tables say now, for the given sessions.

    The same rules as ``reports`` (places where they live, ``reports.over_capacity_column``),
    with people let in beyond the places counted per session and per course in two grouped
    queries on the bookings' indexes.
    """
    counted = sa.and_(
        OfferSession.status == SessionStatus.SCHEDULED,
        Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CANCELLED]),
    )
    found = connection.execute(
        sa.select(
            OfferSession.id,
            OfferSession.offer_id,
            OfferSession.starts_at,
            Offer.category,
            counted,
            *reports.session_figure_columns(),
        )
        .select_from(OfferSession)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(OfferSession.id.in_(session_ids))
    )
    beyond = sa.and_(Booking.status == BookingStatus.CONFIRMED, Booking.over_capacity)
    per_session = dict(
        connection.execute(
            sa.select(Booking.session_id, sa.func.count())
            .where(Booking.session_id.in_(session_ids), beyond)
            .group_by(Booking.session_id)
        ).all()
    )
    rows = found.all()
    per_offer = dict(
        connection.execute(
            sa.select(Booking.offer_id, sa.func.count())
            .where(Booking.offer_id.in_({row[1] for row in rows}), Booking.session_id.is_(None), beyond)
            .group_by(Booking.offer_id)
        ).all()
    )
    result: dict[int, dict[str, Any]] = {}
    for row in rows:
        day, week = _day_and_week(row[2])
        over = per_session.get(row[0], 0) + per_offer.get(row[1], 0)
        result[row[0]] = {
            "session_id": row[0],
            "offer_id": row[1],
            "category": Category(row[3]).value,
            "counted": bool(row[4]),
            "day": day,
            "week": week,
            **{name: int(value or 0) for name, value in zip(FIGURES, (*row[5:], over), strict=True)},
            **dict.fromkeys(FACES.values(), 0),
        }
    answers = connection.execute(
        sa.select(Feedback.session_id, Feedback.face, sa.func.count())
        .where(Feedback.session_id.in_(session_ids))
        .group_by(Feedback.session_id, Feedback.face)
    )
    for session_id, face, count in answers:
        if session_id in result:
            result[session_id][FACES[Face(face)]] = int(count)
    return result


def _claim(connection: sa.Connection, session_ids: list[int]) -> dict[int, Any]:
    """Lock the summary rows of these sessions (making empty ones for new sessions) and read them.

    Two readers applying the same change take turns; the second finds the first's result and
    adds nothing.
    """
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    placeholders = [
        {"session_id": i, "offer_id": 0, "counted": False, "category": "", "day": _NOWHERE, "week": _NOWHERE}
        for i in session_ids
    ]
    connection.execute(insert(SESSIONS).on_conflict_do_nothing(index_elements=["session_id"]), placeholders)
    rows = connection.execute(
        sa.select(SESSIONS)
        .where(SESSIONS.c.session_id.in_(session_ids))
        .order_by(SESSIONS.c.session_id)
        .with_for_update()
    )
    return {row.session_id: row for row in rows}


def _recount(connection: sa.Connection, session_ids: set[int]) -> None:
    """Count these sessions again and move the difference into their days' sums."""
    ordered = sorted(session_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        before = _claim(connection, chunk)
        now = _counted(chunk, connection)
        deltas: dict[tuple[date, date, str], list[int]] = defaultdict(lambda: [0] * (1 + len(VALUES)))
        updates, gone = [], []
        for session_id in chunk:
            old, new = before[session_id], now.get(session_id)
            if old.counted:
                delta = deltas[(old.day, old.week, old.category)]
                delta[0] -= 1
                for index, name in enumerate(VALUES, 1):
                    delta[index] -= getattr(old, name)
            if new is None:
                gone.append(session_id)
                continue
            if new["counted"]:
                delta = deltas[(new["day"], new["week"], new["category"])]
                delta[0] += 1
                for index, name in enumerate(VALUES, 1):
                    delta[index] += new[name]
            if any(getattr(old, name) != value for name, value in new.items()):
                updates.append({"b_session_id": session_id, **{k: v for k, v in new.items() if k != "session_id"}})
        if updates:
            connection.execute(SESSIONS.update().where(SESSIONS.c.session_id == sa.bindparam("b_session_id")), updates)
        if gone:
            connection.execute(SESSIONS.delete().where(SESSIONS.c.session_id.in_(gone)))
        _add_to_days(connection, deltas)
        _copy_no_shows(connection, chunk)


def _copy_no_shows(connection: sa.Connection, session_ids: list[int]) -> None:
    """The absences without notice of these sessions, as they are now (the follow-up list's rows)."""
    connection.execute(NO_SHOWS.delete().where(NO_SHOWS.c.session_id.in_(session_ids)))
    connection.execute(
        NO_SHOWS.insert().from_select(
            ["session_id", "booking_id", "user_id", "starts_at"],
            sa.select(Attendance.session_id, Attendance.booking_id, Booking.user_id, OfferSession.starts_at)
            .join(Booking, Booking.id == Attendance.booking_id)
            .join(OfferSession, OfferSession.id == Attendance.session_id)
            .where(
                Attendance.session_id.in_(session_ids),
                Attendance.status == AttendanceStatus.ABSENT,
                Booking.user_id.is_not(None),
            ),
        )
    )


def _add_to_days(connection: sa.Connection, deltas: dict[tuple[date, date, str], list[int]]) -> None:
    rows = [
        {"day": day, "week": week, "category": category, **dict(zip(("sessions", *VALUES), delta, strict=True))}
        for (day, week, category), delta in sorted(deltas.items())
        if any(delta)
    ]
    if not rows:
        return
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(DAYS)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "week", "category"],
        set_={name: DAYS.c[name] + statement.excluded[name] for name in ("sessions", *VALUES)},
    )
    connection.execute(statement, rows)


def _sessions_of(connection: sa.Connection, offer_ids: set[int]) -> set[int]:
    """Every session of these offers, those that still exist and those only the summary knows."""
    found: set[int] = set()
    ordered = sorted(offer_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        found.update(connection.scalars(sa.select(OfferSession.id).where(OfferSession.offer_id.in_(chunk))))
        found.update(connection.scalars(sa.select(SESSIONS.c.session_id).where(SESSIONS.c.offer_id.in_(chunk))))
    return found


def _apply(connection: sa.Connection, batch: int = 5000) -> int:
    """Apply the noted changes, a batch at a time; return how many notes were applied."""
    applied = 0
    while True:
        notes = connection.execute(
            sa.select(CHANGES.c.id, CHANGES.c.offer_id, CHANGES.c.session_id).order_by(CHANGES.c.id).limit(batch)
        ).all()
        if not notes:
            return applied
        if any(offer_id is None and session_id is None for _id, offer_id, session_id in notes):
            _rebuild(connection)
            connection.execute(CHANGES.delete().where(CHANGES.c.id <= max(n[0] for n in notes)))
            return applied + len(notes)
        sessions = {s for _id, _o, s in notes if s is not None}
        sessions |= _sessions_of(connection, {o for _id, o, _s in notes if o is not None})
        _recount(connection, sessions)
        ids = [n[0] for n in notes]
        for start in range(0, len(ids), CHUNK):
            connection.execute(CHANGES.delete().where(CHANGES.c.id.in_(ids[start : start + CHUNK])))
        applied += len(notes)


def _rebuild(connection: sa.Connection) -> None:
    connection.execute(NO_SHOWS.delete())
    connection.execute(DAYS.delete())
    connection.execute(SESSIONS.delete())
    session_ids = set(connection.scalars(sa.select(OfferSession.id)))
    _recount(connection, session_ids)


def _in_own_transaction(work: Any) -> Any:
    """Run ``work(connection)`` in a short transaction of its own when the request only reads (as
    ``db.write_aside``), else in the caller's transaction (a savepoint)."""
    if reading_request():
        with db.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # a write first takes SQLite's write lock now, not after reading (which could fail)
                connection.execute(CHANGES.update().where(sa.false()).values(offer_id=None))
            done = work(connection)
        if db.session.get_bind().dialect.name == "sqlite":
            # SQLite keeps a reading transaction's snapshot: start another that sees the new sums
            db.session.rollback()
        return done
    with db.session.begin_nested():
        return work(db.session.connection())


def refresh() -> int:
    """Bring the summary rows up to date with what changed since; return how many notes that took.

    With nothing noted this is one SELECT of an empty table.
    """
    if db.session.execute(sa.select(CHANGES.c.id).limit(1)).first() is None:
        return 0
    return int(_in_own_transaction(_apply))


def rebuild() -> None:
    """Count every session again (after a bulk load that bypassed the session, or to check)."""

    def work(connection: sa.Connection) -> None:
        _rebuild(connection)
        connection.execute(CHANGES.delete())

    _in_own_transaction(work)


# --- the figures, from the sums ---------------------------------------------------------------------


def _sums(table: sa.Table) -> list[sa.ColumnElement[Any]]:
    first = sa.func.sum(table.c.sessions) if table is DAYS else sa.func.count()
    return [first, *(sa.func.sum(table.c[name]) for name in FIGURES)]


def _days(period: Period, category: Category | None) -> list[sa.ColumnElement[bool]]:
    conditions = [DAYS.c.day >= period.start, DAYS.c.day <= period.end]
    if category is not None:
        conditions.append(DAYS.c.category == category.value)
    return conditions


def totals(period: Period, category: Category | None = None) -> Figures:
    """``reports.totals``, from the days' sums."""
    return Figures.from_row(db.session.execute(sa.select(*_sums(DAYS)).where(*_days(period, category))).one())


def by_week(period: Period, category: Category | None = None) -> list[tuple[date, Figures]]:
    """``reports.by_week``, from the days' sums."""
    rows = db.session.execute(
        sa.select(DAYS.c.week, *_sums(DAYS))
        .where(*_days(period, category))
        .group_by(DAYS.c.week)
        .having(sa.func.sum(DAYS.c.sessions) > 0)
        .order_by(DAYS.c.week)
    )
    return [(row[0], Figures.from_row(row[1:])) for row in rows]


def by_category(period: Period) -> list[tuple[Category, Figures]]:
    """``reports.by_category``, from the days' sums."""
    rows = db.session.execute(
        sa.select(DAYS.c.category, *_sums(DAYS))
        .where(*_days(period, None))
        .group_by(DAYS.c.category)
        .having(sa.func.sum(DAYS.c.sessions) > 0)
        .order_by(DAYS.c.category)
    )
    return [(Category(row[0]), Figures.from_row(row[1:])) for row in rows]


def by_offer(
    period: Period, category: Category | None, page: int, per_page: int = 20
) -> tuple[list[OfferFigures], bool]:
    """``reports.by_offer``, from the sessions' rows: first the page of offers (in title order,
    those with a counted session in the period), then the sums of only those offers."""
    in_period = [SESSIONS.c.counted, SESSIONS.c.day >= period.start, SESSIONS.c.day <= period.end]
    conditions = [
        Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CANCELLED]),
        sa.exists().where(SESSIONS.c.offer_id == Offer.id, *in_period),
    ]
    if category is not None:
        conditions.append(Offer.category == category)
    offers = db.session.execute(
        sa.select(Offer.id, Offer.title, Offer.kind)
        .where(*conditions)
        .order_by(Offer.title, Offer.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    shown = offers[:per_page]
    sums = {
        row[0]: Figures.from_row(row[1:])
        for row in db.session.execute(
            sa.select(SESSIONS.c.offer_id, *_sums(SESSIONS))
            .where(SESSIONS.c.offer_id.in_([offer_id for offer_id, _t, _k in shown]), *in_period)
            .group_by(SESSIONS.c.offer_id)
        )
    }
    rows = [OfferFigures(offer_id, title, kind, sums[offer_id]) for offer_id, title, kind in shown]
    return rows, len(offers) > per_page


def satisfaction(period: Period, category: Category | None = None) -> Satisfaction:
    """``feedback.satisfaction``, from the days' sums."""
    faces = [DAYS.c[name] for name in FACES.values()]
    rows = db.session.execute(
        sa.select(DAYS.c.day, DAYS.c.category, *faces).where(*_days(period, category), sa.or_(*(f > 0 for f in faces)))
    )
    counts: dict[tuple[date, Category], dict[Face, int]] = defaultdict(lambda: defaultdict(int))
    for day, category_value, *answers in rows:
        cell = counts[(month_start(day), Category(category_value))]
        for face, count in zip(FACES, answers, strict=True):
            cell[face] += int(count)
    months, month = [], month_start(period.start)
    while month <= period.end and month <= month_start(utcnow().astimezone(TIMEZONE).date()):
        months.append(month)
        month = next_month(month)
    categories = sorted({c for _m, c in counts}, key=lambda c: list(Category).index(c))
    cells: dict[tuple[date, Category], Cell] = {
        key: _cell({face: count for face, count in value.items() if count}) for key, value in counts.items()
    }
    return Satisfaction(months, categories, cells)


def follow_up(period: Period, limit: int = 50) -> list[FollowUp]:
    """``reports.follow_up``, from the absences kept with the summary rows: the counts first, then
    the (at most ``limit``) people by their ids."""
    count = sa.func.count().label("no_shows")
    last = sa.func.max(NO_SHOWS.c.starts_at).label("last_missed")
    rows = db.session.execute(
        sa.select(NO_SHOWS.c.user_id, count, last)
        .where(NO_SHOWS.c.starts_at >= period.starts_at, NO_SHOWS.c.starts_at < period.ends_before)
        .group_by(NO_SHOWS.c.user_id)
        .having(count >= REPEATED_NO_SHOWS)
        .order_by(count.desc(), last.desc())
        .limit(limit)
    ).all()
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([r[0] for r in rows])))}
    # someone deleted a moment ago (their absences go with them, in _after_flush) is left out
    return [FollowUp(people[user_id], no_shows, missed) for user_id, no_shows, missed in rows if user_id in people]


def sessions(
    period: Period, category: Category | None, page: int, per_page: int = 25
) -> tuple[list[SessionFigures], bool]:
    """``reports.sessions``, with the people let in beyond the places from the sessions' rows
    (outer-joined: a session the summary has not seen yet, loaded around the session, is still
    listed)."""
    return reports.sessions(
        period,
        category,
        page,
        per_page,
        over_capacity=sa.func.coalesce(SESSIONS.c.over_capacity, 0),
        joined=(SESSIONS, SESSIONS.c.session_id == OfferSession.id),
    )
