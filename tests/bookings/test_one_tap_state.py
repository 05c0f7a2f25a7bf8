"""A one-tap action applies only to the state the person saw: the form carries it, and the
service compares it under the lock on the places; otherwise nothing is done and the page asks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from einstein.bookings import links, services
from einstein.db import db
from einstein.models import Booking, BookingStatus
from tests.support.booking import book
from tests.support.hostile import HOSTILE_LINES

EN = {"Accept-Language": "en"}


def _status(app, reference: str) -> BookingStatus:
    with app.app_context():
        return db.session.scalar(sa.select(Booking.status).where(Booking.reference == reference))


def _references(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Booking.reference).order_by(Booking.id)))


def _full_with_one_waiting(client, make_user, activity) -> tuple[list, list[str]]:
    """Two places taken, a third person on the waiting list (the activity has two places)."""
    people = [make_user() for _ in range(3)]
    for index, person in enumerate(people):
        client.sign_in(person)
        assert book(client, activity, waitlist=index >= 2).status_code == 303
    return people, _references(client.application)


def _cancel_committed_just_before_the_lock(monkeypatch, app, reference: str) -> None:
    """Someone else's cancellation commits after the person's tap was read but before its lock:
    the waiting person is promoted in between (the 116 ms seen in a rush)."""
    original = services.lock_places
    fired: list[bool] = []

    def lock_places(target):
        if not fired:
            fired.append(True)
            other = db.session.scalar(sa.select(Booking).where(Booking.reference == reference))
            services.cancel(other)
            db.session.commit()
        return original(target)

    monkeypatch.setattr(services, "lock_places", lock_places)


@pytest.mark.postgres
def test_promoted_then_a_stale_leave_the_waiting_list_keeps_the_place_and_asks(app, client, make_user, activity):
    """She sees she is waiting; a place comes free and is hers; her tap on "leave the waiting list"
    arrives after: she keeps the place, and is asked whether she still wants to cancel it."""
    people, (first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    client.sign_in(people[2])
    page = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert 'name="seen" value="waitlisted"' in page
    client.sign_in(people[0])
    assert client.post(f"/bookings/{first}/cancel", data={"seen": "confirmed"}).status_code == 303
    assert _status(app, waiting) == BookingStatus.CONFIRMED

    client.sign_in(people[2])
    tap = client.post(f"/bookings/{waiting}/cancel", data={"seen": "waitlisted"}, headers=EN)
    assert tap.status_code == 409
    text = tap.get_data(as_text=True)
    assert "a place came free and it is yours now. Do you still want to cancel it?" in text
    assert "Yes, cancel" in text and "No, keep my place" in text
    assert 'name="seen" value="confirmed"' in text
    assert _status(app, waiting) == BookingStatus.CONFIRMED

    assert client.post(f"/bookings/{waiting}/cancel", data={"seen": "confirmed"}).status_code == 303
    assert _status(app, waiting) == BookingStatus.CANCELLED


@pytest.mark.postgres
def test_the_state_is_compared_under_the_lock_not_before_it(app, client, make_user, activity, monkeypatch):
    """The promotion commits between the request reading the booking and locking its places: the
    tap still gives up nothing."""
    people, (first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    client.sign_in(people[2])
    _cancel_committed_just_before_the_lock(monkeypatch, app, first)
    tap = client.post(f"/bookings/{waiting}/cancel", data={"seen": "waitlisted"}, headers=EN)
    assert tap.status_code == 409
    assert "it is yours now" in tap.get_data(as_text=True)
    assert (_status(app, first), _status(app, waiting)) == (BookingStatus.CANCELLED, BookingStatus.CONFIRMED)


def test_the_text_message_link_asks_too(app, client, make_user, activity, monkeypatch):
    _people, (first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    with app.app_context():
        code = links.short_code(db.session.scalar(sa.select(Booking).where(Booking.reference == waiting)))
    _cancel_committed_just_before_the_lock(monkeypatch, app, first)
    tap = client.post(f"/b/{code}/cancel", data={"seen": "waitlisted"}, headers=EN)
    assert tap.status_code == 409 and "it is yours now" in tap.get_data(as_text=True)
    assert _status(app, waiting) == BookingStatus.CONFIRMED
    assert client.post(f"/b/{code}/cancel", data={"seen": "confirmed"}).status_code == 303
    assert _status(app, waiting) == BookingStatus.CANCELLED


def test_the_e_mail_link_asks_too(app, client, make_user, activity, monkeypatch):
    _people, (first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    with app.app_context():
        token = links.cancel_token(db.session.scalar(sa.select(Booking).where(Booking.reference == waiting)))
    _cancel_committed_just_before_the_lock(monkeypatch, app, first)
    tap = client.post(f"/cancel/{token}", data={"seen": "waitlisted"}, headers=EN)
    assert tap.status_code == 409 and "it is yours now" in tap.get_data(as_text=True)
    assert _status(app, waiting) == BookingStatus.CONFIRMED


@pytest.mark.postgres
def test_the_desk_asks_when_a_place_came_free_for_the_person(
    app, client, make_user, coordinator, activity, monkeypatch
):
    """The coordinator opened "take them off the waiting list"; a place came free for them before
    the button was pressed: their place stays and the desk page asks again."""
    _people, (first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    client.sign_in(coordinator)
    page = client.get(f"/desk/bookings/{waiting}/cancel", headers=EN).get_data(as_text=True)
    assert 'name="seen" value="waitlisted"' in page
    _cancel_committed_just_before_the_lock(monkeypatch, app, first)
    answer = client.post(f"/desk/bookings/{waiting}/cancel", data={"asked": "yes", "seen": "waitlisted"}, headers=EN)
    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "it is theirs now. Do you still want to cancel it?" in text and 'name="seen" value="confirmed"' in text
    assert _status(app, waiting) == BookingStatus.CONFIRMED
    done = client.post(f"/desk/bookings/{waiting}/cancel", data={"asked": "yes", "seen": "confirmed"})
    assert done.status_code == 303
    assert _status(app, waiting) == BookingStatus.CANCELLED


@pytest.mark.parametrize("seen", [*HOSTILE_LINES.values(), "cancelled", "CONFIRMED", "confirmed\x00"])
def test_a_forged_or_odd_state_cancels_nothing_and_never_fails(app, client, participant, coordinator, activity, seen):
    client.sign_in(participant)
    book(client, activity)
    [reference] = _references(app)
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.reference == reference))
        code, token = links.short_code(booking), links.cancel_token(booking)
    answers = [
        client.post(f"/bookings/{reference}/cancel", data={"seen": seen}, headers=EN),
        client.post(f"/b/{code}/cancel", data={"seen": seen}, headers=EN),
        client.post(f"/cancel/{token}", data={"seen": seen}, headers=EN),
    ]
    client.sign_in(coordinator)
    desk = client.post(f"/desk/bookings/{reference}/cancel", data={"asked": "yes", "seen": seen}, headers=EN)
    for answer in [*answers, desk]:
        assert answer.status_code < 500
        assert "<script>alert(1)</script>" not in answer.get_data(as_text=True)
    if seen.strip():  # an empty state is a page without it (spaces are trimmed): the tap applies as before
        assert _status(app, reference) == BookingStatus.CONFIRMED
        assert desk.status_code == 422 and "This page is out of date" in desk.get_data(as_text=True)


def test_someone_else_cannot_leave_the_waiting_list_for_her(app, client, make_user, activity):
    people, (_first, _second, waiting) = _full_with_one_waiting(client, make_user, activity)
    stranger = make_user()
    client.sign_in(stranger)
    for seen in ("waitlisted", "confirmed", ""):
        assert client.post(f"/bookings/{waiting}/cancel", data={"seen": seen}).status_code == 404
    client.sign_in(people[0])  # another person booked on the same session
    assert client.post(f"/bookings/{waiting}/cancel", data={"seen": "waitlisted"}).status_code == 404
    assert _status(app, waiting) == BookingStatus.WAITLISTED
