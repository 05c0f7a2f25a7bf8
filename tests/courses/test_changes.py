"""Changing sessions and offers tells everyone booked, and leaves no booking pointing at nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from icalendar import Calendar

from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.models import (
    Booking,
    BookingStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    OfferKind,
    OfferSession,
    OfferStatus,
    SessionStatus,
    User,
)
from tests import factories
from tests.support.outbox import deliver, queued


@pytest.fixture
def booked_session(app, volunteer, make_user):
    """An activity session of "volunteer" with 2 places: two booked, one waiting."""
    people = [make_user(locale=locale) for locale in ("nl", "ar", "en")]
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), offer__capacity=2, offer__title="Fietsreparatie"
        )
        for person in people:
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
        db.session.execute(sa.delete(Notification))  # forget the booking e-mails
        db.session.commit()
        return {
            "session_id": session.id,
            "offer_id": session.offer_id,
            "location_id": session.location_id,
            "people": people,
        }


def _edit(client, world, **change):
    start = (utcnow() + timedelta(days=5)).astimezone(TIMEZONE)
    data = {
        "day": start.date().isoformat(),
        "start_time": "14:00",
        "end_time": "17:00",
        "location_id": str(world["location_id"]),
        "capacity": "2",
        "languages": ["nl", "en"],
    }
    data.update(change)
    return client.post(f"/sessions/{world['session_id']}/edit", data=data, headers={"Accept-Language": "en"})


def test_moving_a_session_tells_everyone_booked_with_a_new_calendar_file(
    app, client, volunteer, booked_session, smtp
) -> None:
    client.sign_in(volunteer)
    assert _edit(client, booked_session).status_code == 302
    assert len(queued(app, NotificationKind.SESSION_CHANGED)) == 3  # confirmed and waiting
    report = deliver(app)
    assert len(report.sent) == 3
    arabic = smtp.to(booked_session["people"][1].email)[0]
    assert arabic["Content-Language"] == "ar"
    [attachment] = [part for part in arabic.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event["dtstart"].dt.astimezone(TIMEZONE).strftime("%H:%M") == "14:00"
    with app.app_context():
        assert db.session.get(OfferSession, booked_session["session_id"]).starts_at.astimezone(TIMEZONE).hour == 14


def test_changing_only_the_languages_sends_nothing(app, client, volunteer, booked_session) -> None:
    client.sign_in(volunteer)
    with app.app_context():
        session = db.session.get(OfferSession, booked_session["session_id"])
        start, end = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
    response = _edit(
        client,
        booked_session,
        day=start.date().isoformat(),
        start_time=start.strftime("%H:%M"),
        end_time=end.strftime("%H:%M"),
        languages=["ar"],
    )
    assert response.status_code == 302
    assert queued(app, NotificationKind.SESSION_CHANGED) == []


@pytest.mark.postgres
def test_a_session_can_end_after_midnight(app, client, volunteer, booked_session) -> None:
    client.sign_in(volunteer)
    day = (utcnow() + timedelta(days=5)).astimezone(TIMEZONE).date()
    assert _edit(client, booked_session, day=day.isoformat(), start_time="22:00", end_time="01:00").status_code == 302
    with app.app_context():
        session = db.session.get(OfferSession, booked_session["session_id"])
        starts, ends = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
    assert (starts.date(), starts.strftime("%H:%M")) == (day, "22:00")
    assert (ends.date(), ends.strftime("%H:%M")) == (day + timedelta(days=1), "01:00")
    # the form gives it back as it was typed, and the calendar file ends the next night
    form = client.get(f"/sessions/{booked_session['session_id']}/edit").get_data(as_text=True)
    assert 'value="22:00"' in form and 'value="01:00"' in form
    event = Calendar.from_ical(client.get(f"/sessions/{booked_session['session_id']}.ics").data).walk("VEVENT")[0]
    assert (event["dtstart"].dt, event["dtend"].dt) == (starts, ends)
    assert len(queued(app, NotificationKind.SESSION_CHANGED)) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_time": "14:00"}, "The end cannot be the same time as the start."),
        ({"day": (utcnow() - timedelta(days=2)).date().isoformat()}, "This date is in the past."),
        ({"capacity": "1"}, "There are already 2 people booked"),
        ({"capacity": "-5"}, "Between 1 and 500 places."),
        ({"languages": []}, "Please choose at least one language."),
        ({"day": "<script>"}, "Not a valid date value."),
    ],
)
def test_bad_session_changes_are_refused(app, client, volunteer, booked_session, change, message) -> None:
    client.sign_in(volunteer)
    response = _edit(client, booked_session, **change)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert queued(app, NotificationKind.SESSION_CHANGED) == []


def test_more_places_go_to_the_waiting_list(app, client, volunteer, booked_session) -> None:
    client.sign_in(volunteer)
    assert _edit(client, booked_session, capacity="3").status_code == 302
    with app.app_context():
        statuses = sorted(b.status for b in db.session.scalars(sa.select(Booking)))
        assert statuses == [BookingStatus.CONFIRMED] * 3
        assert db.session.get(OfferSession, booked_session["session_id"]).waitlist_count == 0
    assert len(queued(app, NotificationKind.BOOKING_PROMOTED)) == 1


def test_cancelling_a_session_asks_first_then_ends_its_bookings(app, client, volunteer, booked_session, smtp) -> None:
    client.sign_in(volunteer)
    url = f"/sessions/{booked_session['session_id']}/cancel"
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "3 people are booked" in page
    with app.app_context():
        assert db.session.get(OfferSession, booked_session["session_id"]).status == SessionStatus.SCHEDULED
    assert client.post(url, data={"message": "The workshop is flooded, sorry!"}).status_code == 302
    with app.app_context():
        session = db.session.get(OfferSession, booked_session["session_id"])
        assert session.status == SessionStatus.CANCELLED
        assert (session.confirmed_count, session.waitlist_count) == (0, 0)
        assert {b.status for b in db.session.scalars(sa.select(Booking))} == {BookingStatus.CANCELLED}
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Notification.kind == NotificationKind.REMINDER, Notification.status == NotificationStatus.PENDING
                )
            )
            == 0
        )
    deliver(app)
    message = smtp.to(booked_session["people"][2].email)[0]
    assert "flooded" in message.get_body(preferencelist=("plain",)).get_content()
    # cancelling again is a clear message, not an error
    assert client.post(url, data={}).status_code == 302


def test_cancelling_one_session_of_a_course_keeps_the_course(app, client, coordinator, make_user) -> None:
    person = make_user()
    with app.app_context():
        course = factories.OfferFactory(kind=OfferKind.COURSE, capacity=5)
        sessions = [factories.SessionFactory(offer=course, starts_at=utcnow() + timedelta(days=d)) for d in (3, 10)]
        bookings.book(db.session.get(User, person.id), bookings.Target(course, None))
        db.session.commit()
        first_id = sessions[0].id
    client.sign_in(coordinator)
    assert client.post(f"/sessions/{first_id}/cancel", data={}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.status)) == BookingStatus.CONFIRMED
        reminder_sessions = {
            n.session_id
            for n in db.session.scalars(
                sa.select(Notification).where(
                    Notification.kind == NotificationKind.REMINDER, Notification.status == NotificationStatus.PENDING
                )
            )
        }
        assert first_id not in reminder_sessions and reminder_sessions
    assert len(queued(app, NotificationKind.SESSION_CANCELLED)) == 1


def test_cancelling_a_whole_offer(app, client, volunteer, make_user) -> None:
    person, other = make_user(), make_user()
    with app.app_context():
        offer = factories.OfferFactory(organiser=db.session.get(User, volunteer.id), capacity=1)
        sessions = [factories.SessionFactory(offer=offer, starts_at=utcnow() + timedelta(days=d)) for d in (2, 9)]
        for session in sessions:
            bookings.book(db.session.get(User, person.id), bookings.Target(offer, session))
            bookings.book(db.session.get(User, other.id), bookings.Target(offer, session))
        db.session.commit()
        offer_id = offer.id
    client.sign_in(volunteer)
    assert client.get(f"/offers/{offer_id}/cancel").status_code == 200
    assert client.post(f"/offers/{offer_id}/cancel", data={"message": ""}).status_code == 302
    with app.app_context():
        offer = db.session.get(type(offer), offer_id)
        assert offer.status == OfferStatus.CANCELLED
        assert {s.status for s in offer.sessions} == {SessionStatus.CANCELLED}
        assert {b.status for b in db.session.scalars(sa.select(Booking))} == {BookingStatus.CANCELLED}
        assert all((s.confirmed_count, s.waitlist_count) == (0, 0) for s in offer.sessions)
    # one e-mail per person, not one per booking
    assert sorted(n.user_id for n in queued(app, NotificationKind.OFFER_CANCELLED)) == sorted([person.id, other.id])
    # a cancelled offer is still there for people following a link, marked as cancelled
    assert "Cancelled" in app.test_client().get(f"/offers/{offer_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_a_volunteer_cannot_change_someone_elses_sessions(client, other_volunteer, booked_session) -> None:
    client.sign_in(other_volunteer)
    assert _edit(client, booked_session).status_code == 403
    assert client.post(f"/sessions/{booked_session['session_id']}/cancel", data={}).status_code == 403


def test_calendar_files(app, client) -> None:
    with app.app_context():
        offer = factories.OfferFactory(title="Wandelgroep", language="nl")
        first = factories.SessionFactory(offer=offer, starts_at=utcnow() + timedelta(days=1))
        factories.SessionFactory(offer=offer, starts_at=utcnow() + timedelta(days=8), status=SessionStatus.CANCELLED)
        offer_id, first_id = offer.id, first.id
    response = client.get(f"/offers/{offer_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = list(Calendar.from_ical(response.data).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Wandelgroep", "Wandelgroep"]
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CANCELLED"]
    # unique to this deployment: the host of its public address (BASE_URL)
    host = urlsplit(app.config["BASE_URL"]).hostname
    assert str(events[0]["uid"]) == f"session-{first_id}@{host}"
    single = list(Calendar.from_ical(client.get(f"/sessions/{first_id}.ics").data).walk("VEVENT"))
    assert len(single) == 1 and "Kanaalstraat" in str(single[0]["location"])


def _as_it_is(world) -> dict[str, str]:
    """The session's form as it opens: the stored time and place, unchanged."""
    return {
        "day": world["starts_at"].date().isoformat(),
        "start_time": world["starts_at"].strftime("%H:%M"),
        "end_time": world["ends_at"].strftime("%H:%M"),
    }


