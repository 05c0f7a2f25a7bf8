"""Links sent by e-mail: confirming an address and resetting a password, through a real SMTP server."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner

from einstein.db import db
from einstein.models import NotificationKind, User
from tests.factories import PASSWORD
from tests.support.outbox import deliver, queued

NEW = "zeven zwanen in de gracht"


def _link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://einstein\.test(/\S+)", body).group(1)


def test_same_answer_whether_or_not_the_account_exists(app, client, participant, smtp) -> None:
    known = client.post(
        "/reset", data={"email": participant.email}, follow_redirects=True, headers={"Accept-Language": "en"}
    )
    unknown = client.post(
        "/reset", data={"email": "nobody@example.org"}, follow_redirects=True, headers={"Accept-Language": "en"}
    )
    message = "If an account has this address, we have sent it a link."
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert known.status_code == unknown.status_code == 200
    assert len(queued(app, NotificationKind.PASSWORD_RESET)) == 1
    deliver(app)
    assert len(smtp.messages) == 1 and len(smtp.to(participant.email)) == 1


def test_reset_link_works_once(app, client, other_client, participant, smtp) -> None:
    other_client.sign_in(participant)
    client.post("/reset", data={"email": participant.email})
    deliver(app)
    [message] = smtp.to(participant.email)
    link = _link(message)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW, "password_again": NEW})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # signed in with the new password
    assert other_client.get("/account").status_code == 302  # the other device is signed out
    # the same link again: refused, nothing changes
    again = client.post(
        link, data={"password": "een ander nieuw wachtwoord", "password_again": "een ander nieuw wachtwoord"}
    )
    assert again.status_code == 400
    assert client.get(link, headers={"Accept-Language": "en"}).status_code == 400
    client.post("/logout")
    assert client.post("/login", data={"identifier": participant.email, "password": NEW}).status_code == 302


def test_the_reset_email_is_in_the_persons_language(app, client, make_user, smtp) -> None:
    user = make_user(locale="nl", email="noor@example.org")
    client.post("/reset", data={"email": user.email})
    deliver(app)
    [message] = smtp.to(user.email)
    assert message["Content-Language"] == "nl"
    assert message.get_body(preferencelist=("html",)) is not None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t + "x",
        lambda t: "x" + t,
        lambda t: "",
        lambda t: "a" * 2000,
    ],
)
def test_a_tampered_reset_link_is_refused(app, client, participant, tamper) -> None:
    from einstein.auth.tokens import make_reset_token

    with app.app_context():
        token = make_reset_token(db.session.get(User, participant.id))
    bad = tamper(token)
    response = client.post(f"/reset/{bad}", data={"password": NEW, "password_again": NEW})
    assert response.status_code in {400, 404}
    assert client.post("/login", data={"identifier": participant.email, "password": PASSWORD}).status_code == 302


def test_an_expired_reset_link_is_refused(app, client, participant, monkeypatch) -> None:
    from einstein.auth.tokens import RESET_MAX_AGE, make_reset_token

    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - RESET_MAX_AGE - 60)
    with app.app_context():
        token = make_reset_token(db.session.get(User, participant.id))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = client.get(f"/reset/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The link is too old" in response.get_data(as_text=True)


def test_a_confirmation_link_cannot_reset_a_password(app, client, participant) -> None:
    from einstein.auth.tokens import make_verify_token

    with app.app_context():
        verify_token = make_verify_token(db.session.get(User, participant.id), participant.email)
    # a valid token of another kind (other salt) does not reset a password
    assert client.get(f"/reset/{verify_token}").status_code == 400


def test_reset_requests_are_rate_limited(client, participant) -> None:
    codes = [client.post("/reset", data={"email": participant.email}).status_code for _ in range(5)]
    assert codes[:3] == [302] * 3
    assert codes[3:] == [429, 429]


def test_confirming_an_address(app, client, smtp) -> None:
    client.post(
        "/signup",
        data={
            "name": "Hodan Abdi",
            "email": "hodan@example.org",
            "password": NEW,
            "password_again": NEW,
            "locale": "so",
            "audience": "unsaid",
            "accept_privacy": "y",
        },
    )
    deliver(app)
    [message] = smtp.to("hodan@example.org")
    assert message["Content-Language"] == "so"
    link = _link(message)
    # a link scanner following the link confirms nothing
    assert client.get(link).status_code == 200
    with app.app_context():
        assert db.session.query(User).one().email_verified_at is None
    assert client.post(link).status_code == 303
    with app.app_context():
        assert db.session.query(User).one().email_verified_at is not None


def test_a_confirmation_link_for_an_old_address_does_nothing(app, client, make_user) -> None:
    user = make_user(email="old@example.org", email_verified_at=None)
    client.sign_in(user)
    with app.app_context():
        from einstein.auth.tokens import make_verify_token

        old_token = make_verify_token(db.session.get(User, user.id), "old@example.org")
    response = client.post(
        "/account",
        data={
            "name": user.name,
            "email": "new@example.org",
            "phone": "",
            "locale": "en",
            "audience": "unsaid",
            "email_notifications": "y",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert client.post(f"/verify/{old_token}").status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).email_verified_at is None
    assert [n.payload["email"] for n in queued(app, NotificationKind.VERIFY_EMAIL)] == ["new@example.org"]


def test_a_tampered_confirmation_link_is_refused(client) -> None:
    assert client.get("/verify/not-a-token").status_code == 400
    assert client.post("/verify/not-a-token").status_code == 400
