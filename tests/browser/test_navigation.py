"""The menu on a 360 px phone, in Dutch and in Arabic, for every role: a "Menu" button opens every
link the role has, in groups, none cut off, nothing wider than the screen; on a wide screen the
same links are one bar. Screenshots of the open menu go to artifacts/screenshots/<lang>/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser]

ACCOUNTS = {
    "participant": "participant@demo.einstein.test",
    "volunteer": "volunteer@demo.einstein.test",
    "coordinator": "coordinator@demo.einstein.test",
    "admin": "admin@demo.einstein.test",
}
VISITOR = ["/", "/login", "/signup"]
PARTICIPANT = ["/", "/my/bookings", "/account"]
VOLUNTEER = [*PARTICIPANT, "/my/offers"]
COORDINATOR = [*VOLUNTEER, "/review", "/desk", "/dashboard", "/people", "/outbox", "/calls", "/exports"]
#: What each role must find in the menu (other links may join as einstein grows), and where to look.
ROLES: dict[str, tuple[list[str], str]] = {
    "visitor": (VISITOR, "/"),
    "participant": (PARTICIPANT, "/my/bookings"),
    "volunteer": (VOLUNTEER, "/my/offers"),
    "coordinator": (COORDINATOR, "/dashboard"),
    "admin": (COORDINATOR, "/people"),
}

#: Every link and button of a menu, with what a person sees of it.
MEASURE = """(root) => Array.from(document.querySelectorAll(root + ' a, ' + root + ' button')).map(e => {
    const r = e.getBoundingClientRect();
    const label = e.querySelector('span') || e;
    return {
        href: e.getAttribute('href'), text: e.innerText.trim(), current: e.getAttribute('aria-current'),
        left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height,
        visible: e.checkVisibility(),
        clipped: e.scrollWidth > e.clientWidth + 1 || label.scrollWidth > label.clientWidth + 1,
    };
})"""


def _open(open_browser: Any, base: str, lang: str, role: str, width: int = 360) -> Any:
    page, _ = open_browser(locale=lang, width=width)
    if role != "visitor":
        sign_in(page, base, ACCOUNTS[role])
    page.goto(base + "/language")
    page.click(f"button[value={lang}]")
    return page


def _check_links(links: list[dict[str, Any]], width: int, where: str) -> list[str]:
    problems = []
    for link in links:
        name = f"{where} {link['href'] or 'button'} {link['text']!r}"
        if not link["visible"]:
            problems.append(f"{name}: not visible")
            continue
        if link["left"] < 0 or link["right"] > width:
            problems.append(f"{name}: outside the screen ({link['left']:.0f}..{link['right']:.0f} of {width})")
        if link["clipped"]:
            problems.append(f"{name}: its words are cut off")
        if link["height"] < 44:
            problems.append(f"{name}: {link['height']:.0f} px high, a tap needs 44")
        if not link["text"]:
            problems.append(f"{name}: no words")
    return problems


@pytest.mark.parametrize("lang", ["nl", "ar"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_item_of_a_role_is_in_the_phone_menu(live, open_browser, lang, role) -> None:
    expected, current = ROLES[role]
    page = _open(open_browser, live.url, lang, role)
    page.goto(live.url + current)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")

    # closed: one button, no strip of links running off the screen
    assert page.locator(".main-nav").is_hidden()
    assert page.locator(".menu-panel").is_hidden()
    summary = page.locator(".menu > summary")
    box = summary.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # opened with the keyboard, as with a tap
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(".menu-panel").is_visible()
    links = page.evaluate(MEASURE, ".menu-panel")
    hrefs = [link["href"] for link in links if link["href"]]
    missing = [path for path in expected if path not in hrefs]
    assert not missing, f"{role} in {lang} cannot reach {missing} from the menu ({hrefs})"
    assert len(hrefs) == len(set(hrefs)), hrefs
    signed_in = role != "visitor"
    assert any(link["href"] is None for link in links) == signed_in  # the sign-out button
    problems = _check_links(links, 360, f"{lang} {role}")
    assert not problems, "\n".join(problems)
    assert [link["href"] for link in links if link["current"] == "page"] == [current]
    # each group has a name that is read out with its links
    groups = page.locator(".menu-panel .nav-group")
    assert groups.count() >= 2
    for index in range(groups.count()):
        group = groups.nth(index)
        name = group.locator(".nav-group-name")
        assert name.inner_text().strip()
        assert group.locator("ul").get_attribute("aria-labelledby") == name.get_attribute("id")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"menu-{role}.png"))

    # a tap on a link goes there; the menu is closed on the next page
    target = next(path for path in expected if path != current)
    page.locator(f'.menu-panel a[href="{target}"]').click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(target)
    assert page.locator(".menu-panel").is_hidden()


@pytest.mark.parametrize("lang", ["nl", "ar"])
@pytest.mark.parametrize("role", ["visitor", "coordinator"])
def test_a_wide_screen_shows_the_whole_bar(live, open_browser, lang, role) -> None:
    expected, current = ROLES[role]
    page = _open(open_browser, live.url, lang, role, width=1024)
    page.goto(live.url + current)
    assert page.locator(".menu").is_hidden()
    links = page.evaluate(MEASURE, ".main-nav")
    hrefs = [link["href"] for link in links if link["href"]]
    assert not [path for path in expected if path not in hrefs]
    problems = _check_links(links, 1024, f"{lang} {role} wide")
    assert not problems, "\n".join(problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    # the bar does not scroll sideways: everything is on the screen
    assert page.evaluate(
        "(() => { const u = document.querySelector('.main-nav .nav-groups');"
        " return u.scrollWidth <= u.clientWidth; })()"
    )
