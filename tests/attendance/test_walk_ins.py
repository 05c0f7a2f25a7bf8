"""Someone turns up at a full session: let them in beyond the places, or put them on the waiting list.

The story: Samir's cooking evening has three places, all booked, and a waiting list. Eva stands at
the door. Samir can let her in beyond the places (she is marked so on the list, the place counter
stays at three, and every figure counts her), or put her on the waiting list; either way the
message says which happened.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.attendance import reports
from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.bookings import integrity
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import Booking, BookingSource, BookingStatus, CancelReason, Offer, OfferKind, OfferSession, User
from tests import factories
from tests.support.html import main

EN = {"Accept-Language": "en"}


@pytest.fixture
def full(app, volunteer, make_user) -> dict[str, Any]:
    """Samir's activity under way: three places, three booked, a waiting list kept."""
    people = [make_user(name=name) for name in ("Amal", "Bram", "Chiara")]
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id),
            offer__capacity=3,
            offer__title="Samen koken",
            starts_at=utcnow() + timedelta(days=1),
        )
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(session.offer, session)) for p in people]
        session.starts_at = utcnow() - timedelta(minutes=10)  # it has begun
        session.ends_at = session.starts_at + timedelta(hours=2)
        db.session.commit()
        return {"session_id": session.id, "offer_id": session.offer_id, "bookings": [b.id for b in booked]}


def _walk_in(client, session_id: int, **data: Any):
    form = {"name": "Eva Jansen", "locale": "nl", "consent": "y", **data}
    return client.post(f"/sessions/{session_id}/attendance/walk-in", data=form, headers=EN)


def _eva(app) -> Booking | None:
    with app.app_context():
        booking = db.session.scalar(
            sa.select(Booking).join(User, User.id == Booking.user_id).where(User.name == "Eva Jansen")
        )
        if booking is not None:
            db.session.expunge(booking)
        return booking


def _session(app, session_id: int) -> OfferSession:
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        db.session.expunge(session)
        return session


def test_the_form_at_a_full_session_asks_what_to_do(app, client, volunteer, full) -> None:
    client.sign_in(volunteer)
    page = client.get(f"/sessions/{full['session_id']}/attendance", headers=EN).get_data(as_text=True)
    assert "No place left: 3 of 3 places are taken." in page
    assert 'value="over"' in page and 'value="waitlist"' in page
    assert "no waiting list" not in page


def test_without_a_choice_nothing_happens_and_what_was_typed_stays(app, client, volunteer, full) -> None:
    client.sign_in(volunteer)
    response = _walk_in(client, full["session_id"])
    assert response.status_code == 409
    page = main(response.get_data(as_text=True))
    assert "There is no place left. Choose below" in page
    assert "no waiting list" not in page  # the old, wrong message
    assert 'value="Eva Jansen"' in page and "<details" in page and " open>" in page
    assert _eva(app) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Eva Jansen")) == 0


@pytest.mark.postgres
def test_eva_is_let_in_beyond_the_places_and_every_figure_counts_her(app, client, volunteer, coordinator, full) -> None:
    client.sign_in(volunteer)
    response = _walk_in(client, full["session_id"], if_full="over")
    assert response.status_code == 303
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Eva Jansen is let in beyond the 3 places and marked present" in page
    eva = _eva(app)
    assert eva.status == BookingStatus.CONFIRMED and eva.over_capacity and eva.source == BookingSource.WALK_IN
    # on the list, marked as such
    entry = page.split(f'id="person-{eva.id}"', 1)[1].split("</li>", 1)[0]
    assert "beyond the places" in entry and 'value="present" class="tap tap-present" aria-pressed="true"' in entry
    assert "1 person let in beyond the places." in page
    # the counter never passes the places (the database's CHECK holds), and the nightly check agrees
    session = _session(app, full["session_id"])
    assert (session.confirmed_count, session.capacity, session.present_count) == (3, 3, 1)
    with app.app_context():
        assert integrity.counter_drift() == []
        marked = db.session.scalar(sa.select(Attendance.status).where(Attendance.booking_id == eva.id))
        assert marked == AttendanceStatus.PRESENT
        # the figures count her apart from the places
        period = reports.Period(utcnow().date() - timedelta(days=2), utcnow().date() + timedelta(days=2))
        totals = reports.totals(period)
        assert (totals.places, totals.booked, totals.over_capacity, totals.present) == (3, 3, 1, 1)
        [row], _more = reports.sessions(period, None, 1)
        assert row.figures.over_capacity == 1
    # and so do the exports
    client.sign_in(coordinator)
    sessions = _rows(client.get("/exports/sessions.csv", headers=EN))
    header, [line] = sessions[0], sessions[1:]
    assert line[header.index("Places")] == "3" and line[header.index("Booked")] == "3"
    assert line[header.index("Beyond the places")] == "1"
    booked = _rows(client.get("/exports/bookings.csv", headers=EN))
    eva_line = next(line for line in booked[1:] if "Eva Jansen" in line)
    assert eva_line[booked[0].index("Beyond the places")] == "yes"
    assert {line[booked[0].index("Beyond the places")] for line in booked[1:] if "Eva Jansen" not in line} == {""}


