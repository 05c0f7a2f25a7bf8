"""What the pages of someone signed in cost in SQL statements: a fixed, small number, however long
the person's history and however many sessions the offers have."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from einstein.auth.models import AgeGroup
from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import Booking, BookingStatus, Offer, OfferKind, OfferSession, OfferTranslation, User
from tests import factories
from tests.support.booking import book
from tests.support.bulk import course_with_bookings
from tests.support.clock import days_ahead
from tests.support.queries import count_queries

EN = {"Accept-Language": "en"}

#: The offer page signed in, its shared part not yet cached: the offer (with its place, organiser
#: and organisation), the person with their sign-in (and whether they have a household or languages
#: to translate into), a page of sessions, their languages, the counts, the person's bookings here
#: (the offer's translations only where the reader's language needs them).
OFFER_PAGE = 6
#: A course's page also asks when its first session starts (not every session of the course).
COURSE_PAGE = OFFER_PAGE + 1
#: Once the shared part is cached (einstein.courses.offer_page): the person, and in one statement
#: the offer (with a course's places), an activity's sessions' places (they are not kept with the
#: shared part, so a booking leaves it kept) and the person's bookings there.
OFFER_PAGE_CACHED = 2
ACTIVITY_PAGE_CACHED = OFFER_PAGE_CACHED
#: My bookings: the person, the bookings shown (with offers, sessions and places, and the offers'
#: texts in the reader's language), the courses' sessions, how many are over, attendance, and the
#: sessions just over to say how they were (with whether the person was there and what they answered).
MY_BOOKINGS = 6
#: Booking as the form sends it (tests/bookings/test_booking.py says which five).
BOOKING_POST = 5


def _weekly_activity(weeks: int, first: int = 2) -> OfferSession:
    """A weekly activity of ``weeks`` sessions; its first session."""
    offer = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=50)
    sessions = [factories.SessionFactory(offer=offer, starts_at=days_ahead(first + 7 * week)) for week in range(weeks)]
    return sessions[0]


def _course(weeks: int) -> int:
    offer = factories.OfferFactory(kind=OfferKind.COURSE, capacity=50)
    for week in range(weeks):
        factories.SessionFactory(offer=offer, starts_at=days_ahead(2 + 7 * week))
    return offer.id


def _booked(person_id: int, label: str, starts: list[datetime]) -> list[int]:
    """A confirmed booking of the person for a session at each of ``starts``, each of another
    activity, made three days before it; the sessions' ids."""
    ids = []
    for n, starts_at in enumerate(starts):
        session = factories.SessionFactory(starts_at=starts_at)
        booked = starts_at - timedelta(days=3)
        db.session.add(
            Booking(
                reference=f"{label}-{person_id % 100:02d}{n:02d}",
                user_id=person_id,
                offer_id=session.offer_id,
                session_id=session.id,
                status=BookingStatus.CONFIRMED,
                confirmed_at=booked,
                created_at=booked,
                updated_at=booked,
            )
        )
        ids.append(session.id)
    db.session.commit()
    return ids


def _past_bookings(person_id: int, count: int) -> None:
    """``count`` bookings of sessions long over (more than a year)."""
    _booked(person_id, "PAST", [days_ahead(-400) + timedelta(days=7 * week) for week in range(count)])


def _recent_bookings(person_id: int, count: int) -> list[int]:
    """``count`` bookings of sessions over in the last weeks, newest first (each may still be
    answered about on "my bookings"); their sessions' ids."""
    return _booked(person_id, "RCNT", [days_ahead(-1 - 4 * n) for n in range(count)])


def _statements(app, client, url: str) -> list[str]:
    with count_queries(app) as statements:
        response = client.get(url, headers=EN)
    assert response.status_code == 200
    return list(statements)


@pytest.mark.postgres
@pytest.mark.usefixtures("steady_cache_minute")
def test_the_offer_page_signed_in_costs_a_fixed_few_statements(app, client, participant) -> None:
    client.sign_in(participant)
    with app.app_context():
        short, long = _weekly_activity(2).offer_id, _weekly_activity(60).offer_id
        short_course, long_course = _course(2), _course(60)
    counts = [len(_statements(app, client, f"/offers/{offer}")) for offer in (short, long)]
    assert counts == [OFFER_PAGE, OFFER_PAGE], counts
    course_pages = [_statements(app, client, f"/offers/{offer}") for offer in (short_course, long_course)]
    assert [len(page) for page in course_pages] == [COURSE_PAGE, COURSE_PAGE], course_pages
    # whether the course has started is one small question, not all sixty sessions loaded
    page = course_pages[1]
    assert sum("min(offer_sessions.starts_at)" in s for s in page) == 1, "\n".join(page)
    # the shared part is cached now: the offer, the person and their bookings (and an activity's
    # sessions' places), and no more
    again = [len(_statements(app, client, f"/offers/{offer}")) for offer in (short, long, short_course, long_course)]
    assert again == [ACTIVITY_PAGE_CACHED] * 2 + [OFFER_PAGE_CACHED] * 2, again


