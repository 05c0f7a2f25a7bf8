"""Taking attendance on a phone: taps, booking cards, walk-ins, and who may do it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import Booking, BookingSource, OfferSession, User
from tests import factories
from tests.support.queries import count_queries


@pytest.fixture
def running(app, volunteer, make_user):
    """An activity of "volunteer" starting now, with three people booked and two places left."""
    people = [make_user(name=name) for name in ("Amal", "Bram", "Chiara")]
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id),
            offer__capacity=5,
            starts_at=utcnow() + timedelta(days=1),
        )
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(session.offer, session)) for p in people]
        session.starts_at = utcnow() - timedelta(minutes=10)  # it has begun
        db.session.commit()
        return {"session_id": session.id, "bookings": [(b.id, b.reference) for b in booked], "people": people}


def _marks(app, session_id) -> dict[int, AttendanceStatus]:
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Attendance.booking_id, Attendance.status).where(Attendance.session_id == session_id)
            ).all()
        )


def _counts(app, session_id) -> tuple[int, int, int]:
    with app.app_context():
        s = db.session.get(OfferSession, session_id)
        return s.present_count, s.absent_count, s.excused_count


def test_a_volunteer_taps_present_absent_excused(app, client, volunteer, running) -> None:
    client.sign_in(volunteer)
    page = client.get(f"/sessions/{running['session_id']}/attendance", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert all(name in page for name in ("Amal", "Bram", "Chiara"))
    (amal, _), (bram, _), (chiara, _) = running["bookings"]
    url = f"/sessions/{running['session_id']}/attendance/"
    assert client.post(url + str(amal), data={"status": "present"}).status_code == 303
    response = client.post(url + str(bram), data={"status": "absent"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {"booking": bram, "status": "absent", "counts": {"present": 1, "absent": 1, "excused": 0}}
    client.post(url + str(chiara), data={"status": "excused"})
    # a correction: Bram came after all
    client.post(url + str(bram), data={"status": "present"})
    assert _marks(app, running["session_id"]) == {
        amal: AttendanceStatus.PRESENT,
        bram: AttendanceStatus.PRESENT,
        chiara: AttendanceStatus.EXCUSED,
    }
    assert _counts(app, running["session_id"]) == (2, 0, 1)
    page = client.get(f"/sessions/{running['session_id']}/attendance").get_data(as_text=True)
    assert page.count('aria-pressed="true"') == 3


@pytest.mark.parametrize("status", ["late", "", "PRESENT", "<script>", "present\u200b"])
def test_a_bad_tap_changes_nothing(app, client, volunteer, running, status) -> None:
    client.sign_in(volunteer)
    booking_id = running["bookings"][0][0]
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/{booking_id}",
        data={"status": status},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert _marks(app, running["session_id"]) == {}


def test_a_booking_of_another_session_cannot_be_marked(app, client, volunteer, running, participant) -> None:
    with app.app_context():
        other = factories.SessionFactory()
        stranger = bookings.book(db.session.get(User, participant.id), bookings.Target(other.offer, other))
        db.session.commit()
        stranger_id = stranger.id
    client.sign_in(volunteer)
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/{stranger_id}",
        data={"status": "present"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert (
        client.post(f"/sessions/{running['session_id']}/attendance/999999", data={"status": "present"}).status_code
        == 404
    )
    assert _marks(app, running["session_id"]) == {}


def test_another_volunteer_can_neither_read_nor_write(app, client, other_volunteer, participant, running) -> None:
    booking_id = running["bookings"][0][0]
    for person in (other_volunteer, participant):
        client.sign_in(person)
        assert client.get(f"/sessions/{running['session_id']}/attendance").status_code == 403
        assert (
            client.post(
                f"/sessions/{running['session_id']}/attendance/{booking_id}", data={"status": "present"}
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/sessions/{running['session_id']}/attendance/reference", data={"reference": running["bookings"][0][1]}
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/sessions/{running['session_id']}/attendance/walk-in",
                data={"name": "X", "locale": "nl", "consent": "y"},
            ).status_code
            == 403
        )
    assert _marks(app, running["session_id"]) == {}


def test_coordinators_take_attendance_anywhere(app, client, coordinator, running) -> None:
    client.sign_in(coordinator)
    booking_id = running["bookings"][0][0]
    assert (
        client.post(
            f"/sessions/{running['session_id']}/attendance/{booking_id}", data={"status": "present"}
        ).status_code
        == 303
    )


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", "{ref_nodash}", "  {ref}  "])
def test_the_reference_from_a_booking_card(app, client, volunteer, running, typed) -> None:
    booking_id, reference = running["bookings"][1]
    client.sign_in(volunteer)
    value = typed.format(ref=reference, ref_lower=reference.lower(), ref_nodash=reference.replace("-", ""))
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/reference",
        data={"reference": value},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "Bram is marked present." in response.get_data(as_text=True)
    assert _marks(app, running["session_id"]) == {booking_id: AttendanceStatus.PRESENT}


@pytest.mark.parametrize(
    ("typed", "explained"),
    [
        ("ZZZZ-ZZZZ", "No booking with this reference"),
        ("", "Please type the reference"),
        ("' OR 1=1 --", "No booking with this reference"),
        ("x" * 100, "Field cannot be longer"),
        ("<script>", "No booking with this reference"),
    ],
)
def test_a_wrong_reference_is_explained(app, client, volunteer, running, typed, explained) -> None:
    client.sign_in(volunteer)
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/reference",
        data={"reference": typed},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert explained in page
    assert _marks(app, running["session_id"]) == {}


def test_a_walk_in_is_booked_and_marked_present(app, client, volunteer, running) -> None:
    client.sign_in(volunteer)
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/walk-in",
        data={"name": "Dawit Tesfay", "phone": "06 2222 3333", "locale": "ti", "consent": "y"},
    )
    assert response.status_code == 303
    with app.app_context():
        booking = db.session.scalar(
            sa.select(Booking).join(User, User.id == Booking.user_id).where(User.name == "Dawit Tesfay")
        )
        assert booking.source == BookingSource.WALK_IN and booking.booked_by_id == volunteer.id
        assert db.session.get(OfferSession, running["session_id"]).confirmed_count == 4
        assert booking.user.consent_recorded_by_id == volunteer.id
        booking_id = booking.id
    assert _marks(app, running["session_id"])[booking_id] == AttendanceStatus.PRESENT
    # the same person again (found by phone): no second account, no second booking
    client.post(
        f"/sessions/{running['session_id']}/attendance/walk-in",
        data={"name": "Dawit T", "phone": "0622223333", "locale": "ti", "consent": "y"},
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.phone == "+31622223333")) == 1
        assert db.session.get(OfferSession, running["session_id"]).confirmed_count == 4


def test_a_walk_in_when_it_is_full(app, client, volunteer, running, make_user) -> None:
    others = [make_user(), make_user()]
    with app.app_context():
        session = db.session.get(OfferSession, running["session_id"])
        session.starts_at = utcnow() + timedelta(hours=1)
        for person in others:
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    client.sign_in(volunteer)
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/walk-in",
        data={"name": "Eva", "locale": "nl", "consent": "y"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    # nobody is added until the person taking attendance chooses (tests/attendance/test_walk_ins.py)
    assert response.status_code == 409
    assert "There is no place left. Choose below" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Eva")) == 0


@pytest.mark.parametrize(
    ("data", "explained"),
    [
        ({"name": "Eva", "locale": "nl"}, "Please ask the person and tick the box"),
        ({"name": "<b>", "locale": "nl", "consent": "y"}, "Use letters, spaces, hyphens and apostrophes only."),
        ({"name": "Eva", "locale": "xx", "consent": "y"}, "Not a valid choice."),
    ],
)
def test_a_walk_in_needs_consent_and_a_real_name(app, client, volunteer, running, data, explained) -> None:
    client.sign_in(volunteer)
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/walk-in",
        data=data,
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200 and explained in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name.in_(["Eva", "<b>"]))) == 0


def test_attendance_waits_until_shortly_before_the_start(app, client, volunteer, running) -> None:
    with app.app_context():
        session = db.session.get(OfferSession, running["session_id"])
        session.starts_at, session.ends_at = utcnow() + timedelta(days=2), utcnow() + timedelta(days=2, hours=2)
        db.session.commit()
    client.sign_in(volunteer)
    booking_id = running["bookings"][0][0]
    response = client.post(
        f"/sessions/{running['session_id']}/attendance/{booking_id}",
        data={"status": "present"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "Attendance opens two hours before the session starts." in response.get_data(as_text=True)
    assert _marks(app, running["session_id"]) == {}


def test_two_devices_do_not_overwrite_each_other(app, client, other_client, volunteer, coordinator, running) -> None:
    """Each device loaded the list before the other tapped; each tap writes only its own person."""
    client.sign_in(volunteer)
    other_client.sign_in(coordinator)
    (amal, _), (bram, _), (chiara, _) = running["bookings"]
    url = f"/sessions/{running['session_id']}/attendance/"
    client.get(url[:-1])
    other_client.get(url[:-1])
    client.post(url + str(amal), data={"status": "present"})
    other_client.post(url + str(bram), data={"status": "absent"})
    client.post(url + str(chiara), data={"status": "present"})
    other_client.post(url + str(chiara), data={"status": "present"})
    assert _marks(app, running["session_id"]) == {
        amal: AttendanceStatus.PRESENT,
        bram: AttendanceStatus.ABSENT,
        chiara: AttendanceStatus.PRESENT,
    }
    assert _counts(app, running["session_id"]) == (2, 1, 0)
    page = other_client.get(url[:-1]).get_data(as_text=True)
    assert page.count('aria-pressed="true"') == 3


@pytest.mark.postgres
def test_the_attendance_page_makes_a_fixed_number_of_queries(app, client, coordinator) -> None:
    from tests.support.bulk import course_with_bookings

    client.sign_in(coordinator)
    counts = []
    for size in (10, 10_000):
        session_id = course_with_bookings(app, size, marked=size // 2)
        with count_queries(app) as statements:
            response = client.get(f"/sessions/{session_id}/attendance")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="attendee"') == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
