"""The profile, "download my data" and "delete my account"."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import (
    Attendance,
    AttendanceStatus,
    Audience,
    Booking,
    BookingStatus,
    LoginSession,
    Notification,
    OfferSession,
    User,
)
from tests import factories
from tests.factories import PASSWORD
from tests.support.hostile import HOSTILE_LINES


def _profile(user, **change):
    data = {
        "name": user.name,
        "email": user.email or "",
        "phone": "",
        "locale": "en",
        "audience": "unsaid",
        "email_notifications": "y",
    }
    data.update(change)
    return data


def test_change_name_language_and_preferences(app, client, participant) -> None:
    client.sign_in(participant)
    response = client.post(
        "/account",
        data=_profile(participant, name="Amal Y.", locale="ti", audience="neighbour", email_notifications=""),
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, participant.id)
        assert (user.name, user.locale, user.audience, user.email_notifications) == (
            "Amal Y.",
            "ti",
            Audience.NEIGHBOUR,
            False,
        )
        assert user.email_verified_at is not None  # same address: still confirmed
    assert 'lang="ti"' in client.get("/account").get_data(as_text=True)


def test_the_audience_answer_follows_into_booking_totals(app, client, participant) -> None:
    with app.app_context():
        session = factories.SessionFactory()
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
    client.sign_in(participant)
    client.post("/account", data=_profile(participant, audience="newcomer"))
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.audience)) == Audience.NEWCOMER


@pytest.mark.parametrize("name", list(HOSTILE_LINES), ids=list(HOSTILE_LINES))
def test_hostile_profile_input_changes_nothing(app, client, participant, name) -> None:
    client.sign_in(participant)
    response = client.post("/account", data=_profile(participant, name=HOSTILE_LINES[name]))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, participant.id).name == participant.name


def test_download_my_data(app, client, participant, other_participant) -> None:
    with app.app_context():
        session = factories.SessionFactory(offer__title="Cooking evening")
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        other = factories.SessionFactory(offer__title="Someone else's walk")
        bookings.book(db.session.get(User, other_participant.id), bookings.Target(other.offer, other))
        db.session.commit()
    client.sign_in(participant)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == participant.email
    assert [b["offer"] for b in data["bookings"]] == ["Cooking evening"]
    text = response.get_data(as_text=True)
    assert "argon2" not in text and "password" not in text.lower()
    assert other_participant.email not in text and "Someone else" not in text
    assert len(data["sign_in_sessions"]) == 1


def test_delete_account_needs_confirmation_and_password(app, client, participant) -> None:
    client.sign_in(participant)
    assert client.get("/account/delete").status_code == 200
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 422
    assert client.post("/account/delete", data={"password": "wrong password here", "confirm": "y"}).status_code == 422
    with app.app_context():
        assert db.session.get(User, participant.id) is not None


@pytest.mark.postgres
def test_deleting_an_account_keeps_anonymous_counts(app, client, participant, other_participant, volunteer) -> None:
    with app.app_context():
        past = factories.SessionFactory(
            starts_at=utcnow() + timedelta(hours=1),
            offer__capacity=1,
            offer__organiser=db.session.get(User, volunteer.id),
        )
        me = db.session.get(User, participant.id)
        me.audience = Audience.NEIGHBOUR
        old = bookings.book(me, bookings.Target(past.offer, past))
        db.session.commit()
        # the session took place: move it to the past and take attendance
        past.starts_at, past.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=2, hours=-2)
        db.session.add(Attendance(session_id=past.id, booking_id=old.id, status=AttendanceStatus.PRESENT))
        upcoming = factories.SessionFactory(offer__capacity=1)
        mine = bookings.book(me, bookings.Target(upcoming.offer, upcoming))
        waiting = bookings.book(db.session.get(User, other_participant.id), bookings.Target(upcoming.offer, upcoming))
        assert waiting.status == BookingStatus.WAITLISTED
        db.session.commit()
        ids = {"old": old.id, "mine": mine.id, "waiting": waiting.id, "upcoming": upcoming.id}

    client.sign_in(participant)
    response = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302  # signed out

    with app.app_context():
        assert db.session.get(User, participant.id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).where(Notification.user_id == participant.id)) == 0
        # the past booking and its attendance still count, but name no one
        old = db.session.get(Booking, ids["old"])
        assert old.user_id is None and old.audience == Audience.NEIGHBOUR
        present = db.session.scalar(
            sa.select(sa.func.count()).select_from(Attendance).where(Attendance.status == AttendanceStatus.PRESENT)
        )
        assert present == 1
        # the upcoming place went to the person waiting
        assert db.session.get(Booking, ids["mine"]).status == BookingStatus.CANCELLED
        assert db.session.get(Booking, ids["waiting"]).status == BookingStatus.CONFIRMED
        assert db.session.get(OfferSession, ids["upcoming"]).confirmed_count == 1
        everything = json.dumps(
            [
                [getattr(row, c.name) for c in table.columns]
                for table in db.metadata.sorted_tables
                for row in db.session.execute(sa.select(table))
            ],
            default=str,
        )
        assert participant.name not in everything and participant.email not in everything


def test_the_privacy_page_is_plain_and_public(client) -> None:
    page = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "We do not ask for your residence status, V-number, BSN or nationality" in page
