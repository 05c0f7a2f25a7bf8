"""In a real browser: a coordinator prints the week's notice board in Dutch and Arabic (A4, codes
of a size a phone reads, the Arabic right to left, nothing from another host), and a participant
copies the calendar link with the button that only script shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from einstein.i18n import TIMEZONE
from tests.browser.conftest import SCREENSHOTS, query_row, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def _violations(page) -> list[str]:
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{page.url}: {v['id']}: {v['help']} {[n['target'] for n in v['nodes'][:3]]}" for v in found]


#: The place and the moment of the demo's next published session.
NEXT = (
    "SELECT COALESCE(s.location_id, o.location_id), s.starts_at FROM offer_sessions s "
    "JOIN offers o ON o.id = s.offer_id WHERE o.status = 'published' AND s.status = 'scheduled' "
    "AND s.starts_at > '{now}' AND COALESCE(s.location_id, o.location_id) IS NOT NULL ORDER BY s.starts_at LIMIT 1"
)


def _next_session(live) -> tuple[int, str]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    place, starts = query_row(live, NEXT.format(now=now))
    moment = datetime.fromisoformat(str(starts))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    year, week, _ = moment.astimezone(TIMEZONE).isocalendar()
    return place, f"{year}-W{week:02d}"


def test_the_coordinator_prints_a_week_in_dutch_and_arabic(live, open_browser) -> None:
    place, week = _next_session(live)
    page, traffic = open_browser(locale="nl", width=1024, height=900)
    sign_in(page, live.url, "coordinator@demo.einstein.test")
    page.goto(live.url + "/notice-board")
    problems = _violations(page)
    page.select_option("#location", str(place))
    if page.locator(f"#week option[value='{week}']").count():
        page.select_option("#week", week)
    page.select_option("#first", "nl")
    page.select_option("#second", "ar")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/notice-board/" in page.url and "lang=nl&lang=ar" in page.url
    page.goto(f"{live.url}/notice-board/{place}/{week}?lang=nl&lang=ar")
    traffic.urls.clear()
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(".board-session").count() >= 1
    # the Arabic is right to left, the Dutch left to right
    assert page.eval_on_selector(".board-head .board-lang-2", "e => getComputedStyle(e).direction") == "rtl"
    assert page.eval_on_selector(".board-head .board-lang-1", "e => getComputedStyle(e).direction") == "ltr"
    # a code a phone reads from a metre away: about 26 mm (98 CSS pixels) wide
    width = page.eval_on_selector(".board-qr svg", "e => e.getBoundingClientRect().width")
    assert 90 <= width <= 105, width
    # large type: the titles are at least 14 pt (18.7 CSS pixels)
    size = page.eval_on_selector(".board-title", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 18.6, size
    assert not traffic.foreign(live.url)
    problems += _violations(page)
    assert not problems, "\n".join(problems)
    folder = SCREENSHOTS / "nl"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "notice-board.png"), full_page=True)
    # printed: no menu, no buttons, A4
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator("[data-print]").is_visible()
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (folder / "notice-board.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1
    box = re.search(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert box and round(float(box[1])) == 595 and round(float(box[2])) == 842  # A4, in points


def test_the_copy_button_copies_the_calendar_link(live, open_browser) -> None:
    page, _traffic = open_browser(locale="en")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    sign_in(page, live.url, "participant@demo.einstein.test")
    page.goto(live.url + "/my/bookings#calendar")
    button = page.locator("[data-copy=feed-url]")
    assert button.is_visible()  # shown by the script
    webcal = page.get_attribute("[data-webcal]", "href")
    link = page.input_value("#feed-url")
    assert webcal == "webcal://" + link.split("://", 1)[1]
    button.click()
    page.wait_for_function("document.querySelector('[data-copy-status=feed-url]').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == link
    # the button is big enough to tap, and the page does not scroll sideways at 360 px
    assert button.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not _violations(page)


def test_without_script_the_link_is_there_to_copy_by_hand(live, chromium) -> None:
    context = chromium.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live.url, "participant@demo.einstein.test")
        page.goto(live.url + "/my/bookings#calendar")
        assert not page.locator("[data-copy=feed-url]").is_visible()
        assert page.locator("#feed-url").is_visible() and page.input_value("#feed-url").endswith(".ics")
        assert page.locator("[data-webcal]").is_visible()
    finally:
        context.close()