@pytest.mark.postgres
def test_a_household_holder_still_sees_who_is_coming_and_a_translator_the_queue(app, client, participant) -> None:
    """The sign-in statement answers "household?" and "translator?": the answers are right."""
    from einstein.bookings import household
    from einstein.courses.models import TranslatorLanguage

    client.sign_in(participant)
    with app.app_context():
        offer_id = _weekly_activity(1).offer_id
    alone = client.get(f"/offers/{offer_id}", headers=EN).get_data(as_text=True)
    # a name the generated organisers and places will not contain (Faker once made "Sarah Monroe")
    assert "Saraqiel" not in alone and 'href="/translations"' not in alone
    with app.app_context():
        holder = db.session.get(User, participant.id)
        household.add_member(holder, name="Saraqiel", age_group=AgeGroup.CHILD, locale="ar", recorded_by=holder)
        db.session.add(TranslatorLanguage(user_id=participant.id, locale="ar"))
        db.session.commit()
    family = client.get(f"/offers/{offer_id}", headers=EN).get_data(as_text=True)
    assert "Saraqiel" in family  # the "who is coming?" boxes, with the child's
    assert 'href="/translations"' in family


@pytest.mark.postgres
def test_my_bookings_costs_the_same_however_long_the_history(app, client, participant) -> None:
    client.sign_in(participant)
    with app.app_context():
        me = db.session.get(User, participant.id)
        session = _weekly_activity(3)
        bookings.book(me, bookings.Target(session.offer, session))
        db.session.commit()
    few = _statements(app, client, "/my/bookings")
    # an activity's card needs its own session, never every session of the activity
    assert not any("offer_sessions.offer_id IN" in s for s in few), "\n".join(few)
    with app.app_context():
        me = db.session.get(User, participant.id)
        session = _weekly_activity(80)  # booked once, with eighty sessions
        bookings.book(me, bookings.Target(session.offer, session))
        course = db.session.get(Offer, _course(12))
        bookings.book(me, bookings.Target(course, None))
        db.session.commit()
        _past_bookings(participant.id, 30)
        recent = _recent_bookings(participant.id, 6)
        for offer in (session.offer, course):  # texts in two languages: each reader sees their own
            db.session.add_all(
                [
                    OfferTranslation(offer_id=offer.id, locale="nl", title=f"Nederlands {offer.id}"),
                    OfferTranslation(offer_id=offer.id, locale="ar", title=f"عربي {offer.id}"),
                ]
            )
        db.session.commit()
        translated = session.offer_id, course.id
    many = _statements(app, client, "/my/bookings")
    assert len(many) <= MY_BOOKINGS, "\n".join(many)
    for language, shown in (("nl", "Nederlands"), ("ar", "عربي")):
        page = client.get("/my/bookings", query_string={"lang": language}).get_data(as_text=True)
        for offer_id in translated:
            assert f"{shown} {offer_id}" in page
        assert "Nederlands" not in page or "عربي" not in page
    english = client.get("/my/bookings", query_string={"lang": "en"}).get_data(as_text=True)
    assert "Nederlands" not in english and "عربي" not in english
    # "how was it?" for the five sessions just over, newest first: asked together, not one by one
    page = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    asked = [int(found) for found in re.findall(r'<h3 id="feedback-(\d+)"', page)]
    assert asked == recent[:5], page
    # the course's twelve sessions are read (its card counts them): one statement for all courses
    assert sum("offer_sessions.offer_id IN" in s for s in many) == 1, "\n".join(many)
    assert len(few) <= len(many)


