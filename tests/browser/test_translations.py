"""Offer texts in the reader's language, seen on a 360 px phone: a Tigrinya reader is told which
offers are in another language ("in Dutch", in Tigrinya), the Dutch words run left to right
inside an Arabic page, and a coordinator's queue of what to translate fits the screen.
Screenshots go to artifacts/screenshots/<lang>/translations-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from flask_babel import force_locale, gettext

from einstein import create_app
from einstein.i18n import language_name
from tests.browser.conftest import SCREENSHOTS, query, sign_in
from tests.support.i18n import compiled_translations

pytestmark = [pytest.mark.browser]

COORDINATOR = "coordinator@demo.einstein.test"

#: Offers on the listing written in another language than Tigrinya and not translated into it.
UNTRANSLATED_TI = """
    SELECT count(*) FROM offers o
    WHERE o.status = 'published' AND o.language != 'ti'
      AND NOT EXISTS (SELECT 1 FROM offer_translations t WHERE t.offer_id = o.id AND t.locale = 'ti')
"""

#: Each language note on the page, with the language and direction of the title it belongs to.
NOTES = """() => Array.from(document.querySelectorAll('main .card')).filter(c => c.querySelector('.lang-note'))
    .map(card => {
        const title = card.querySelector('h3 a');
        return {note: card.querySelector('.lang-note').innerText.trim(), lang: title.getAttribute('lang'),
                direction: getComputedStyle(title).direction};
    })"""


def _in_language(reader: str, code: str) -> str:
    app = create_app({"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations())})
    with app.test_request_context(), force_locale(reader):
        return gettext("in %(language)s", language=language_name(code))


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_tigrinya_reader_is_told_what_is_in_another_language(live, open_browser) -> None:
    assert query(live, UNTRANSLATED_TI) > 0  # the demo has such offers
    page, traffic = open_browser(locale="ti")
    page.goto(live.url + "/language")
    page.click("button[value=ti]")
    page.goto(live.url + "/")
    notes = page.evaluate(NOTES)
    assert notes, "no card says which language its offer is in"
    for note in notes:
        assert note["note"] == _in_language("ti", note["lang"]), note
        assert note["lang"] != "ti"
    _fits(page)
    assert traffic.foreign(live.url) == []
    (SCREENSHOTS / "ti").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ti" / "translations-listing.png"))


def test_dutch_titles_run_left_to_right_in_an_arabic_listing(live, open_browser) -> None:
    page, _traffic = open_browser(locale="ar")
    page.goto(live.url + "/language")
    page.click("button[value=ar]")
    page.goto(live.url + "/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    notes = [note for note in page.evaluate(NOTES) if note["lang"] in {"nl", "en"}]
    assert notes and all(note["direction"] == "ltr" for note in notes)
    _fits(page)


@pytest.mark.parametrize("lang", ["ti", "ar"])
def test_the_coordinator_queue_and_coverage_fit_a_phone(live, open_browser, lang) -> None:
    page, _traffic = open_browser(locale=lang)
    sign_in(page, live.url, COORDINATOR)
    page.goto(live.url + "/language")
    page.click(f"button[value={lang}]")
    page.goto(live.url + f"/translations?lang={lang}")
    assert page.locator("main h1").count() == 1
    _fits(page)
    (SCREENSHOTS / lang).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / lang / "translations-queue.png"))
    page.goto(live.url + "/dashboard")
    assert page.locator("#coverage-heading").count() == 1
    _fits(page)
