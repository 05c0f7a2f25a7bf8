"""The dashboard's figures from summary rows: always what the raw tables say, at any size.

The coordinator's story: bookings, cancellations, people promoted from the waiting list,
attendance taken, someone let in beyond the places, answers to "How was it?", a session moved
and one cancelled, a course put in another category, an account deleted and old bookings made
anonymous; after each step the dashboard's figures (from einstein.attendance.summary) are the
figures counted from the raw tables (einstein.attendance.reports), and the sums kept step by step
are the sums counted from scratch. And the dashboard asks the database as many questions with
300 more sessions as without them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from einstein.attendance import feedback, reports, summary
from einstein.attendance.models import (
    AttendanceStatus,
    DashboardChange,
    DashboardDay,
    DashboardNoShow,
    DashboardSession,
)
from einstein.attendance.services import IfFull, mark, walk_in
from einstein.auth.models import Audience
from einstein.bookings import operations
from einstein.bookings import services as bookings
from einstein.bookings.models import Booking, BookingStatus
from einstein.db import db, utcnow
from einstein.extensions import cache
from einstein.i18n import TIMEZONE, local_today
from einstein.models import Category, OfferKind, OfferSession, User
from einstein.privacy import services as privacy
from einstein.privacy import tasks as privacy_tasks
from tests import factories
from tests.support.clock import days_ahead
from tests.support.queries import count_queries


def _periods() -> list[reports.Period]:
    today = local_today()
    return [
        reports.Period.default(),
        reports.Period(today - timedelta(days=400), today + timedelta(days=400)),
        reports.Period(today - timedelta(days=1), today - timedelta(days=1)),
    ]


def _kept() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The summary rows as they are (days with nothing left in them aside)."""
    days = db.session.execute(sa.select(DashboardDay).order_by(DashboardDay.day, DashboardDay.category)).scalars()
    sessions = db.session.execute(sa.select(DashboardSession).order_by(DashboardSession.session_id)).scalars()

    def values(row: object, names: list[str]) -> tuple:
        return tuple(getattr(row, name) for name in names)

    no_shows = db.session.execute(sa.select(DashboardNoShow).order_by(DashboardNoShow.session_id)).scalars()
    day_names = [c.name for c in DashboardDay.__table__.columns]
    session_names = [c.name for c in DashboardSession.__table__.columns]
    kept_days = [values(d, day_names) for d in days if any(values(d, day_names)[3:])]
    absent = [(n.session_id, n.booking_id, n.user_id, n.starts_at) for n in no_shows]
    return kept_days, [values(s, session_names) for s in sessions], sorted(absent)


def _people(follow_up: list[reports.FollowUp]) -> list[tuple]:
    return sorted((f.user.id, f.no_shows, f.last_missed) for f in follow_up)


def assert_same_as_raw(app) -> None:
    """Every figure of the dashboard, from the summary rows and from the raw tables, for a few
    periods and categories; and the sums kept step by step equal a count from scratch."""
    with app.app_context():
        summary.refresh()
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DashboardChange)) == 0
        for period in _periods():
            for category in (None, Category.SOCIAL, Category.LANGUAGE, Category.WORK):
                assert summary.totals(period, category) == reports.totals(period, category)
                assert summary.by_week(period, category) == reports.by_week(period, category)
                assert summary.by_offer(period, category, 1) == reports.by_offer(period, category, 1)
                assert summary.by_offer(period, category, 1, per_page=1) == reports.by_offer(
                    period, category, 1, per_page=1
                )
                assert summary.satisfaction(period, category) == feedback.satisfaction(period, category)
                assert summary.sessions(period, category, 1) == reports.sessions(period, category, 1)
            assert summary.by_category(period) == reports.by_category(period)
            assert _people(summary.follow_up(period)) == _people(reports.follow_up(period))
        kept = _kept()
        summary.rebuild()
        db.session.commit()
        assert _kept() == kept


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TIMEZONE)


