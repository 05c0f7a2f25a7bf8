"""Signing in and out: sessions that end on the server, rate limits, safe redirects."""

from __future__ import annotations

import pytest

from einstein.db import db
from einstein.models import LoginSession, User
from tests.factories import PASSWORD
from tests.support.hostile import HOSTILE_LINES

WRONG = "this is not my password"


def _login(client, identifier, password=PASSWORD, **extra):
    return client.post(
        "/login", data={"identifier": identifier, "password": password, **extra}, headers={"Accept-Language": "en"}
    )


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_sign_in_with_email_or_phone(app, client, make_user) -> None:
    user = make_user(email="sara@example.org", phone="+31612345678")
    assert _login(client, "SARA@example.org ").status_code == 302
    assert _signed_in(client)
    client.post("/logout")
    assert not _signed_in(client)
    assert _login(client, "06-12 34 56 78").status_code == 302
    assert _signed_in(client)
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


def test_unknown_account_and_wrong_password_get_the_same_answer(client, participant) -> None:
    wrong_password = _login(client, participant.email, WRONG)
    unknown = _login(client, "nobody@example.org", WRONG)
    assert wrong_password.status_code == unknown.status_code == 422
    message = "This e-mail address or phone number and password do not match."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_a_new_session_on_sign_in(client, participant) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _login(client, participant.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_a_session_cookie_replayed_after_sign_out_is_refused(app, client, participant) -> None:
    _login(client, participant.email)
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.query(LoginSession).filter(LoginSession.revoked_at.is_(None)).count() == 0


def test_remember_me_survives_the_browser_but_not_sign_out(app, client, participant) -> None:
    _login(client, participant.email, remember="y")
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert _signed_in(fresh)
    client.post("/logout")
    later = app.test_client()
    later.set_cookie("remember_token", remember.value)
    assert not _signed_in(later)


def test_a_password_change_signs_out_other_devices(app, client, other_client, participant) -> None:
    _login(client, participant.email)
    _login(other_client, participant.email)
    new = "blauwe tram naar de uithof"
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": new, "password_again": new}
    )
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other_client)
    client.post("/logout")
    assert _login(client, participant.email).status_code == 422
    assert _login(client, participant.email, new).status_code == 302


def test_a_password_change_needs_the_current_password(client, participant) -> None:
    _login(client, participant.email)
    new = "blauwe tram naar de uithof"
    response = client.post(
        "/account/password",
        data={"current_password": WRONG, "password": new, "password_again": new},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)


def test_after_five_wrong_passwords_sign_in_waits(client, participant) -> None:
    answers = [_login(client, participant.email, WRONG).status_code for _ in range(10)]
    assert answers[:5] == [422] * 5
    assert answers[5:] == [429] * 5
    # even the right password waits now, for this account ...
    response = _login(client, participant.email)
    assert response.status_code == 429
    assert "Please wait a moment" in response.get_data(as_text=True)


def test_the_limit_is_per_account_and_per_address(app, client, make_user) -> None:
    app.config["LOGIN_RATE_LIMIT_ADDRESS"] = "8 per 15 minutes"
    people = [make_user() for _ in range(3)]
    for _ in range(5):
        _login(client, people[0].email, WRONG)
    assert _login(client, people[0].email).status_code == 429
    # another account from the same address still gets in ... until the address has had too many
    assert _login(client, people[1].email, WRONG).status_code == 422
    assert _login(client, people[1].email, WRONG).status_code == 422
    assert _login(client, people[1].email, WRONG).status_code == 422
    assert _login(client, people[2].email).status_code == 429


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://localhost/x",
        "/%0d%0aSet-Cookie:x",
    ],
)
def test_next_never_leaves_the_site(client, participant, target) -> None:
    response = client.post(f"/login?next={target}", data={"identifier": participant.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] in {"/", "/%0d%0aSet-Cookie:x"}
    assert "evil" not in response.headers["Location"]


def test_next_goes_back_to_our_own_page(client, participant) -> None:
    response = client.get("/account")
    assert response.status_code == 302 and "next=" in response.headers["Location"]
    response = client.post("/login?next=/account", data={"identifier": participant.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("identifier", list(HOSTILE_LINES.values()), ids=list(HOSTILE_LINES))
def test_hostile_identifiers_never_break_sign_in(client, identifier) -> None:
    response = _login(client, identifier, WRONG)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_people_without_a_password_cannot_sign_in(client, make_user) -> None:
    user = make_user(password_hash=None, email="desk@example.org")
    assert _login(client, user.email, "").status_code == 422
    assert _login(client, user.email, WRONG).status_code == 422


def test_session_cookies_are_safe(app, client, participant) -> None:
    response = _login(client, participant.email, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember_cookie and "SameSite=Lax" in remember_cookie


def test_reading_pages_signed_in_sends_no_new_session_cookie(client, participant, activity) -> None:
    # Signing a new cookie costs a signature on every answer and a header for the phone to store:
    # once signed in, a page that changes nothing in the session leaves its cookie as it is.
    _login(client, participant.email)
    client.get("/account")  # shows (and so removes) the welcome message: that writes the session
    for path in ("/account", "/my/bookings", f"/offers/{activity['offer_id']}", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.headers.getlist("Set-Cookie"), path


def test_production_cookies_are_secure(make_app, database, monkeypatch, redis_server) -> None:
    # as deployed: production mode from the environment, the cookie settings from einstein's defaults
    monkeypatch.setenv("EINSTEIN_ENV", "production")
    production = make_app(database, ENV="production", RATELIMIT_STORAGE_URI=redis_server.url)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    response = production.test_client().get("/login", base_url="https://einstein.test")
    assert "Strict-Transport-Security" in response.headers
    # a name only this host, over https, may set: no sibling subdomain or plain-http page can plant it
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "Path=/" in session_cookie
    assert "Domain=" not in session_cookie


def test_passwords_are_hashed_with_argon2id_at_owasp_strength(app, participant) -> None:
    from argon2 import extract_parameters

    from einstein.auth.services import hash_password

    with app.app_context():
        parameters = extract_parameters(hash_password("a long and unusual passphrase"))
    # OWASP: argon2id with at least m=19 MiB, t=2, p=1.
    assert parameters.type.name == "ID"
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert parameters.parallelism >= 1


def test_weaker_stored_hashes_are_upgraded_on_sign_in(app, client, make_user) -> None:
    from argon2 import PasswordHasher, extract_parameters

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user = make_user(password_hash=weak)
    assert _login(client, user.email).status_code == 302
    with app.app_context():
        assert extract_parameters(db.session.get(User, user.id).password_hash).memory_cost >= 19 * 1024