def _bookings_scans(plan: dict) -> list[dict]:
    """The plan's nodes that read the bookings table."""
    found = [plan] if plan.get("Relation Name") == "bookings" else []
    for child in plan.get("Plans", []):
        found += _bookings_scans(child)
    return found


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_my_bookings_finds_the_persons_bookings_by_the_index_not_by_reading_everyones(app, client, participant) -> None:
    """ "Theirs OR their household's" made PostgreSQL read every booking of everyone: 35 ms at
    42,000 bookings and growing with them (bench/RESULTS.md). With sequential scans ruled out,
    each read of the bookings on the page's main statement must be found by the person, through
    the index on user_id, and not be a whole index read and filtered."""
    client.sign_in(participant)
    with app.app_context():
        _past_bookings(participant.id, 3)
    course_with_bookings(app, 2000)  # everyone else's bookings, which the page must not read
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("SELECT bookings.id") and "household_of_id" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/my/bookings", headers=EN).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        statement, parameters = seen[0]
        cursor = db.session.connection().connection.driver_connection.cursor()
        # the planner's figures for this test's rows, not those the tests before it left on this
        # database (TRUNCATE keeps them; autovacuum renews them when it will): the plan was flaky
        cursor.execute("ANALYZE bookings, users, offer_sessions, offers")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0][0]["Plan"]
        db.session.rollback()
    scans = _bookings_scans(plan)
    assert scans, plan
    for scan in scans:
        assert "user_id" in scan.get("Index Cond", "") + scan.get("Recheck Cond", ""), scan


@pytest.mark.postgres
def test_booking_as_a_browser_does_costs_a_fixed_number_of_statements(app, make_user) -> None:
    """Open the offer page signed in, send the form, follow the redirect to "my bookings"."""
    totals = []
    # past the 20 shown, "my bookings" counts the rest: one statement more, then never another
    for history in (21, 45):
        person = make_user()
        client = app.test_client()
        client.sign_in(person)
        with app.app_context():
            _past_bookings(person.id, history)
            session = _weekly_activity(40)
            target = {"session_id": session.id, "offer_id": session.offer_id}
        with count_queries(app) as statements:
            assert client.get(f"/offers/{target['offer_id']}", headers=EN).status_code == 200
            posted = book(client, target)
            assert posted.status_code == 303
            assert client.get(posted.headers["Location"], headers=EN).status_code == 200
        totals.append(len(statements))
        with app.app_context():
            mine = db.session.scalar(
                sa.select(Booking).where(Booking.user_id == person.id, Booking.session_id == target["session_id"])
            )
            assert mine is not None and mine.status == BookingStatus.CONFIRMED
    assert totals[0] == totals[1], totals
    assert totals[0] <= OFFER_PAGE + BOOKING_POST + MY_BOOKINGS, totals


@pytest.mark.postgres
@pytest.mark.usefixtures("steady_cache_minute")
def test_the_people_page_costs_the_same_for_three_people_as_for_a_full_page(app, client, coordinator) -> None:
    """Each person's languages for translating are shown beside their name: read for the page
    at once, not person by person."""
    from einstein.models import TranslatorLanguage

    client.sign_in(coordinator)
    with app.app_context():
        for n in range(2):
            factories.UserFactory(name=f"Early {n}")
    _statements(app, client, "/people")  # the count on the menu, kept for a minute, is asked now
    few = _statements(app, client, "/people")
    with app.app_context():
        for n in range(30):
            person = factories.UserFactory(name=f"Later {n:02}")
            if n % 3 == 0:
                db.session.add(TranslatorLanguage(user_id=person.id, locale=("ti", "so")[n % 2]))
        db.session.commit()
    full = _statements(app, client, "/people")
    assert len(full) == len(few), "\n".join(full)
    page = client.get("/people", headers=EN).get_data(as_text=True)
    # the first 25 by name: Early 0 and 1, Later 00 to 22, of whom 00, 03, ... 21 translate
    assert page.count('<span class="badge pending">translates') == 8


@pytest.mark.postgres
@pytest.mark.usefixtures("steady_cache_minute")
def test_the_review_page_costs_the_same_however_many_sessions_wait(app, client, coordinator) -> None:
    """Each waiting activity's card shows the languages of its first session: read with the
    sessions, not offer by offer."""
    from einstein.models import OfferStatus

    client.sign_in(coordinator)

    def waiting(sessions: int) -> None:
        with app.app_context():
            offer = factories.OfferFactory(status=OfferStatus.PENDING)
            for week in range(sessions):
                factories.SessionFactory(offer=offer, starts_at=days_ahead(2 + 7 * week), languages=["nl", "ar"])

    waiting(1)
    _statements(app, client, "/review")  # the count on the menu, kept for a minute, is asked now
    few = _statements(app, client, "/review")
    waiting(12)
    waiting(3)
    _statements(app, client, "/review")  # the count changed: asked again, then kept
    many = _statements(app, client, "/review")
    assert len(many) == len(few), "\n".join(many)
    assert client.get("/review", headers=EN).get_data(as_text=True).count("Arabic") == 3
