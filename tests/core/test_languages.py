"""Every page in every language: complete catalogues, the right order of choices, right to left."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from einstein.i18n import current_language
from tests.support.catalogues import LANGUAGES, code_messages, problems

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return code_messages()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_is_complete_and_in_step_with_the_code(lang, messages) -> None:
    assert problems(lang, messages) == []


def test_the_check_fails_when_a_template_string_is_not_in_the_catalogues(messages) -> None:
    new = "A sentence someone just added to a template"
    assert any("not in the catalogue" in p and new in p for p in problems("ar", messages | {new}))
    assert any("not in the catalogue" in p for p in problems("en", messages | {new}))


def test_the_check_fails_when_a_language_has_no_catalogue(messages) -> None:
    assert problems("am", messages) == ["am: no catalogue at einstein/translations/am/LC_MESSAGES/messages.po"]


def test_the_code_has_every_language_the_switcher_offers() -> None:
    from einstein.i18n import LANGUAGES as SERVED

    assert set(SERVED) == set(LANGUAGES)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_pages_are_translated(app, client, lang) -> None:
    page = client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
    with app.test_request_context(), force_locale(lang):
        expected = gettext("Courses and activities where newcomers and neighbours meet. Everyone is welcome.")
    assert expected != "Courses and activities where newcomers and neighbours meet. Everyone is welcome."
    assert expected in page


@pytest.mark.parametrize("lang", TRANSLATED)
def test_form_errors_are_translated_too(app, client, lang) -> None:
    response = client.post("/signup", data={"locale": "xx"}, headers={"Accept-Language": lang})
    assert response.status_code == 422
    with app.test_request_context(), force_locale(lang):
        for message in ("Please type your name.", "Not a valid choice."):
            assert gettext(message) != message
            assert gettext(message) in response.get_data(as_text=True)


def test_the_device_choice_wins_then_the_profile_then_the_browser(app, client, make_user) -> None:
    client.post("/language", data={"lang": "tr"})
    page = client.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert 'lang="tr"' in page  # the choice made on the page wins over the browser
    person = make_user(locale="so")
    client.sign_in(person)
    client.post("/language", data={"lang": "tr"})
    page = client.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert 'lang="tr"' in page  # signed in, the device's choice counts for the pages
    fresh = app.test_client()
    fresh.sign_in(person)  # a device with no choice of its own: the profile's language
    assert 'lang="so"' in fresh.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    # the choice on the device is the page language only (tests/core/test_language_choice.py)
    fresh.post("/language", data={"lang": "tr"})
    assert 'lang="tr"' in fresh.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("fa", "rtl"), ("ti", "ltr"), ("so", "ltr")])
def test_right_to_left_languages(client, lang, direction) -> None:
    assert f'dir="{direction}"' in client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)


def test_the_stylesheet_mirrors_by_itself() -> None:
    """Logical properties only: no left/right that a right-to-left page would have to undo."""
    from einstein import ROOT

    css = (ROOT / "static" / "css" / "app.css").read_text()
    for physical in (
        "margin-left",
        "margin-right",
        "padding-left",
        "padding-right",
        "left:",
        "right:",
        "text-align: left",
        "text-align: right",
        "float:",
        "border-left",
        "border-right",
    ):
        assert physical not in css, physical


def test_dates_and_times_are_in_utrecht_time_and_the_readers_language(app) -> None:
    from datetime import UTC, datetime

    from einstein.i18n import format_when

    start, end = datetime(2026, 11, 24, 18, 0, tzinfo=UTC), datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("nl"):
            assert format_when(start, end) == "dinsdag 24 november, 19:00–21:00"
        with force_locale("en"):
            assert format_when(start, end) == "Tuesday 24 November, 19:00–21:00"
        with force_locale("ar"):
            assert "الثلاثاء" in format_when(start, end)
        with force_locale("uk"):
            assert "вівторок" in format_when(start, end)


def test_emails_are_in_every_language(app, make_user) -> None:
    from einstein.mail import render_email

    person = make_user()
    for lang in TRANSLATED:
        with app.test_request_context():
            message = render_email(
                "auth/password_reset", "x@example.org", lang, user=person, link="http://einstein.test/x"
            )
            with force_locale(lang):
                subject = gettext("Choose a new password")
        assert subject != "Choose a new password"
        assert message["Content-Language"] == lang
        from email.header import decode_header, make_header

        assert str(make_header(decode_header(message["Subject"]))) == subject


def test_templates_translate_escape_and_format_as_jinja_does(app) -> None:
    """``_()`` and ``ngettext()`` in templates (``einstein.i18n._template_gettext``): the reader's
    language, a language forced for part of a page, the words marked safe and what is put into
    them escaped, and "%%" always a "%", with or without values."""
    page = app.jinja_env.from_string(
        "{{ _('My bookings') }}|{{ _('Up to 100%%') }}|{{ _('Hello, %(name)s', name=name) }}"
        "|{{ _('At least %(share)d%% of <b>them</b>', share=80) }}|{{ ngettext('%(num)d seat', '%(num)d seats', 3) }}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "nl"}):
        dutch = gettext("My bookings")
        with force_locale("ar"):
            arabic = gettext("My bookings")
            said_in_arabic = page.render(name="x").split("|")[0]
        said = page.render(name="<script>alert(1)</script>").split("|")
    assert dutch != arabic
    assert said_in_arabic == arabic
    assert said == [
        dutch,
        "Up to 100%",
        "Hello, &lt;script&gt;alert(1)&lt;/script&gt;",
        "At least 80% of <b>them</b>",
        "3 seats",
    ]


def test_the_current_language_follows_a_language_forced_for_part_of_a_page(app) -> None:
    """``current_language()`` is kept for the request with the locale it is for: a part of a page
    in another language (a booking card in its person's language) gets that one, and the page
    around it its own again."""
    page = app.jinja_env.from_string(
        "{{ current_language().code }} {% call in_language('ar') %}{{ current_language().code }} "
        "{{ current_language().direction }}{% endcall %} {{ current_language().code }}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "uk"}):
        assert current_language().code == "uk"
        assert page.render() == "uk ar rtl uk"
        with force_locale("fa"):
            assert current_language().code == "fa"
        assert current_language().code == "uk"
    assert current_language().code == "nl"  # outside a request: the default
