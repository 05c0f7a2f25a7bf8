"""A place from the waiting list held for a yes: by a reply, by a tap, or given to the next person."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.bookings.links import short_code
from einstein.bookings.targets import Target
from einstein.db import db, utcnow
from einstein.models import Booking, BookingStatus, CancelReason, NotificationKind, OfferSession, User
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from tests import factories
from tests.support.outbox import queued

QUIET_HOURS_OFF = {"SMS_QUIET_FROM": 24, "SMS_QUIET_UNTIL": 0}


@pytest.fixture
def app_config():
    return QUIET_HOURS_OFF


def _held_offer(app, hours_ahead: float = 72, hold: bool = True, promotion_hours: int = 24) -> int:
    """An activity with one place, asking people from the waiting list to say yes."""
    with app.app_context():
        session = factories.SessionFactory(
            starts_at=utcnow() + timedelta(hours=hours_ahead),
            offer__capacity=1,
            offer__promotion_hold=hold,
            offer__promotion_hours=promotion_hours,
            offer__title="Dutch conversation",
        )
        return session.id


def _book(app, user_id: int, session_id: int) -> int:
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        booking = bookings.book(db.session.get(User, user_id), Target.of_session(session))
        db.session.commit()
        return booking.id


def _cancel(app, booking_id: int) -> None:
    with app.app_context():
        bookings.cancel(db.session.get(Booking, booking_id))
        db.session.commit()


def _get(app, booking_id: int) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        db.session.expunge(booking)
        return booking


@pytest.fixture
def people(make_user):
    """A person with an e-mail address, and two with only a phone (Arabic and Tigrinya)."""
    return {
        "first": make_user(name="First Person"),
        "hodan": make_user(name="Hodan", email=None, phone="+31611110001", phone_verified_at=utcnow(), locale="ar"),
        "yonas": make_user(name="Yonas", email=None, phone="+31611110002", phone_verified_at=utcnow(), locale="ti"),
    }


def _waiting_line(app, people, **offer) -> tuple[int, int, int]:
    session_id = _held_offer(app, **offer)
    first = _book(app, people["first"].id, session_id)
    hodan = _book(app, people["hodan"].id, session_id)
    yonas = _book(app, people["yonas"].id, session_id)
    return first, hodan, yonas


def _inbound(client, app, sender: str, text: str, secret: str | None = None):
    secret = app.config["SMS_CALLBACK_SECRET"] if secret is None else secret
    return client.get("/sms/inbound", query_string={"secret": secret, "from": sender, "text": text})


# --- how long a place is held ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_ahead", "held_for"),
    [
        (72, 24),  # the organiser's window
        (10, 8),  # near: settled two hours before the start
        (2.5, None),  # too near to ask: the place is simply theirs
    ],
)
def test_the_window_is_the_organisers_and_shorter_when_the_session_is_near(app, people, hours_ahead, held_for) -> None:
    first, hodan, _yonas = _waiting_line(app, people, hours_ahead=hours_ahead)
    _cancel(app, first)
    booking = _get(app, hodan)
    assert booking.status == BookingStatus.CONFIRMED
    if held_for is None:
        assert booking.hold_until is None
    else:
        assert abs(booking.hold_until - (booking.confirmed_at + timedelta(hours=held_for))) < timedelta(minutes=2)


def test_offers_that_do_not_ask_give_the_place_at_once(app, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people, hold=False)
    _cancel(app, first)
    assert _get(app, hodan).hold_until is None
    [promoted] = queued(app, NotificationKind.BOOKING_PROMOTED)
    with app.app_context():
        out = registry.render(promoted)
    assert isinstance(out, Outgoing) and "Reply" not in out.content


# --- yes by a reply ----------------------------------------------------------------------------


def test_the_text_asks_for_the_yes_in_the_persons_language_and_a_reply_keeps_the_place(app, client, people) -> None:
    first, hodan, yonas = _waiting_line(app, people)
    _cancel(app, first)
    [promoted] = queued(app, NotificationKind.BOOKING_PROMOTED)
    assert (promoted.user_id, promoted.channel) == (people["hodan"].id, "sms")
    with app.app_context():
        text = registry.render(promoted)
        code = short_code(db.session.get(Booking, hodan))
    assert isinstance(text, Outgoing) and text.address == "+31611110001"
    assert "نعم" in text.content and code in text.content
    # she answers from her phone, in the way phones write numbers and words
    assert _inbound(client, app, "0031611110001", " نعم! ").status_code == 200
    assert _get(app, hodan).hold_until is None
    kept = queued(app, NotificationKind.BOOKING_CONFIRMED, user_id=people["hodan"].id)
    assert len(kept) == 1 and kept[0].channel == "sms"
    # Yonas still waits; a second yes changes nothing
    assert _get(app, yonas).status == BookingStatus.WAITLISTED
    _inbound(client, app, "+31611110001", "JA")
    assert len(queued(app, NotificationKind.BOOKING_CONFIRMED, user_id=people["hodan"].id)) == 1


@pytest.mark.parametrize("word", ["ja", "Yes", "EVET", "እወ", "ТАК", "haa."])
def test_a_yes_in_any_language_counts(app, client, people, word) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    _inbound(client, app, "+31611110001", word)
    assert _get(app, hodan).hold_until is None


def test_other_replies_and_other_numbers_keep_nothing(app, client, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    for sender, text in [("+31611110001", "maybe"), ("+31611110001", ""), ("+31611110002", "JA"), ("x", "JA")]:
        _inbound(client, app, sender, text)
    assert _get(app, hodan).hold_until is not None


def test_a_yes_after_the_window_keeps_nothing(app, client, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    with app.app_context():
        db.session.get(Booking, hodan).hold_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    _inbound(client, app, "+31611110001", "JA")
    assert _get(app, hodan).hold_until is not None
    assert queued(app, NotificationKind.BOOKING_CONFIRMED, user_id=people["hodan"].id) == []


@pytest.mark.parametrize("secret", ["", "wrong", "x" * 5000])
def test_replies_without_the_gateways_secret_are_refused(app, client, people, secret) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    assert _inbound(client, app, "+31611110001", "JA", secret=secret).status_code == 403
    assert _get(app, hodan).hold_until is not None


def test_a_reply_without_a_sender_is_a_bad_request(app, client) -> None:
    secret = app.config["SMS_CALLBACK_SECRET"]
    assert client.get("/sms/inbound", query_string={"secret": secret, "text": "JA"}).status_code == 400


# --- yes by a tap --------------------------------------------------------------------------------


def test_tapping_the_link_keeps_the_place(app, client, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    with app.app_context():
        code = short_code(db.session.get(Booking, hodan))
    page = client.get(f"/b/{code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "we keep it for you until" in page and "Yes, keep my place" in page
    response = client.post(f"/b/{code}/keep", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "The place is yours" in response.get_data(as_text=True)
    assert _get(app, hodan).hold_until is None


def test_the_link_of_someone_else_or_a_made_up_one_opens_nothing(app, client, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    with app.app_context():
        code = short_code(db.session.get(Booking, hodan))
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for bad in (forged, "AAAA", "<script>", "x" * 300):
        assert client.get(f"/b/{bad}").status_code == 404
        assert client.post(f"/b/{bad}/keep").status_code == 404
    assert _get(app, hodan).hold_until is not None


def test_cancelling_from_the_link_asks_first(app, client, people) -> None:
    first, hodan, yonas = _waiting_line(app, people)
    _cancel(app, first)
    with app.app_context():
        code = short_code(db.session.get(Booking, hodan))
    page = client.get(f"/b/{code}/cancel", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Cancel your place?" in page
    assert _get(app, hodan).status == BookingStatus.CONFIRMED
    client.post(f"/b/{code}/cancel")
    assert _get(app, hodan).status == BookingStatus.CANCELLED
    assert _get(app, yonas).hold_until is not None  # the next person is asked in turn


# --- no answer -----------------------------------------------------------------------------------


def test_without_an_answer_the_place_goes_to_the_next_person(app, people) -> None:
    first, hodan, yonas = _waiting_line(app, people)
    _cancel(app, first)
    with app.app_context():
        assert bookings.release_unanswered() == 0  # not yet
        db.session.get(Booking, hodan).hold_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert bookings.release_unanswered() == 1
        db.session.commit()
        assert bookings.release_unanswered() == 0  # once
    released = _get(app, hodan)
    assert (released.status, released.cancel_reason) == (BookingStatus.CANCELLED, CancelReason.NO_ANSWER)
    assert _get(app, yonas).status == BookingStatus.CONFIRMED and _get(app, yonas).hold_until is not None
    [told] = queued(app, NotificationKind.BOOKING_CANCELLED, user_id=people["hodan"].id)
    assert told.payload.get("why") == "no_answer"
    with app.app_context():
        text = registry.render(told)
        unit = db.session.get(OfferSession, released.session_id)
        assert (unit.confirmed_count, unit.waitlist_count) == (1, 0)
    assert isinstance(text, Outgoing) and released.reference in text.content
    [asked] = queued(app, NotificationKind.BOOKING_PROMOTED, user_id=people["yonas"].id)
    with app.app_context():
        out = registry.render(asked)
    assert isinstance(out, Outgoing) and "እወ" in out.content


def test_a_yes_a_moment_before_the_release_wins(app, client, people) -> None:
    first, hodan, _yonas = _waiting_line(app, people)
    _cancel(app, first)
    _inbound(client, app, "+31611110001", "JA")
    with app.app_context():
        # the release ran on a list read before the yes: under the lock it sees the yes
        db.session.execute(sa.update(Booking).where(Booking.id == hodan).values(hold_until=None))
        db.session.commit()
        assert bookings.release_unanswered() == 0
    assert _get(app, hodan).status == BookingStatus.CONFIRMED


def test_the_email_of_a_held_place_has_the_link_and_the_deadline(app, smtp, make_user) -> None:
    from tests.support.outbox import deliver

    first = make_user(name="First")
    second = make_user(name="Second", locale="en")
    session_id = _held_offer(app)
    first_booking = _book(app, first.id, session_id)
    held = _book(app, second.id, session_id)
    _cancel(app, first_booking)
    deliver(app)
    [message] = [m for m in smtp.messages if second.email in m["To"]][-1:]
    body = message.get_body(("plain",)).get_content()
    with app.app_context():
        code = short_code(db.session.get(Booking, held))
    assert f"/b/{code}" in body
