"""An account cannot be taken over with a minute on an unlocked phone, a guessed number or a
forged link (security review 2026, items 4, 5, 6, 7 and 9). Each test is the attack."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from einstein.auth.tokens import RESET_SALT, make_reset_token
from einstein.config import DEFAULT_SECRET_KEY, ConfigurationError, check_config
from einstein.db import db, utcnow
from einstein.models import LoginSession, NotificationKind, User
from tests.factories import PASSWORD
from tests.support.outbox import queued
from tests.support.servers import ROOT

WRONG = "this is not my password"


def _profile(user, **change):
    data = {
        "name": user.name,
        "email": user.email or "",
        "phone": user.phone or "",
        "locale": "en",
        "audience": "unsaid",
        "email_notifications": "y",
    }
    data.update(change)
    return data


def _login(client, identifier, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        "/login",
        data={"identifier": identifier, "password": password},
        headers={"Accept-Language": "en"},
        environ_base={"REMOTE_ADDR": address},
    )


# --- 4: a borrowed phone cannot move the account to another mailbox ---------------------------------


def test_a_new_address_needs_the_password(app, client, participant) -> None:
    client.sign_in(participant)  # someone else holds the phone, signed in
    response = client.post(
        "/account", data=_profile(participant, email="thief@example.org"), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "Please type your current password" in response.get_data(as_text=True)
    response = client.post("/account", data=_profile(participant, phone="06 9999 8888", current_password=WRONG))
    assert response.status_code == 422
    with app.app_context():
        user = db.session.get(User, participant.id)
        assert (user.email, user.pending_email, user.phone) == (participant.email, None, None)


def test_a_new_address_counts_only_once_confirmed_and_the_old_one_is_told(app, client, participant) -> None:
    client.sign_in(participant)
    response = client.post("/account", data=_profile(participant, email="new@example.org", current_password=PASSWORD))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, participant.id)
        # until the link is followed, e-mails and resets go to the address that was confirmed
        assert (user.email, user.pending_email) == (participant.email, "new@example.org")
    client.post("/reset", data={"email": "new@example.org"})
    assert queued(app, NotificationKind.PASSWORD_RESET) == []
    [verify] = queued(app, NotificationKind.VERIFY_EMAIL)
    assert verify.payload["email"] == "new@example.org"
    from einstein.auth.tokens import make_verify_token

    with app.app_context():
        token = make_verify_token(db.session.get(User, participant.id), "new@example.org")
    assert client.post(f"/verify/{token}").status_code == 303
    with app.app_context():
        user = db.session.get(User, participant.id)
        assert (user.email, user.pending_email) == ("new@example.org", None) and user.email_verified
    [told] = queued(app, NotificationKind.CONTACT_CHANGED)
    assert told.payload == {"to": participant.email, "what": "email"}


def test_a_new_phone_number_counts_once_its_code_is_typed_and_the_address_is_told(app, client, participant) -> None:
    client.sign_in(participant)
    response = client.post("/account", data=_profile(participant, phone="06 2345 6789", current_password=PASSWORD))
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/phone")
    with app.app_context():
        user = db.session.get(User, participant.id)
        assert (user.phone, user.pending_phone) == (None, "+31623456789")
    [code] = queued(app, NotificationKind.PHONE_CODE)
    assert client.post("/account/phone", data={"code": code.payload["code"]}).status_code == 303
    with app.app_context():
        user = db.session.get(User, participant.id)
        assert (user.phone, user.pending_phone) == ("+31623456789", None) and user.phone_verified
    [told] = queued(app, NotificationKind.CONTACT_CHANGED)
    assert told.payload == {"to": participant.email, "what": "phone"}


def test_someone_elses_number_in_the_profile_gets_the_usual_answer(app, client, participant, make_user) -> None:
    owner = make_user(phone="+31634567890", phone_verified_at=utcnow())
    client.sign_in(participant)
    response = client.post("/account", data=_profile(participant, phone="06 3456 7890", current_password=PASSWORD))
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/phone")
    assert queued(app, NotificationKind.PHONE_CODE) == []
    [told] = queued(app, NotificationKind.ACCOUNT_EXISTS)
    assert (told.user_id, told.channel, told.payload) == (owner.id, "sms", {"reason": "profile"})


def test_resets_go_only_to_a_confirmed_address(app, client, make_user) -> None:
    unconfirmed = make_user(email="never-confirmed@example.org", email_verified_at=None)
    client.post("/reset", data={"email": unconfirmed.email})
    assert queued(app, NotificationKind.PASSWORD_RESET) == []
    # the address is asked to confirm itself first; that mail holds no way to set a password
    assert [n.user_id for n in queued(app, NotificationKind.VERIFY_EMAIL)] == [unconfirmed.id]


# --- 5: the sign-in limit counts per account, however the number is written --------------------------


def test_writing_a_number_differently_does_not_reset_the_limit(app, client, make_user) -> None:
    make_user(phone="+31611111111")
    spellings = ["06-11111111", "+31 6 1111 1111", "0031611111111", "06 11 11 11 11", "+31611111111"]
    answers = [_login(client, spelling, WRONG).status_code for spelling in spellings]
    assert answers == [422] * 5
    assert _login(client, "0611111111").status_code == 429  # even the right password waits now


def test_a_stranger_cannot_lock_the_owner_out(app, client, other_client, participant) -> None:
    for _ in range(5):
        _login(client, participant.email, WRONG, address="203.0.113.9")
    assert _login(client, participant.email, address="203.0.113.9").status_code == 429
    # the owner, at home on another address, still gets in
    assert _login(other_client, participant.email, address="198.51.100.7").status_code == 302


def test_unknown_identifiers_share_one_limit(app, client) -> None:
    app.config["LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS"] = "3 per 15 minutes"
    answers = [_login(client, f"nobody{i}@example.org", WRONG).status_code for i in range(4)]
    assert answers == [422, 422, 422, 429]


def test_production_needs_a_shared_limit_store() -> None:
    with pytest.raises(ConfigurationError, match="REDIS_URL"):
        check_config({"ENV": "production", "SECRET_KEY": "x" * 48, "RATELIMIT_STORAGE_URI": "memory://"})


# --- 6: the published development key is never accepted outside development --------------------------


@pytest.mark.parametrize("mode", ["Production", "PRODUCTION", "production ", " production", "testing"])
def test_the_published_key_is_refused_however_the_mode_is_spelled(mode) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        check_config({"ENV": mode, "SECRET_KEY": DEFAULT_SECRET_KEY, "RATELIMIT_STORAGE_URI": "redis://x:6379/0"})


@pytest.mark.parametrize("mode", ["prod", "live", "staging", "1"])
def test_an_unknown_mode_is_refused(mode) -> None:
    with pytest.raises(ConfigurationError, match="EINSTEIN_ENV"):
        check_config({"ENV": mode, "SECRET_KEY": "x" * 48})


def test_gunicorn_without_a_mode_starts_in_production_and_refuses_the_published_key(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINSTEIN_", "SECRET_KEY", "DATABASE_URL"))}
    env["EINSTEIN_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import einstein.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr and "SECRET_KEY" in result.stderr


def test_accounts_without_a_password_each_have_their_own_reset_fingerprint(app, client, make_user) -> None:
    first = make_user(password_hash=None, email="desk1@example.org")
    second = make_user(password_hash=None, email="desk2@example.org")
    with app.app_context():
        tokens = [make_reset_token(db.session.get(User, person.id)) for person in (first, second)]
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=RESET_SALT)
        fingerprints = [serializer.loads(token)["p"] for token in tokens]
        # the attack: sign {"u": id, "p": <the one fingerprint all password-less accounts had>}
        shared = hashlib.sha256(b"no-password").hexdigest()[:16]
        forged = serializer.dumps({"u": first.id, "p": shared})
    assert fingerprints[0] != fingerprints[1] and shared not in fingerprints
    assert client.get(f"/reset/{forged}").status_code == 400


def test_seed_demo_refuses_a_production_database(app) -> None:
    app.config["ENV"] = "production"
    for args in (["seed-demo"], ["seed-demo", "--force"]):  # there is no way to force it
        assert app.test_cli_runner().invoke(args=args).exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- 7: the profile cannot be used to learn who has an account --------------------------------------


def test_someone_elses_address_gets_the_usual_answer_and_its_owner_is_told(
    app, client, participant, other_participant
) -> None:
    client.sign_in(participant)
    taken = client.post(
        "/account",
        data=_profile(participant, email=other_participant.email, current_password=PASSWORD),
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    new = client.post(
        "/account",
        data=_profile(participant, email="free@example.org", current_password=PASSWORD),
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert taken.status_code == new.status_code == 200
    assert "We sent a link to" in taken.get_data(as_text=True) and "We sent a link to" in new.get_data(as_text=True)
    [told] = queued(app, NotificationKind.ACCOUNT_EXISTS)
    assert told.user_id == other_participant.id and told.payload == {"reason": "profile"}
    with app.app_context():
        assert db.session.get(User, participant.id).email == participant.email


def test_profile_changes_are_rate_limited(app, client, participant) -> None:
    client.sign_in(participant)
    answers = [client.post("/account", data=_profile(participant)).status_code for _ in range(21)]
    assert answers[:20] == [302] * 20 and answers[20] == 429


# --- 9: sign-ins end when idle, can be listed and ended, and pages are not kept --------------------------


def test_a_sign_in_left_idle_ends(app, client, participant) -> None:
    token = client.sign_in(participant)
    assert client.get("/account").status_code == 200
    with app.app_context():
        login = db.session.scalar(sa.select(LoginSession).where(LoginSession.remember.is_(False)))
        login.last_seen_at = utcnow() - timedelta(seconds=app.config["LOGIN_IDLE_SECONDS"] + 60)
        db.session.commit()
    assert client.get("/account").status_code == 302
    assert token


def test_a_sign_in_in_use_stays(app, client, participant) -> None:
    client.sign_in(participant)
    with app.app_context():
        login = db.session.scalar(sa.select(LoginSession))
        login.last_seen_at = utcnow() - timedelta(seconds=app.config["LOGIN_IDLE_SECONDS"] - 60)
        db.session.commit()
    assert client.get("/account").status_code == 200  # used now: seen again
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession)).last_seen_at > utcnow() - timedelta(minutes=1)


def test_my_devices_and_signing_one_out(app, client, other_client, participant) -> None:
    other_client.post(
        "/login",
        data={"identifier": participant.email, "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"},
    )
    client.post("/login", data={"identifier": participant.email, "password": PASSWORD})
    page = client.get("/account/devices", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Chrome · Android" in page and "this device" in page
    assert client.post("/account/devices/end-others").status_code == 303
    assert other_client.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_an_admin_can_end_someones_sign_ins(app, client, other_client, participant, admin, coordinator) -> None:
    other_client.sign_in(participant)
    client.sign_in(coordinator)
    assert client.post(f"/people/{participant.id}/sign-out").status_code == 403
    client.sign_in(admin)
    assert client.post(f"/people/{participant.id}/sign-out").status_code == 303
    assert other_client.get("/account").status_code == 302


@pytest.mark.parametrize("path", ["/my/bookings", "/account", "/account/devices", "/people", "/desk?q=a"])
def test_pages_with_personal_data_are_not_kept_by_the_browser(client, coordinator, path) -> None:
    client.sign_in(coordinator)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_still_cached(client) -> None:
    response = client.get("/static/css/app.css?v=1")
    response.close()
    assert "immutable" in response.headers["Cache-Control"]


def test_a_person_without_a_password_can_have_their_data_exported_and_erased(
    app, client, coordinator, make_user
) -> None:
    from einstein.models import AuditEvent

    person = make_user(password_hash=None, email=None, phone="+31655556666", name="Desk Person")
    client.sign_in(coordinator)
    # nothing happens without the confirmation
    assert client.post(f"/people/{person.id}/data").status_code == 422
    export = client.post(f"/people/{person.id}/data", data={"confirm": "y"})
    assert export.status_code == 200 and export.json["account"]["name"] == "Desk Person"
    assert export.headers["Cache-Control"] == "no-store"
    assert client.post(f"/people/{person.id}/erase", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(User, person.id) is None
        actions = [(e.action, e.actor_id) for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [("person.exported", coordinator.id), ("person.erased", coordinator.id)]


def test_people_who_can_sign_in_do_it_themselves(app, client, coordinator, participant) -> None:
    client.sign_in(coordinator)
    assert client.get(f"/people/{participant.id}/data").status_code == 403
    assert client.post(f"/people/{participant.id}/erase", data={"confirm": "y"}).status_code == 403
    with app.app_context():
        assert db.session.get(User, participant.id) is not None
