"""The menu is made once per language and what it shows, and kept (einstein.navigation.nav_menu):
each person still gets their own sign-out token, the page they are on and the counts of now."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from einstein import caching, navigation

EN = {"Accept-Language": "en"}
TOKEN = re.compile(
    r'<form method="post" action="/logout" class="inline">\s*<input type="hidden" name="csrf_token" value="([^"]+)">'
)
#: every form's token: each is signed with the second the page was made in, which may turn between two pages
ANY_TOKEN = re.compile(r'(<input[^>]*\bname="csrf_token"[^>]*\bvalue=")[^"]*"')


def _page(client, path: str = "/", headers: dict[str, str] | None = None) -> str:
    response = client.get(path, headers=headers or EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _menus(app: Flask) -> dict:
    return app.extensions["einstein.menus"]


def test_two_people_on_the_same_menu_each_get_their_own_sign_out_token(
    app, client, other_client, participant, other_participant
) -> None:
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    first, second = _page(client), _page(other_client)
    assert len(_menus(app)) == 2  # the phone's menu and the bar, made for the first and kept for the second

    (mine, mine_again), (theirs, theirs_again) = TOKEN.findall(first), TOKEN.findall(second)
    assert mine == mine_again and theirs == theirs_again and mine != theirs
    assert caching._TOKEN_SLOT not in first + second
    # the other's token signs nobody out; one's own does
    assert other_client.post("/logout", data={"csrf_token": mine}, csrf=False).status_code == 400
    assert "/logout" in _page(other_client)
    assert other_client.post("/logout", data={"csrf_token": theirs}, csrf=False).status_code == 302
    assert "/logout" not in _page(other_client)


def test_a_kept_menu_is_the_menu_made_fresh(app, client, coordinator) -> None:
    client.sign_in(coordinator)
    for headers in (EN, {"Accept-Language": "ar"}):
        for path in ("/", "/dashboard", "/review", "/account"):
            _menus(app).clear()
            fresh = _page(client, path, headers)
            kept = _page(client, path, headers)
            assert len(_menus(app)) == 2
            assert ANY_TOKEN.sub(r'\1token"', fresh) == ANY_TOKEN.sub(r'\1token"', kept)


@pytest.mark.parametrize(
    ("path", "label"), [("/", "What's on"), ("/my/bookings", "My bookings"), ("/account", "Profile")]
)
def test_the_menu_marks_the_page_the_person_is_on(client, participant, path, label) -> None:
    client.sign_in(participant)
    for visited in ("/", "/my/bookings", "/account"):
        _page(client, visited)  # every page's menu is kept first
    page = _page(client, path)
    current = re.findall(r'aria-current="page">.*?<span>(.*?)</span>', page)
    assert current == [label, label]


def test_the_menu_speaks_the_readers_language_and_a_visitor_gets_no_sign_out(app, client) -> None:
    english, arabic = _page(client), _page(client, headers={"Accept-Language": "ar"})
    assert "Sign in" in english and "Sign in" not in arabic and "تسجيل الدخول" in arabic
    assert "/logout" not in english + arabic
    assert len(_menus(app)) == 4


def test_the_menus_kept_are_bounded(app, client, monkeypatch) -> None:
    monkeypatch.setattr(navigation, "MENUS_KEPT", 3)
    for lang in ("en", "nl", "ar"):
        _page(client, headers={"Accept-Language": lang})
    assert len(_menus(app)) <= 3
    assert "Sign in" in _page(client)


def test_the_menus_links_follow_the_path_einstein_is_served_under(client, participant) -> None:
    """A menu link's URL is worked out once per process and script root (``navigation._url``)."""
    client.sign_in(participant)
    for _ in range(2):  # made, then kept
        plain = _page(client, "/my/bookings")
        response = client.get("/my/bookings", base_url="http://localhost/einstein/", headers=EN)
        assert response.status_code == 200
        mounted = response.get_data(as_text=True)
        assert plain.count('href="/my/bookings"') == 2 and "/einstein/" not in plain
        assert mounted.count('href="/einstein/my/bookings"') == 2 and 'href="/my/bookings"' not in mounted