def test_eva_is_put_on_the_waiting_list_and_not_marked_present(app, client, volunteer, full) -> None:
    client.sign_in(volunteer)
    response = _walk_in(client, full["session_id"], if_full="waitlist")
    assert response.status_code == 303
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Eva Jansen is on the waiting list, number 1, and not marked present: there is no place." in page
    eva = _eva(app)
    assert eva.status == BookingStatus.WAITLISTED and not eva.over_capacity
    session = _session(app, full["session_id"])
    assert (session.confirmed_count, session.waitlist_count, session.present_count) == (3, 1, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
        assert integrity.counter_drift() == []


def test_someone_on_the_waiting_list_who_turns_up_is_let_in(app, client, volunteer, full, make_user) -> None:
    waiting = make_user(name="Dawit Tesfay", phone="+31622223333")
    with app.app_context():
        session = db.session.get(OfferSession, full["session_id"])
        session.starts_at = utcnow() + timedelta(hours=1)
        booking = bookings.book(db.session.get(User, waiting.id), bookings.Target(session.offer, session))
        assert booking.status == BookingStatus.WAITLISTED
        session.starts_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
    client.sign_in(volunteer)
    # found by their number; "waiting list" again just says so
    response = _walk_in(client, full["session_id"], name="Dawit T", phone="0622223333", if_full="waitlist")
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Dawit Tesfay is on the waiting list, number 1" in page
    response = _walk_in(client, full["session_id"], name="Dawit T", phone="0622223333", if_full="over")
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.scalars(sa.select(Booking).where(Booking.user_id == waiting.id)).all()
        assert len(rows) == 1 and rows[0].status == BookingStatus.CONFIRMED and rows[0].over_capacity
        session = db.session.get(OfferSession, full["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (3, 0)
        assert integrity.counter_drift() == []


def test_without_a_waiting_list_only_beyond_the_places_is_offered(app, client, volunteer, full) -> None:
    with app.app_context():
        db.session.get(Offer, full["offer_id"]).waitlist_enabled = False
        db.session.commit()
    client.sign_in(volunteer)
    page = client.get(f"/sessions/{full['session_id']}/attendance", headers=EN).get_data(as_text=True)
    assert 'value="over"' in page and 'value="waitlist"' not in page
    response = _walk_in(client, full["session_id"])
    assert response.status_code == 409
    assert "this offer keeps no waiting list" in response.get_data(as_text=True)
    # a choice that is not offered is refused, and changes nothing
    response = _walk_in(client, full["session_id"], if_full="waitlist")
    assert response.status_code == 303
    assert "Not a valid choice" in client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert _eva(app) is None
    assert _walk_in(client, full["session_id"], if_full="over").status_code == 303
    assert _eva(app).over_capacity


@pytest.mark.postgres
def test_a_place_freed_later_goes_first_to_the_person_let_in(app, client, volunteer, coordinator, full) -> None:
    client.sign_in(volunteer)
    _walk_in(client, full["session_id"], if_full="over")
    _walk_in(client, full["session_id"], name="Fatima Waiting", if_full="waitlist")
    with app.app_context():
        amal = db.session.get(Booking, full["bookings"][0])
        promoted = bookings.cancel(amal, reason=CancelReason.ORGANISER, by=db.session.get(User, coordinator.id))
        db.session.commit()
        assert promoted == []  # Eva, in the room already, has the place; Fatima still waits
        session = db.session.get(OfferSession, full["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (3, 1)
        assert integrity.counter_drift() == []
    assert not _eva(app).over_capacity


@pytest.mark.postgres
def test_cancelling_a_place_beyond_the_places_frees_none(app, client, volunteer, coordinator, full) -> None:
    client.sign_in(volunteer)
    _walk_in(client, full["session_id"], if_full="over")
    _walk_in(client, full["session_id"], name="Fatima Waiting", if_full="waitlist")
    with app.app_context():
        eva = db.session.get(Booking, _eva(app).id)
        assert bookings.cancel(eva, reason=CancelReason.ORGANISER, by=db.session.get(User, coordinator.id)) == []
        db.session.commit()
        session = db.session.get(OfferSession, full["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (3, 1)
        assert integrity.counter_drift() == []
        # booked again after cancelling: an ordinary booking (on the waiting list), not beyond the places
        session.starts_at = utcnow() + timedelta(hours=1)
        again = bookings.book(eva.user, bookings.Target(session.offer, session))
        assert again.status == BookingStatus.WAITLISTED and not again.over_capacity
        db.session.commit()
        assert integrity.counter_drift() == []


def test_a_walk_in_at_a_full_course_is_let_in_for_the_course(app, client, coordinator, make_user) -> None:
    person = make_user(name="Amal")
    with app.app_context():
        course = factories.OfferFactory(
            kind=OfferKind.COURSE, capacity=1, organiser=db.session.get(User, coordinator.id)
        )
        session = factories.SessionFactory(offer=course, starts_at=utcnow() + timedelta(days=1))
        factories.SessionFactory(offer=course, starts_at=utcnow() + timedelta(days=8))
        bookings.book(db.session.get(User, person.id), bookings.Target(course, None))
        session.starts_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        session_id, course_id = session.id, course.id
    client.sign_in(coordinator)
    assert _walk_in(client, session_id, if_full="over").status_code == 303
    eva = _eva(app)
    assert eva.session_id is None and eva.offer_id == course_id and eva.over_capacity
    with app.app_context():
        course = db.session.get(Offer, course_id)
        assert (course.confirmed_count, course.capacity) == (1, 1)
        assert integrity.counter_drift() == []
    page = client.get(f"/offers/{course_id}/completion", headers=EN).get_data(as_text=True)
    assert "Eva Jansen" in page and "beyond the places" in page


@pytest.mark.parametrize("choice", ["maybe", "<script>", "over\u200b", "OVER", "x" * 500, "' OR 1=1 --"])
def test_a_made_up_choice_is_refused(app, client, volunteer, full, choice) -> None:
    client.sign_in(volunteer)
    response = _walk_in(client, full["session_id"], if_full=choice)
    assert response.status_code in {303, 409}
    assert _eva(app) is None


def test_only_whoever_runs_the_session_may_let_someone_in(app, client, other_volunteer, participant, full) -> None:
    for person in (other_volunteer, participant):
        client.sign_in(person)
        assert _walk_in(client, full["session_id"], if_full="over").status_code == 403
    anonymous = app.test_client()
    response = anonymous.post(
        f"/sessions/{full['session_id']}/attendance/walk-in", data={"name": "Eva Jansen", "if_full": "over"}
    )
    assert response.status_code in {302, 400}
    assert _eva(app) is None


def test_a_session_with_places_books_as_before(app, client, volunteer, full) -> None:
    with app.app_context():
        session = db.session.get(OfferSession, full["session_id"])
        session.capacity = 5
        db.session.commit()
    client.sign_in(volunteer)
    page = client.get(f"/sessions/{full['session_id']}/attendance", headers=EN).get_data(as_text=True)
    assert 'value="over"' not in page
    response = _walk_in(client, full["session_id"], if_full="over")  # a stale choice does no harm
    assert "Eva Jansen is booked and marked present." in client.get(response.headers["Location"], headers=EN).get_data(
        as_text=True
    )
    assert not _eva(app).over_capacity
    assert _session(app, full["session_id"]).confirmed_count == 4


def _rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True).lstrip("\ufeff")
    dialect = csv.Sniffer().sniff(text.splitlines()[0])
    return list(csv.reader(io.StringIO(text), dialect))
