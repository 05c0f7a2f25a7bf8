"""The audit trail: what people did to other people's data, shown to coordinators per offer and
per person, holding no more personal data than ids and codes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import AuditEvent, Booking, OfferSession, Role, User
from tests import factories


def _actions(app) -> list[tuple[str, int | None, int | None]]:
    with app.app_context():
        return [
            (e.action, e.actor_id, e.subject_id)
            for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_what_a_coordinator_does_for_someone_is_recorded_and_shown(app, client, coordinator, make_user) -> None:
    person = make_user(name="Hodan Abdi", password_hash=None, email=None, phone="+31612121212")
    with app.app_context():
        session = factories.SessionFactory(offer__title="Fietsles")
        offer_id, session_id = session.offer_id, session.id
    client.sign_in(coordinator)
    # booked in at the desk, then cancelled for her
    assert client.post(f"/desk/people/{person.id}", data={"target": f"session-{session_id}"}).status_code == 302
    with app.app_context():
        reference = db.session.scalar(sa.select(Booking.reference))
    # the participant's own cancel sends a coordinator to the desk's question (who asked for it?)
    sent_on = client.post(f"/bookings/{reference}/cancel", data={})
    assert sent_on.status_code == 307 and sent_on.location.endswith(f"/desk/bookings/{reference}/cancel")
    assert client.post(f"/desk/bookings/{reference}/cancel", data={"asked": "yes"}).status_code == 303
    assert _actions(app) == [
        ("booking.made_for", coordinator.id, person.id),
        ("booking.cancelled_for", coordinator.id, person.id),
    ]
    page = client.get(f"/people/{person.id}/history", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "booked a place for" in page and "cancelled a booking of" in page and reference in page
    offer_page = client.get(f"/offers/{offer_id}/history", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hodan Abdi" in offer_page and "Noor Coordinator" in offer_page


def test_a_person_booking_for_themselves_is_not_in_the_trail(app, client, participant) -> None:
    with app.app_context():
        session = factories.SessionFactory()
        session_id = session.id
    client.sign_in(participant)
    client.post(f"/sessions/{session_id}/book", data={})
    assert _actions(app) == []


def test_role_changes_and_trust_are_recorded(app, client, coordinator, participant, volunteer) -> None:
    client.sign_in(coordinator)
    client.post(f"/people/{participant.id}/role", data={"role": "volunteer"})
    client.post(f"/people/{volunteer.id}/trusted", data={"trusted": "1"})
    assert _actions(app) == [
        ("person.role_changed", coordinator.id, participant.id),
        ("person.trusted", coordinator.id, volunteer.id),
    ]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent)).first()
        assert event.details == {"role": "volunteer", "was": "participant"}


def test_attendance_changed_afterwards_is_recorded_and_taking_it_is_not(app, volunteer, make_user) -> None:
    person = make_user()
    with app.app_context():
        by = db.session.get(User, volunteer.id)
        session = factories.SessionFactory(offer__organiser=by)
        booking = bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        session.starts_at = utcnow() - timedelta(minutes=30)
        db.session.commit()
        mark(session, booking, AttendanceStatus.PRESENT, by)  # taken during the session
        db.session.commit()
        assert _actions(app) == []
        session = db.session.get(OfferSession, session.id)
        session.starts_at, session.ends_at = utcnow() - timedelta(days=3), utcnow() - timedelta(days=3, hours=-2)
        db.session.commit()
        mark(session, booking, AttendanceStatus.ABSENT, by)  # changed days later
        db.session.commit()
    assert _actions(app) == [("attendance.changed_later", volunteer.id, person.id)]


def test_exports_are_recorded(app, client, coordinator) -> None:
    client.sign_in(coordinator)
    assert client.get("/exports/bookings.csv").status_code == 200
    assert _actions(app) == [("report.exported", coordinator.id, None)]


def test_the_trail_is_for_coordinators(client, participant, volunteer, coordinator) -> None:
    for person in (participant, volunteer):
        client.sign_in(person)
        assert client.get(f"/people/{coordinator.id}/history").status_code == 403


def test_the_trail_keeps_what_happened_when_the_person_is_erased(app, client, coordinator, make_user) -> None:
    person = make_user(password_hash=None, email=None, phone="+31613131313", role=Role.PARTICIPANT)
    client.sign_in(coordinator)
    client.post(f"/people/{person.id}/erase", data={"confirm": "y"})
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent)).all()
        # who did it and when stay; the person is gone, with every personal detail
        assert (event.action, event.actor_id, event.subject_id) == ("person.erased", coordinator.id, None)
        assert db.session.get(User, person.id) is None