@pytest.mark.postgres
def test_the_figures_from_summary_rows_are_the_raw_figures_through_a_coordinators_week(app, make_user) -> None:
    people = [
        make_user(name=f"P{i}", audience=[Audience.NEWCOMER, Audience.NEIGHBOUR, Audience.UNSAID][i % 3])
        for i in range(6)
    ]
    with app.app_context():
        person = [db.session.get(User, p.id) for p in people]
        factories.UserFactory(role="coordinator")
        cooking = factories.SessionFactory(
            offer__capacity=2, offer__title="Samen koken", offer__category=Category.SOCIAL
        )
        cooking_later = factories.SessionFactory(offer=cooking.offer, starts_at=days_ahead(10))
        cooking_later.ends_at = cooking_later.starts_at + timedelta(hours=2)
        course = factories.OfferFactory(kind=OfferKind.COURSE, capacity=3, category=Category.LANGUAGE, title="Dutch")
        lessons = [factories.SessionFactory(offer=course, starts_at=days_ahead(n)) for n in (2, 9, 16)]
        # Monday 00:30 in Utrecht is Sunday in UTC: the day and the week (UTC) of the chart differ
        monday = local_today() + timedelta(days=7 - local_today().weekday())
        walk = factories.SessionFactory(
            offer__title="Walking group", starts_at=_at(monday, 0, 30), ends_at=_at(monday, 2, 30)
        )
        db.session.commit()
        ids = {"cooking": cooking.id, "later": cooking_later.id, "course": course.id, "walk": walk.id}
        ids["lessons"] = [s.id for s in lessons]
    assert_same_as_raw(app)

    # bookings: two places taken, one on the waiting list; three in the course; one walk
    with app.app_context():
        person = [db.session.get(User, p.id) for p in people]
        cooking, course = db.session.get(OfferSession, ids["cooking"]), db.session.get(OfferSession, ids["lessons"][0])
        for someone in person[:3]:
            bookings.book(someone, bookings.Target(cooking.offer, cooking))
        for someone in person[:3]:
            bookings.book(someone, bookings.Target(course.offer, None))
        walk = db.session.get(OfferSession, ids["walk"])
        bookings.book(person[4], bookings.Target(walk.offer, walk))
        db.session.commit()
    assert_same_as_raw(app)

    # a cancellation gives the place to the waiting list; a rolled-back booking changes nothing
    with app.app_context():
        cancelled = db.session.scalar(
            sa.select(Booking).where(Booking.session_id == ids["cooking"], Booking.user_id == people[1].id)
        )
        promoted = bookings.cancel(cancelled)
        assert [b.user_id for b in promoted] == [people[2].id]
        db.session.commit()
        later = db.session.get(OfferSession, ids["later"])
        bookings.book(db.session.get(User, people[5].id), bookings.Target(later.offer, later))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DashboardChange)) > 0  # the cancellation's
    assert_same_as_raw(app)

    # the session is under way: attendance, someone at the door of the full session; then it is
    # over (moved to yesterday) and people answer "How was it?"
    with app.app_context():
        cooking = db.session.get(OfferSession, ids["cooking"])
        cooking.starts_at, cooking.ends_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
        db.session.commit()
        by = db.session.scalar(sa.select(User).where(User.role == "coordinator"))
        booked = db.session.scalars(
            sa.select(Booking).where(Booking.session_id == ids["cooking"], Booking.status == BookingStatus.CONFIRMED)
        ).all()
        mark(cooking, booked[0], AttendanceStatus.PRESENT, by)
        mark(cooking, booked[1], AttendanceStatus.ABSENT, by)
        db.session.commit()
        result = walk_in(cooking, db.session.get(User, people[3].id), by, IfFull.OVER)
        assert result.booking.over_capacity
        db.session.commit()
    assert_same_as_raw(app)
    with app.app_context():
        cooking = db.session.get(OfferSession, ids["cooking"])
        yesterday = local_today() - timedelta(days=1)
        cooking.starts_at, cooking.ends_at = _at(yesterday, 10), _at(yesterday, 12)
        db.session.commit()
        by = db.session.scalar(sa.select(User).where(User.role == "coordinator"))
        booked = db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == ids["cooking"], Booking.status == BookingStatus.CONFIRMED)
            .order_by(Booking.id)
        ).all()
        mark(cooking, booked[1], AttendanceStatus.EXCUSED, by)  # they had called after all
        feedback.answer(db.session.get(User, booked[0].user_id), cooking, feedback.Face.GOOD)
        db.session.commit()
    assert_same_as_raw(app)

    # a session cancelled, the course put in another category, a session moved to another day
    with app.app_context():
        operations.cancel_session(db.session.get(OfferSession, ids["lessons"][1]))
        course = db.session.get(OfferSession, ids["lessons"][0]).offer
        course.category = Category.WORK
        later = db.session.get(OfferSession, ids["later"])
        later.starts_at, later.ends_at = later.starts_at + timedelta(days=3), later.ends_at + timedelta(days=3)
        db.session.commit()
    assert_same_as_raw(app)

    # someone deletes their account: their coming bookings end, the rest stays as anonymous counts
    with app.app_context():
        privacy.delete_account(db.session.get(User, people[0].id))
        db.session.commit()
    assert_same_as_raw(app)


