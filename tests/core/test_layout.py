"""The layout a person sees: language, direction, navigation and the language switcher."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("accept", "lang", "direction"),
    [
        ("ar", "ar", "rtl"),
        ("fa", "fa", "rtl"),
        ("uk", "uk", "ltr"),
        ("en-GB,en;q=0.9", "en", "ltr"),
        ("de", "nl", "ltr"),
    ],
)
def test_lang_and_dir_follow_the_browser(client, accept, lang, direction) -> None:
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page


def test_the_switcher_shows_each_language_in_its_own_name(client) -> None:
    page = client.get("/language").get_data(as_text=True)
    for name in ("Nederlands", "English", "العربية", "ትግርኛ", "فارسی", "Türkçe", "Soomaali", "Українська"):
        assert name in page


def test_choosing_a_language_sticks_and_returns_to_the_page(client) -> None:
    response = client.post("/language", data={"lang": "ar", "next": "/?after=x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?after=x"
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page


@pytest.mark.parametrize("lang", ["xx", "", "<script>", "ar\u200f", "a" * 5000])
def test_an_unknown_language_changes_nothing(client, lang) -> None:
    response = client.post("/language", data={"lang": lang})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/language")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="en"' in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "http:/evil"]
)
def test_the_switcher_never_redirects_off_site(client, target) -> None:
    response = client.post("/language", data={"lang": "nl", "next": target})
    assert response.headers["Location"] == "/"


def test_anonymous_navigation_offers_the_catalogue(client) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "What&#39;s on" in page or "What's on" in page
    assert 'aria-current="page"' in page
    assert 'class="skip-link" href="#main"' in page


def test_static_files_are_versioned_and_cached_long(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "/static/css/app.css?v=" in page
    versioned = page.split('href="/static/css/app.css?v=')[1].split('"')[0]
    with client.get(f"/static/css/app.css?v={versioned}") as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]


def test_every_template_global_is_there_before_the_first_page(app, client, participant) -> None:
    """A template keeps the globals it loaded with (``einstein.templating.Environment``, as Jinja
    allows): nothing may add one later, or pages loaded before it would not see it."""
    names = set(app.jinja_env.globals)
    client.get("/", headers={"Accept-Language": "ar"})
    client.sign_in(participant)
    for path in ("/", "/my/bookings", "/privacy", "/no-such-page"):
        client.get(path)
    assert set(app.jinja_env.globals) == names
    for template in ("base.html", "bookings/mine.html", "macros/ui.html"):
        assert set(app.jinja_env.get_template(template).globals) == names
