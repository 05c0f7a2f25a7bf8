"""A participant signs up: with e-mail or phone, in their language, optionally saying who they are."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from einstein.db import db, utcnow
from einstein.models import Audience, NotificationKind, Role, User
from tests.support.hostile import GOOD_NAMES, HOSTILE_LINES
from tests.support.outbox import queued

GOOD = {
    "name": "Amal Yusuf",
    "email": "Amal@Example.org",
    "phone": "",
    "password": "groene fiets bij de molen",
    "password_again": "groene fiets bij de molen",
    "locale": "ar",
    "audience": "newcomer",
    "accept_privacy": "y",
}


def _users(app) -> list[User]:
    with app.app_context():
        users = list(db.session.scalars(sa.select(User)))
        db.session.expunge_all()
        return users


def test_sign_up_with_email(app, client) -> None:
    response = client.post("/signup", data=GOOD)
    assert response.status_code == 200
    assert "amal@example.org" in response.get_data(as_text=True)  # "we sent an e-mail to ..."
    [user] = _users(app)
    assert (user.name, user.email, user.locale, user.audience, user.role) == (
        "Amal Yusuf",
        "amal@example.org",
        "ar",
        Audience.NEWCOMER,
        Role.PARTICIPANT,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert user.email_verified_at is None
    assert [n.kind for n in queued(app)] == [NotificationKind.VERIFY_EMAIL]
    # not signed in yet: the link in the e-mail finishes it (the answer must look the same when
    # the address has an account already); then the password works, and the pages are in Arabic
    assert client.get("/account").status_code == 302
    assert client.post("/login", data={"identifier": GOOD["email"], "password": GOOD["password"]}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page


def test_sign_up_with_phone_only(app, client) -> None:
    response = client.post("/signup", data={**GOOD, "email": "", "phone": "06 1234 5678"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/signup/code")
    [user] = _users(app)
    # the number is theirs once they type the code we text to it
    assert user.email is None and user.phone is None and user.pending_phone == "+31612345678"
    [code] = queued(app, NotificationKind.PHONE_CODE)
    assert (code.channel, code.address) == ("sms", "+31612345678")
    wrong = f"{(int(code.payload['code']) + 1) % 10**6:06d}"
    assert client.post("/signup/code", data={"code": wrong}).status_code == 422
    assert client.post("/signup/code", data={"code": code.payload["code"]}).status_code == 302
    assert client.get("/account").status_code == 200  # signed in
    [user] = _users(app)
    assert user.phone == "+31612345678" and user.phone_verified_at is not None
    client.post("/logout")
    response = client.post("/login", data={"identifier": "0612345678", "password": GOOD["password"]})
    assert response.status_code == 302


def test_the_audience_question_defaults_to_rather_not_say(app, client) -> None:
    data = {k: v for k, v in GOOD.items() if k != "audience"}
    assert client.post("/signup", data=data).status_code == 422  # a choice must be made, "rather not say" is default
    assert client.post("/signup", data={**GOOD, "audience": "unsaid"}).status_code == 200
    assert _users(app)[0].audience == Audience.UNSAID


def test_email_or_phone_is_needed(app, client) -> None:
    response = client.post("/signup", data={**GOOD, "email": "", "phone": ""}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Please give an e-mail address or a phone number" in response.get_data(as_text=True)
    assert _users(app) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": "password123", "password_again": "password123"}, "too easy to guess"),
        ({"password": "kort", "password_again": "kort"}, "at least 10 characters"),
        ({"password": "amal yusuf amal", "password_again": "amal yusuf amal"}, "too easy to guess"),
        ({"password_again": "something else entirely"}, "not the same"),
        ({"email": "not-an-address"}, "Please type an e-mail address"),
        ({"phone": "12"}, "Please type a phone number"),
        ({"accept_privacy": ""}, "tick the box"),
        ({"locale": "xx"}, "Not a valid choice"),
        ({"audience": "asylum-seeker"}, "Not a valid choice"),
    ],
)
def test_bad_input_is_explained(app, client, change, message) -> None:
    response = client.post("/signup", data={**GOOD, **change}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _users(app) == []


@pytest.mark.parametrize("name", list(HOSTILE_LINES), ids=list(HOSTILE_LINES))
def test_hostile_names_are_refused(app, client, name) -> None:
    response = client.post("/signup", data={**GOOD, "name": HOSTILE_LINES[name]}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert 'id="form-problem"' in page
    assert _users(app) == []


@pytest.mark.parametrize("field", ["email", "phone"])
@pytest.mark.parametrize("value", ["\u202e", "x" * 10_000, "<script>", "'; DROP TABLE users;--", "a@b.c\u200b"])
def test_hostile_contact_details_are_refused(app, client, field, value) -> None:
    response = client.post("/signup", data={**GOOD, field: value})
    assert response.status_code == 422
    assert _users(app) == []


@pytest.mark.parametrize("value", ["\u202e", "x" * 10_000, "<script>", "a\x00b" * 5])
def test_hostile_passwords_are_refused(app, client, value) -> None:
    response = client.post("/signup", data={**GOOD, "password": value, "password_again": value})
    assert response.status_code == 422
    assert _users(app) == []


def test_a_password_may_contain_any_printable_text(app, client) -> None:
    # Passwords are hashed, never put in a query or a page: SQL and HTML are just characters here.
    password = "'; DROP TABLE users;-- <b>"
    assert client.post("/signup", data={**GOOD, "password": password, "password_again": password}).status_code == 200
    assert client.post("/login", data={"identifier": GOOD["email"], "password": password}).status_code == 302


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_in_every_script_are_welcome(app, client, name) -> None:
    response = client.post("/signup", data={**GOOD, "name": name})
    assert response.status_code == 200
    assert _users(app)[0].name == name


def test_an_address_in_use_gets_the_same_answer_and_its_owner_is_told(app, client, participant) -> None:
    new = client.post("/signup", data={**GOOD, "email": "someone.new@example.org"}, headers={"Accept-Language": "en"})
    taken = client.post("/signup", data={**GOOD, "email": participant.email.upper()}, headers={"Accept-Language": "en"})
    assert new.status_code == taken.status_code == 200
    # the pages differ only in the address typed
    assert new.get_data(as_text=True).replace("someone.new@example.org", "ADDRESS") == taken.get_data(
        as_text=True
    ).replace(participant.email, "ADDRESS")
    assert len(_users(app)) == 2  # the participant, and the new address; no second account
    [told] = queued(app, NotificationKind.ACCOUNT_EXISTS)
    assert told.user_id == participant.id


def test_a_phone_number_in_use_gets_the_same_answer_and_its_owner_gets_a_text(app, client, make_user) -> None:
    owner = make_user(phone="+31612345678", phone_verified_at=utcnow())
    new = client.post("/signup", data={**GOOD, "email": "", "phone": "06 8765 4321"})
    other = app.test_client()
    taken = other.post("/signup", data={**GOOD, "email": "", "phone": "06 1234 5678"})
    # both are sent to type a code; only the new number gets one
    assert new.status_code == taken.status_code == 303
    assert new.headers["Location"] == taken.headers["Location"]
    assert [n.address for n in queued(app, NotificationKind.PHONE_CODE)] == ["+31687654321"]
    [told] = queued(app, NotificationKind.ACCOUNT_EXISTS)
    assert (told.user_id, told.channel) == (owner.id, "sms")
    # and no code typed on the taken one's page ever works
    for code in ("000000", "123456"):
        assert other.post("/signup/code", data={"code": code}).status_code == 422
    assert other.get("/account").status_code == 302


def test_the_form_is_in_the_readers_language(client) -> None:
    page = client.get("/signup", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page
    assert '<option lang="ar" selected value="ar">' in page


def test_there_is_no_field_for_legal_status_anywhere() -> None:
    forbidden = ("bsn", "nationality", "v_number", "vnumber", "legal", "residence", "permit", "asylum", "citizenship")
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            assert not any(word in column.name.lower() for word in forbidden), f"{table.name}.{column.name}"
