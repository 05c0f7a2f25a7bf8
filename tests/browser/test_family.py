"""In a real browser, on a phone 360 pixels wide, in Arabic: a mother adds her two children to her
household and books them with "Who is coming?" (no script needed); her bookings show each child's
name, right to left, and the pages pass axe-core."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
ARABIC = re.compile("[\u0600-\u06ff]")


def _violations(page) -> list[str]:
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{page.url}: {v['id']}: {v['help']} {[n['target'] for n in v['nodes'][:3]]}" for v in found]


def _add_child(page, base: str, name: str) -> None:
    page.goto(base + "/my/household")
    page.fill("#name", name)
    page.check("input[name=age_group][value=child]")
    page.check("#consent")
    page.click("main form button[type=submit]")
    page.wait_for_url(base + "/my/household")


def test_a_mother_books_her_two_children_on_her_phone_in_arabic(live, open_browser) -> None:
    page, traffic = open_browser(locale="ar")
    sign_in(page, live.url, "participant@demo.einstein.test")
    page.goto(live.url + "/language")
    page.click("button[value=ar]")
    assert page.locator("html").get_attribute("dir") == "rtl"

    # without the box "I may share this information for them" nothing is kept
    page.goto(live.url + "/my/household")
    page.fill("#name", "سارة")
    page.check("input[name=age_group][value=child]")
    page.click("main form button[type=submit]")
    assert page.locator("#form-problem").is_visible()
    problems = _violations(page)
    _add_child(page, live.url, "سارة")
    _add_child(page, live.url, "Omar")
    assert page.locator("main .card bdi", has_text="سارة").count() == 1
    problems += _violations(page)
    folder = SCREENSHOTS / "ar"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "household.png"), full_page=True)

    # an activity with free places: "Who is coming?" with her and both children
    page.goto(live.url + "/?kind=activity&free=y")
    page.locator("main .card h3 a").first.click()
    form = page.locator("main form:has(input[name=household])").first
    assert form.locator("input[name=who]").count() >= 3
    problems += _violations(page)
    page.screenshot(path=str(folder / "who-is-coming.png"), full_page=True)
    form.locator("input[name=who]").nth(0).uncheck()  # not herself, only the children
    form.locator("input[name=who]").nth(1).check()
    form.locator("input[name=who]").nth(2).check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url == live.url + "/my/bookings", (page.url, page.locator("main").inner_text()[:800])
    for name in ("سارة", "Omar"):
        card = page.locator("main .card", has=page.locator("bdi", has_text=name))
        assert card.count() >= 1
        assert card.first.locator("a[href$='/cancel']").count() == 1  # each cancellable on its own
    # the names keep their own direction inside the Arabic page
    assert page.eval_on_selector("main .booked-for", "e => getComputedStyle(e).direction") == "rtl"
    problems += _violations(page)
    page.screenshot(path=str(folder / "my-bookings-household.png"), full_page=True)
    # the page fits a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not traffic.foreign(live.url)
    assert not problems, "\n".join(problems)