@pytest.mark.postgres
def test_the_figures_stay_right_when_retention_makes_old_bookings_anonymous(app) -> None:
    app.config["RETENTION_BOOKING_MONTHS"] = 6
    seeded = app.test_cli_runner().invoke(args=["seed-large", "--sessions", "200", "--bookings", "2000"])
    assert seeded.exit_code == 0, seeded.output
    assert_same_as_raw(app)
    with app.app_context():
        assert summary.follow_up(_periods()[1])  # people to call: the list is compared, not empty
        done = privacy_tasks.apply_retention.run()
    assert done["bookings"] > 0
    assert_same_as_raw(app)


def _dashboard_statements(app, client) -> list[str]:
    with app.app_context():
        cache.clear()  # the figures uncached, as the benchmark measures them
    assert client.get("/dashboard").status_code == 200  # what changed is applied here
    with app.app_context():
        cache.clear()
    with count_queries(app) as statements:
        assert client.get("/dashboard").status_code == 200
    return statements


@pytest.mark.postgres
def test_the_dashboard_asks_as_many_questions_with_two_sessions_as_with_300_more(app, client, coordinator) -> None:
    with app.app_context():
        session = factories.SessionFactory(starts_at=days_ahead(-3))
        session.ends_at = session.starts_at + timedelta(hours=2)
        factories.SessionFactory(offer__kind=OfferKind.COURSE, starts_at=days_ahead(4))
        db.session.commit()
    client.sign_in(coordinator)
    few = _dashboard_statements(app, client)
    seeded = app.test_cli_runner().invoke(args=["seed-large", "--sessions", "300", "--bookings", "3000"])
    assert seeded.exit_code == 0, seeded.output
    many = _dashboard_statements(app, client)
    assert len(many) == len(few), "\n".join(many)
    # none of them reads the sessions of the period one by one: only the paged list of sessions
    assert sum("FROM offer_sessions" in s for s in many) <= 1 + sum("FROM offer_sessions" in s for s in few)
    assert any("dashboard_days" in s for s in many)


def test_a_change_is_noted_in_the_transaction_that_makes_it(app, participant) -> None:
    with app.app_context():
        session = factories.SessionFactory()
        summary.refresh()
        db.session.commit()
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        noted = db.session.scalars(sa.select(DashboardChange.session_id)).all()
        assert noted == [session.id]  # one note for the booking and its counter, in its transaction
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DashboardChange)) == 0
        # a title says nothing the figures count: no note
        session.offer.title = "Another title"
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DashboardChange)) == 0


@pytest.mark.postgres
def test_the_migration_counts_what_was_there_before(app) -> None:
    seeded = app.test_cli_runner().invoke(args=["seed-large", "--sessions", "120", "--bookings", "1200"])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        summary.refresh()
        db.session.commit()
        before = _kept()
        db.session.close()
        downgrade(revision="0015")
        upgrade()
        assert _kept() == before  # the backfill counts as the summary keeps
        for period in _periods():
            assert summary.totals(period) == reports.totals(period)
            assert summary.by_week(period) == reports.by_week(period)
