"""Every main page, in English and in Arabic, in a real browser at 360 px: no accessibility
violation found by axe-core, nothing from another host, under 100 KB, no sideways scrolling.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, query, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: WCAG 2.1 A and AA, and axe's best practices.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
WEIGHT_LIMIT = 100 * 1024

#: name -> (who is signed in, path). Paths may use {offer}, {course}, {session}, {past}, {reference}, {participant}.
PAGES: dict[str, tuple[str | None, str]] = {
    "home": (None, "/"),
    "home-filtered": (None, "/?kind=activity&free=y"),
    "offer": (None, "/offers/{offer}"),
    "course": (None, "/offers/{course}"),
    "signup": (None, "/signup"),
    "login": (None, "/login"),
    "language": (None, "/language"),
    "privacy": (None, "/privacy"),
    "reset": (None, "/reset"),
    "not-found": (None, "/no/such/page"),
    "my-bookings": ("participant", "/my/bookings"),
    "profile": ("participant", "/account"),
    "booking-card": ("participant", "/bookings/{reference}/card"),
    "my-offers": ("volunteer", "/my/offers"),
    "new-activity": ("volunteer", "/offers/new/activity"),
    "attendance": ("volunteer", "/sessions/{past}/attendance"),
    "who-is-coming": ("volunteer", "/sessions/{session}/people"),
    "approvals": ("coordinator", "/review"),
    "desk": ("coordinator", "/desk?q=a"),
    "desk-new": ("coordinator", "/desk/people/new"),
    "desk-person": ("coordinator", "/desk/people/{participant}"),
    "desk-merge": ("coordinator", "/desk/people/{participant}/merge"),
    "desk-cancel": ("coordinator", "/desk/bookings/{reference}/cancel"),
    "people": ("coordinator", "/people"),
    "dashboard": ("coordinator", "/dashboard"),
    "exports": ("coordinator", "/exports"),
    "e-mails": ("coordinator", "/outbox"),
    "completion": ("coordinator", "/offers/{course}/completion"),
}

ACCOUNTS = {
    "participant": "participant@demo.einstein.test",
    "volunteer": "volunteer@demo.einstein.test",
    "coordinator": "coordinator@demo.einstein.test",
}


BIKES = "SELECT s.id FROM offer_sessions s JOIN offers o ON o.id = s.offer_id WHERE o.title = 'Bike repair café'"
MY_BOOKING = (
    "SELECT b.reference FROM bookings b JOIN users u ON u.id = b.user_id "
    "WHERE u.email = 'participant@demo.einstein.test' AND b.status = 'confirmed' LIMIT 1"
)


def _ids(live: Any) -> dict[str, Any]:
    return {
        "offer": query(live, "SELECT id FROM offers WHERE title = 'Bike repair café'"),
        "course": query(live, "SELECT id FROM offers WHERE title = 'Business English'"),
        "session": query(live, BIKES + " ORDER BY s.starts_at DESC LIMIT 1"),
        "past": query(live, BIKES + " ORDER BY s.starts_at LIMIT 1"),
        "reference": query(live, MY_BOOKING),
        "participant": query(live, "SELECT id FROM users WHERE email = 'participant@demo.einstein.test'"),
    }


def _open(open_browser: Any, live: Any, lang: str, who: str | None, width: int = 360) -> tuple[Any, Any]:
    page, traffic = open_browser(locale=lang, width=width)
    if who is not None:
        sign_in(page, live.url, ACCOUNTS[who])
    # the demo accounts have a profile language; the page's switcher sets the one to test
    page.goto(live.url + "/language")
    page.click(f"button[value={lang}]")
    traffic.urls.clear()
    traffic.transferred = 0
    return page, traffic


#: The pages' tests run once per reader and language, so that the test processes share them out.
READERS = pytest.mark.parametrize("who", [None, *ACCOUNTS], ids=["visitor", *ACCOUNTS])
LANGUAGES = pytest.mark.parametrize("lang", ["en", "ar"])


def _pages_of(who: str | None) -> dict[str, str]:
    return {name: path for name, (owner, path) in PAGES.items() if owner == who}


@LANGUAGES
@READERS
def test_main_pages_have_no_accessibility_violations(live, open_browser, lang, who) -> None:
    ids = _ids(live)
    axe = Axe()
    problems: list[str] = []
    page, _ = _open(open_browser, live, lang, who)
    for name, path in _pages_of(who).items():
        page.goto(live.url + path.format(**ids))
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr"), name
        results = axe.run(page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(
                f"{lang} {name} {path}: {violation['id']} ({violation['impact']}): {violation['help']} {targets}"
            )
        folder = SCREENSHOTS / lang
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert not problems, "\n".join(problems)


@LANGUAGES
@READERS
def test_every_page_is_light_and_asks_no_other_host(live, open_browser, lang, who) -> None:
    ids = _ids(live)
    problems: list[str] = []
    signed_in, _ = _open(open_browser, live, lang, who)
    for name, path in _pages_of(who).items():
        fresh, traffic = _fresh(open_browser, lang, signed_in)  # an empty cache for each page
        fresh.goto(live.url + path.format(**ids))
        fresh.wait_for_load_state("networkidle")
        if traffic.foreign(live.url):
            problems.append(f"{lang} {name}: asked another host: {traffic.foreign(live.url)}")
        if traffic.transferred > WEIGHT_LIMIT:
            problems.append(f"{lang} {name}: {traffic.transferred / 1024:.0f} KB transferred (limit 100 KB)")
        width = fresh.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems.append(f"{lang} {name}: {width} px wide at a 360 px screen (sideways scrolling)")
        fresh.context.close()
    assert not problems, "\n".join(problems)


def _fresh(open_browser: Any, lang: str, signed: Any) -> tuple[Any, Any]:
    """A window with an empty cache but the same cookies (signed in, language chosen)."""
    cookies = signed.context.cookies()
    page, traffic = open_browser(locale=lang)
    page.context.add_cookies(cookies)
    return page, traffic


def test_pages_reflow_at_200_percent_zoom(live, open_browser) -> None:
    """A 1280 px window at 200 % zoom leaves 640 CSS pixels: nothing may need sideways scrolling."""
    ids = _ids(live)
    problems = []
    for who in (None, "coordinator"):
        page, _ = _open(open_browser, live, "en", who, width=640)
        for name, (owner, path) in PAGES.items():
            if owner not in (None, who):
                continue
            page.goto(live.url + path.format(**ids))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 640:
                problems.append(f"{name}: {width} px wide in 640")
    assert not problems, "\n".join(problems)


def test_the_keyboard_alone_gets_to_the_content(live, open_browser) -> None:
    page, _ = open_browser()
    page.goto(live.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # every link and button in the navigation can be reached with Tab, and shows where focus is
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_tap_targets_are_at_least_44_pixels(live, open_browser) -> None:
    page, _ = _open(open_browser, live, "en", "coordinator")
    small = []
    for path in ("/", "/dashboard", "/desk/people/new", "/my/bookings"):
        page.goto(live.url + path)
        # A checkbox or radio button is tapped together with its label: the row must be 44 px high.
        small += page.evaluate(
            """(path) => Array.from(document.querySelectorAll(
                    'button, input:not([type=hidden]), select, .button, nav a'))
                .filter(e => e.offsetParent !== null)
                .map(e => {
                    const box = (e.type === 'checkbox' || e.type === 'radio') ? e.closest('.check') || e : e;
                    const r = box.getBoundingClientRect(), own = e.getBoundingClientRect();
                    return [e.outerHTML.slice(0, 80), r.width, r.height, own.width];
                })
                .filter(([html, w, h, own]) => h < 44 || own < 24)
                .map(([html, w, h]) => path + ' ' + Math.round(w) + 'x' + Math.round(h) + ' ' + html)""",
            path,
        )
    assert not small, "\n".join(small)
