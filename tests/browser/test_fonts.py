"""Tigrinya and Arabic-script pages on a device without a font for their script, at 360 px.

This machine's Chromium has no Ethiopic and no Arabic font installed (as many desk PCs and older
phones), so without the web fonts in static/fonts/ Ge'ez letters would be drawn as boxes. The
tests ask the browser which font drew the words and measure the letters; a Dutch page fetches no
font at all (``unicode-range``). Screenshots go to artifacts/screenshots/<lang>/fonts-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser]

#: Each distinct letter of a script in the page's main text (at most 40), drawn on its own in the
#: page's font and in a font list without ours: the widths of each.
MEASURE = r"""([script, fallback]) => {
    const found = document.querySelector('main').innerText.match(new RegExp(script, 'gu')) || [];
    const letters = Array.from(new Set(found)).slice(0, 40);
    const width = (text, family) => {
        const span = document.createElement('span');
        span.textContent = text;
        span.style.fontSize = '32px';
        if (family) span.style.fontFamily = family;
        document.querySelector('main').appendChild(span);
        const w = span.getBoundingClientRect().width;
        span.remove();
        return Math.round(w * 10) / 10;
    };
    return {letters, ours: letters.map(c => width(c, null)), without: letters.map(c => width(c, fallback))};
}"""


def _open(open_browser: Any, base: str, lang: str) -> tuple[Any, Any]:
    # the language the browser asks for (the language page itself shows every language's name,
    # so it fetches both fonts)
    page, traffic = open_browser(locale=lang, width=360)
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == lang
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, traffic


def _fonts_that_drew(page: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium used for the text of an element, with how many glyphs each drew."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


def _font_files(traffic: Any) -> list[str]:
    return sorted({url.split("/")[-1].split("?")[0] for url in traffic.urls if ".woff2" in url})


@pytest.mark.parametrize(
    ("lang", "script", "file", "family"),
    [
        ("ti", r"[\u1200-\u137F]", "noto-sans-ethiopic.woff2", "Noto Sans Ethiopic"),
        ("ar", r"[\u0621-\u064A]", "noto-sans-arabic.woff2", "Noto Sans Arabic"),
        ("fa", r"[\u0621-\u064A\u067E\u0686\u0698\u06A9\u06AF\u06CC]", "noto-sans-arabic.woff2", "Noto Sans Arabic"),
    ],
)
def test_the_script_is_drawn_with_the_shipped_font(live, open_browser, lang, script, file, family) -> None:
    page, traffic = _open(open_browser, live.url, lang)
    # the page fetched the font for its script, and only that one, from einstein itself
    assert _font_files(traffic) == [file]
    assert not traffic.foreign(live.url)

    # the browser says which font drew the heading: ours, every glyph of it
    fonts = _fonts_that_drew(page, "main h1")
    ours = [f for f in fonts if f["familyName"] == family]
    assert ours and ours[0]["isCustomFont"], fonts
    heading = page.locator("main h1").inner_text()
    assert ours[0]["glyphCount"] >= len(heading.replace(" ", "")) * 0.8, (heading, fonts)

    # letters, not boxes: the letters have many widths; without our font (nothing else on this
    # machine has the script) they are drawn as boxes of one width
    measured = page.evaluate(MEASURE, [script, "sans-serif"])
    assert len(measured["letters"]) >= 10, measured["letters"]
    assert all(w > 0 for w in measured["ours"])
    assert len(set(measured["ours"])) >= 5, measured
    if len(set(measured["without"])) == 1:  # no system font for the script here: boxes
        assert measured["ours"] != measured["without"]

    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "fonts-home.png"))


@pytest.mark.parametrize("lang", ["nl", "so", "uk"])
def test_a_page_without_those_scripts_fetches_no_font(live, open_browser, lang) -> None:
    page, traffic = _open(open_browser, live.url, lang)
    page.wait_for_load_state("networkidle")
    assert page.locator("main h1").count() == 1
    assert _font_files(traffic) == []
