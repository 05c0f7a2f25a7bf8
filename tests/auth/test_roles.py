"""Roles: who may give whom which role, and the people list."""

from __future__ import annotations

import pytest

from einstein.db import db
from einstein.models import Role, User
from tests.support.html import main


def _role(app, user) -> Role:
    with app.app_context():
        return db.session.get(User, user.id).role


@pytest.mark.parametrize(
    ("actor", "start", "new", "allowed"),
    [
        ("coordinator", Role.PARTICIPANT, Role.VOLUNTEER, True),
        ("coordinator", Role.VOLUNTEER, Role.PARTICIPANT, True),
        ("coordinator", Role.PARTICIPANT, Role.COORDINATOR, False),
        ("coordinator", Role.VOLUNTEER, Role.ADMIN, False),
        ("coordinator", Role.COORDINATOR, Role.PARTICIPANT, False),
        ("admin", Role.PARTICIPANT, Role.COORDINATOR, True),
        ("admin", Role.COORDINATOR, Role.VOLUNTEER, True),
        ("admin", Role.VOLUNTEER, Role.ADMIN, True),
        ("volunteer", Role.PARTICIPANT, Role.VOLUNTEER, False),
        ("participant", Role.PARTICIPANT, Role.VOLUNTEER, False),
    ],
)
def test_who_may_give_which_role(app, client, make_user, actor, start, new, allowed, request) -> None:
    me = request.getfixturevalue(actor)
    target = make_user(role=start)
    client.sign_in(me)
    response = client.post(f"/people/{target.id}/role", data={"role": new.value})
    assert response.status_code == (302 if allowed else 403)
    assert _role(app, target) == (new if allowed else start)


def test_nobody_changes_their_own_role(app, client, admin) -> None:
    client.sign_in(admin)
    assert client.post(f"/people/{admin.id}/role", data={"role": "participant"}).status_code == 403
    assert _role(app, admin) == Role.ADMIN


@pytest.mark.parametrize("value", ["king", "", "<script>", "ADMIN", "admin\u200b"])
def test_an_unknown_role_changes_nothing(app, client, coordinator, participant, value) -> None:
    client.sign_in(coordinator)
    response = client.post(f"/people/{participant.id}/role", data={"role": value})
    assert response.status_code == 303
    assert _role(app, participant) == Role.PARTICIPANT


def test_a_role_for_nobody_is_a_404(client, admin) -> None:
    client.sign_in(admin)
    assert client.post("/people/999999/role", data={"role": "volunteer"}).status_code == 404


def test_trusting_a_volunteer(app, client, coordinator, volunteer, participant) -> None:
    client.sign_in(coordinator)
    assert client.post(f"/people/{volunteer.id}/trusted", data={"trusted": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, volunteer.id).trusted
    client.post(f"/people/{participant.id}/trusted", data={"trusted": "1"})
    with app.app_context():
        assert not db.session.get(User, participant.id).trusted
    # a volunteer who becomes a participant again is no longer trusted
    client.post(f"/people/{volunteer.id}/role", data={"role": "participant"})
    with app.app_context():
        assert not db.session.get(User, volunteer.id).trusted


def test_the_people_list_finds_people(client, coordinator, make_user) -> None:
    make_user(name="Yonas Tesfay", email="yonas@example.org", phone="+31612345678")
    make_user(name="Sanne Bakker", email="sanne@example.org")
    client.sign_in(coordinator)
    by_name = client.get("/people?q=yonas").get_data(as_text=True)
    assert "Yonas Tesfay" in by_name and "Sanne Bakker" not in by_name
    by_phone = client.get("/people?q=06 12345678").get_data(as_text=True)
    assert "Yonas Tesfay" in by_phone
    hostile = client.get("/people?q=%25' OR 1=1 --&role=king")
    assert hostile.status_code == 200
    assert "Yonas Tesfay" in client.get("/people?q=").get_data(as_text=True)


def test_the_people_list_never_shows_the_audience_answer(client, coordinator, make_user) -> None:
    from einstein.models import Audience

    make_user(name="Yonas Tesfay", audience=Audience.NEWCOMER)
    client.sign_in(coordinator)
    page = main(client.get("/people", headers={"Accept-Language": "en"}).get_data(as_text=True)).lower()
    assert "Yonas Tesfay".lower() in page
    assert "newcomer" not in page and "new in the netherlands" not in page


def test_navigation_shows_each_role_what_it_may_use(client, participant, coordinator) -> None:
    client.sign_in(participant)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/account"' in page and 'href="/people"' not in page
    client.sign_in(coordinator)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/people"' in page
