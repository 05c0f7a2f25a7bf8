"""The walk-in form never tells the person taking attendance who owns a phone number.

The attack (security review 2026, item 3): a volunteer types any number at the walk-in form of
their own session, and einstein used to answer with the real name of its owner, book them and
e-mail them.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import Booking, Notification, OfferSession, Role, User
from tests import factories


def _running_session(app, volunteer, people=()) -> int:
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), starts_at=utcnow() + timedelta(days=1)
        )
        for person in people:
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        session.starts_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        return session.id


def _walk_in(client, session_id, phone, name="Someone New"):
    return client.post(
        f"/sessions/{session_id}/attendance/walk-in",
        data={"name": name, "phone": phone, "locale": "en", "consent": "y"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )


def test_a_number_that_belongs_to_someone_else_tells_nothing_about_them(app, client, volunteer, make_user) -> None:
    owner = make_user(role=Role.COORDINATOR, name="Fatima Secret-Name", phone="+31611112222")
    session_id = _running_session(app, volunteer)
    client.sign_in(volunteer)
    response = _walk_in(client, session_id, "06-11112222", name="Anyone")
    page = response.get_data(as_text=True)
    assert "Fatima" not in page and "Secret-Name" not in page
    assert "ask a coordinator" in page
    with app.app_context():
        # nobody was booked, nobody was e-mailed, no account was made
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.user_id == owner.id)) == 0
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Anyone")) == 0


def test_someone_booked_here_is_found_by_their_number(app, client, volunteer, make_user) -> None:
    booked = make_user(name="Dawit Tesfay", phone="+31622223333")
    session_id = _running_session(app, volunteer, [booked])
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        # booked on another session of the same activity: the same person, known to this organiser
        other = factories.SessionFactory(offer=session.offer, starts_at=session.starts_at + timedelta(hours=1))
        other_id = other.id
        db.session.commit()
    client.sign_in(volunteer)
    for target in (session_id, other_id):
        with app.app_context():
            s = db.session.get(OfferSession, target)
            s.starts_at = utcnow() - timedelta(minutes=5)
            db.session.commit()
        _walk_in(client, target, "0622223333", name="Dawit T")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.phone == "+31622223333")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Dawit T")) == 0


def test_an_unknown_number_makes_a_new_person(app, client, volunteer) -> None:
    session_id = _running_session(app, volunteer)
    client.sign_in(volunteer)
    response = _walk_in(client, session_id, "06 3333 4444", name="Hodan Abdi")
    assert "Hodan Abdi is booked and marked present" in response.get_data(as_text=True)
    with app.app_context():
        person = db.session.scalar(sa.select(User).where(User.phone == "+31633334444"))
        assert person.name == "Hodan Abdi" and person.consent_recorded_by_id == volunteer.id
