"""Phone numbers proven by a code, and how each person is reached: e-mail, SMS, or a call."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.auth import reach
from einstein.auth import services as accounts
from einstein.db import db, utcnow
from einstein.models import NotificationKind, User
from einstein.notifications import outbox
from tests.factories import PASSWORD
from tests.support.hostile import HOSTILE_LINES
from tests.support.outbox import queued

SIGNUP = {
    "name": "Hodan Abdi",
    "email": "",
    "phone": "06 1234 5678",
    "password": "groene fiets bij de molen",
    "password_again": "groene fiets bij de molen",
    "locale": "ar",
    "audience": "unsaid",
    "accept_privacy": "y",
}
NUMBER = "+31612345678"


def _code(app) -> str:
    return queued(app, NotificationKind.PHONE_CODE)[-1].payload["code"]


def _person(app, **filters) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(**filters))
        db.session.expunge_all()
        return user


# --- codes ------------------------------------------------------------------------------------


def test_the_code_typed_with_arabic_or_persian_digits_counts(app, client) -> None:
    client.post("/signup", data=SIGNUP)
    code = _code(app)
    arabic = "".join(chr(0x0660 + int(d)) for d in code)
    assert client.post("/signup/code", data={"code": f" {arabic[:3]} {arabic[3:]} "}).status_code == 302
    assert _person(app, phone=NUMBER).phone_verified


def test_an_old_code_does_not_work(app, client) -> None:
    client.post("/signup", data=SIGNUP)
    code = _code(app)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.pending_phone == NUMBER))
        user.phone_code_sent_at = utcnow() - timedelta(seconds=app.config["PHONE_CODE_SECONDS"] + 1)
        db.session.commit()
    response = client.post("/signup/code", data={"code": code}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "This code is not right, or too old" in response.get_data(as_text=True)
    assert _person(app, pending_phone=NUMBER).phone is None


def test_after_five_wrong_codes_even_the_right_one_fails_until_a_new_one_is_sent(app, client) -> None:
    client.post("/signup", data=SIGNUP)
    code = _code(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(app.config["PHONE_CODE_ATTEMPTS"]):
        assert client.post("/signup/code", data={"code": wrong}).status_code == 422
    assert client.post("/signup/code", data={"code": code}).status_code == 422
    # a minute later a new code may be asked for; it works
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.pending_phone == NUMBER))
        user.phone_code_sent_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    assert client.post("/signup/code/again").status_code == 303
    new = _code(app)
    assert len(queued(app, NotificationKind.PHONE_CODE)) == 2
    assert client.post("/signup/code", data={"code": new}).status_code == 302


def test_a_new_code_not_more_than_once_a_minute(app, client) -> None:
    client.post("/signup", data=SIGNUP)
    response = client.post("/signup/code/again", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "If the number is right, a new code is on its way." in response.get_data(as_text=True)
    assert len(queued(app, NotificationKind.PHONE_CODE)) == 1


def test_the_code_page_without_a_sign_up_goes_home(client) -> None:
    assert client.get("/signup/code").status_code == 302
    assert client.post("/signup/code", data={"code": "123456"}).status_code == 302


ODD_CODES = {"letters": "abc", "too-long": "1" * 13, "superscript": "¹²³⁴⁵⁶", **HOSTILE_LINES}


@pytest.mark.parametrize("typed", list(ODD_CODES), ids=list(ODD_CODES))
def test_odd_codes_are_refused_with_a_message(app, client, typed) -> None:
    client.post("/signup", data=SIGNUP)
    response = client.post("/signup/code", data={"code": ODD_CODES[typed]}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert 'id="form-problem"' in page
    assert _person(app, pending_phone=NUMBER).phone is None


def test_a_code_for_a_number_since_replaced_does_not_prove_the_new_one(app, client, participant) -> None:
    client.sign_in(participant)
    data = {
        "name": participant.name,
        "email": participant.email,
        "locale": "en",
        "audience": "unsaid",
        "email_notifications": "y",
        "current_password": PASSWORD,
    }
    client.post("/account", data={**data, "phone": "06 2345 6789"})
    first = _code(app)
    client.post("/account", data={**data, "phone": "06 3456 7890"})
    assert client.post("/account/phone", data={"code": first}).status_code == 422
    assert client.post("/account/phone", data={"code": _code(app)}).status_code == 303
    assert _person(app, id=participant.id).phone == "+31634567890"


# --- how a person is reached -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ({}, reach.EMAIL),
        ({"email": None, "phone": NUMBER, "phone_verified_at": "now"}, reach.SMS),
        ({"phone": NUMBER, "phone_verified_at": "now"}, reach.EMAIL),  # both: e-mail unless they choose
        ({"phone": NUMBER, "phone_verified_at": "now", "notify_by": "sms"}, reach.SMS),
        ({"email_verified_at": None, "phone": NUMBER, "phone_verified_at": "now"}, reach.SMS),
        ({"email": None, "phone": NUMBER}, reach.CALL),  # a number nobody proved
        ({"email": None, "phone": NUMBER, "phone_verified_at": "now", "sms_stopped_at": "now"}, reach.CALL),
        ({"email_verified_at": None}, reach.CALL),  # never clicked the link
        ({"email_notifications": False, "phone": NUMBER, "phone_verified_at": "now"}, reach.SMS),
        ({"email": None, "phone": None}, reach.CALL),
    ],
)
def test_each_person_is_reached_the_way_that_works(make_user, person, expected) -> None:
    values = {key: utcnow() if value == "now" else value for key, value in person.items()}
    assert reach.channel_for(make_user(**values)) == expected


def test_a_person_who_texts_stop_is_called_and_start_brings_texts_back(app, make_user) -> None:
    person = make_user(email=None, phone=NUMBER, phone_verified_at=utcnow())
    with app.app_context():
        outbox.queue(NotificationKind.REMINDER, person.id, channel="sms", due_at=utcnow() + timedelta(days=1))
        db.session.commit()
        assert accounts.stop_sms("+31612345678") is not None
        db.session.commit()
        assert accounts.stop_sms("+31612345678") is None  # once is enough
        assert reach.channel_for(db.session.get(User, person.id)) == reach.CALL
    [row] = queued(app, NotificationKind.REMINDER)
    assert row.channel == reach.CALL  # the reminder waits, by the way that works now
    with app.app_context():
        accounts.start_sms("+31612345678")
        db.session.commit()
    [row] = queued(app, NotificationKind.REMINDER)
    assert row.channel == reach.SMS


def test_a_person_with_both_chooses_and_their_messages_follow(app, client, make_user) -> None:
    person = make_user(phone=NUMBER, phone_verified_at=utcnow())
    with app.app_context():
        outbox.queue(NotificationKind.REMINDER, person.id, due_at=utcnow() + timedelta(days=1))
        db.session.commit()
    client.sign_in(person)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "We tell you by e-mail." in page
    data = {
        "name": person.name,
        "email": person.email,
        "phone": "06 1234 5678",
        "locale": "en",
        "audience": "unsaid",
        "email_notifications": "y",
        "notify_by": "sms",
    }
    response = client.post("/account", data=data, headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "We tell you by text message (SMS)." in response.get_data(as_text=True)
    [row] = queued(app, NotificationKind.REMINDER)
    assert row.channel == reach.SMS
    # a way that does not work for them cannot be chosen
    assert client.post("/account", data={**data, "notify_by": "pigeon"}).status_code == 422


def test_the_account_page_of_someone_without_a_way_says_the_desk_calls(client, make_user) -> None:
    person = make_user(email="never@example.org", email_verified_at=None)
    client.sign_in(person)
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the desk will call you" in page
