"""Nobody silently unreachable: people with no working e-mail or phone are on the call list when
something changes for them, and the call is ticked off into the audit trail."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from einstein.bookings import operations
from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.db import db
from einstein.models import AuditEvent, Booking, NotificationKind, NotificationStatus, OfferSession, User
from tests import factories
from tests.support.outbox import queued


def _line_up(app, first_id: int, waiting_id: int) -> tuple[int, int, int]:
    """An activity with one place: ``first`` has it, ``waiting`` waits."""
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=1, offer__title="Naailes")
        target = Target.of_session(session)
        first = bookings.book(db.session.get(User, first_id), target)
        waiting = bookings.book(db.session.get(User, waiting_id), target)
        db.session.commit()
        return session.id, first.id, waiting.id


def test_a_desk_person_without_a_phone_who_gets_a_place_is_on_the_call_list(
    app, client, coordinator, participant, make_user
) -> None:
    walk_in = make_user(name="Hodan Abdi", email=None, phone=None, password_hash=None)
    _session_id, first, _waiting = _line_up(app, participant.id, walk_in.id)
    with app.app_context():
        bookings.cancel(db.session.get(Booking, first))
        db.session.commit()
    [promoted] = queued(app, NotificationKind.BOOKING_PROMOTED)
    assert promoted.channel == "call" and promoted.status == NotificationStatus.PENDING
    client.sign_in(coordinator)
    page = client.get("/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hodan Abdi" in page and "Naailes" in page and "A place came free" in page
    assert "wait for them at the desk" in page  # no number to call
    assert "People to call: 1" in client.get("/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # ticked off: gone from the list, and the trail says who called whom
    response = client.post(f"/calls/{promoted.id}/done", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "Ticked off" in response.get_data(as_text=True) and "Hodan Abdi" not in response.get_data(as_text=True)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "person.called"))
        assert (event.actor_id, event.subject_id) == (coordinator.id, walk_in.id)
    # a second tick (another coordinator, the same minute) changes nothing
    again = client.post(f"/calls/{promoted.id}/done", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "ticked off already" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_a_moved_session_puts_the_unreachable_on_the_list_with_their_number(
    app, client, coordinator, make_user
) -> None:
    # an address never confirmed and a number never proven: neither reaches them
    never_clicked = make_user(name="Yonas", email="yonas@example.org", email_verified_at=None, phone="+31633334444")
    with app.app_context():
        session = factories.SessionFactory(offer__title="Taalcafé")
        bookings.book(db.session.get(User, never_clicked.id), Target.of_session(session))
        db.session.commit()
        session = db.session.get(OfferSession, session.id)
        moved = operations.change_session(
            session,
            starts_at=session.starts_at + timedelta(hours=1),
            ends_at=session.ends_at + timedelta(hours=1),
            location=session.location,
            capacity=None,
            languages=["nl"],
            editor=db.session.get(User, coordinator.id),
        )
        db.session.commit()
    assert moved.told
    client.sign_in(coordinator)
    page = client.get("/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Yonas" in page and "Taalcafé" in page and 'href="tel:+31633334444"' in page


def test_reminders_and_their_own_cancellations_are_nobodys_call(app, client, coordinator, make_user) -> None:
    person = make_user(name="Amal", email=None, phone=None, password_hash=None)
    with app.app_context():
        session = factories.SessionFactory(offer__title="Fietsles")
        booking = bookings.book(db.session.get(User, person.id), Target.of_session(session))
        db.session.commit()
        bookings.cancel(booking)
        db.session.commit()
    # the confirmation waits (should they give a number later); their own cancellation is not told
    waiting = queued(app, channel="call", status=NotificationStatus.PENDING)
    assert {row.kind for row in waiting} == {NotificationKind.BOOKING_CONFIRMED}
    client.sign_in(coordinator)
    page = client.get("/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nobody to call" in page
    assert "People to call" not in client.get("/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_only_coordinators_see_and_tick_the_call_list(app, client, volunteer, participant, make_user) -> None:
    walk_in = make_user(name="Hodan", email=None, phone=None, password_hash=None)
    _session_id, first, _waiting = _line_up(app, participant.id, walk_in.id)
    with app.app_context():
        bookings.cancel(db.session.get(Booking, first))
        db.session.commit()
    [promoted] = queued(app, NotificationKind.BOOKING_PROMOTED)
    assert client.get("/calls").status_code == 302  # sign in first
    for person in (participant, volunteer):
        client.sign_in(person)
        assert client.get("/calls").status_code == 403
        assert client.post(f"/calls/{promoted.id}/done").status_code == 403
    assert queued(app, NotificationKind.BOOKING_PROMOTED)[0].status == NotificationStatus.PENDING


def test_ticking_what_is_not_a_call_changes_nothing(app, client, coordinator, participant) -> None:
    with app.app_context():
        session = factories.SessionFactory()
        bookings.book(db.session.get(User, participant.id), Target.of_session(session))
        db.session.commit()
    [email] = queued(app, NotificationKind.BOOKING_CONFIRMED)
    client.sign_in(coordinator)
    client.post(f"/calls/{email.id}/done")
    assert queued(app, NotificationKind.BOOKING_CONFIRMED)[0].status == NotificationStatus.PENDING
    assert client.post("/calls/999999/done").status_code == 404
    assert client.post("/calls/99999999999999999999/done").status_code == 404


def test_names_on_the_call_list_are_shown_as_text(app, client, coordinator, participant, make_user) -> None:
    walk_in = make_user(name="<img src=x onerror=alert(1)>", email=None, phone=None, password_hash=None)
    _session_id, first, _waiting = _line_up(app, participant.id, walk_in.id)
    with app.app_context():
        bookings.cancel(db.session.get(Booking, first))
        db.session.commit()
    client.sign_in(coordinator)
    page = client.get("/calls").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_the_list_is_per_day_and_printable(app, client, coordinator, participant, make_user) -> None:
    walk_in = make_user(name="Hodan", email=None, phone="+31644445555", password_hash=None)
    _session_id, first, _waiting = _line_up(app, participant.id, walk_in.id)
    with app.app_context():
        bookings.cancel(db.session.get(Booking, first))
        db.session.commit()
    client.sign_in(coordinator)
    page = client.get("/calls", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h2>" in page and "Print this list" in page and 'href="tel:+31644445555"' in page