@pytest.fixture
def stored_with_seconds(app, booked_session):
    """The booked session, stored with seconds (as older data and imports have it)."""
    with app.app_context():
        session = db.session.get(OfferSession, booked_session["session_id"])
        session.starts_at += timedelta(seconds=17)
        session.ends_at += timedelta(seconds=17)
        db.session.commit()
        world = dict(booked_session)
        world["starts_at"] = session.starts_at.astimezone(TIMEZONE)
        world["ends_at"] = session.ends_at.astimezone(TIMEZONE)
        return world


def test_saving_a_session_unchanged_changes_nothing_and_tells_nobody(
    app, client, volunteer, stored_with_seconds
) -> None:
    client.sign_in(volunteer)
    response = _edit(client, stored_with_seconds, **_as_it_is(stored_with_seconds))
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing was changed." in page and "The session is changed" not in page
    assert queued(app, NotificationKind.SESSION_CHANGED) == []


def test_a_session_cannot_be_moved_into_the_past(app, client, volunteer, booked_session) -> None:
    with app.app_context():
        start = db.session.get(OfferSession, booked_session["session_id"]).starts_at.astimezone(TIMEZONE)
    # an hour before the session, someone moves it to earlier that day: a time already gone
    with time_machine.travel(start - timedelta(hours=1), tick=False):
        client.sign_in(volunteer)
        earlier = (start - timedelta(hours=3)).strftime("%H:%M")
        response = _edit(client, booked_session, day=start.date().isoformat(), start_time=earlier)
        assert response.status_code == 422
        assert "This time has already passed" in response.get_data(as_text=True)
        yesterday = (start - timedelta(days=1)).date().isoformat()
        assert "This date is in the past" in _edit(client, booked_session, day=yesterday).get_data(as_text=True)
    assert queued(app, NotificationKind.SESSION_CHANGED) == []
    with app.app_context():
        assert db.session.get(OfferSession, booked_session["session_id"]).starts_at == start
