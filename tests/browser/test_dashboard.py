"""The dashboard as a coordinator sees it on a 360 px phone, in Dutch and in Arabic, and on a
desktop: every number whole and on one line, headers never broken inside a word, tables that
scroll sideways in their box (first column in view) instead of squeezing, charts with their
numbers. Screenshots go to artifacts/screenshots/<lang>/dashboard-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser]

COORDINATOR = "coordinator@demo.einstein.test"

#: For every table cell with a digit in it (Latin, Arabic-Indic or Persian): its size, and each
#: number in it with its width and the lines it is drawn on. Closed <details> are opened first.
CELLS = r"""() => {
    document.querySelectorAll('main details').forEach(d => { d.open = true; });
    const number = /[0-9٠-٩۰-۹](?:[0-9٠-٩۰-۹.,:٫٬%٪\u200e\u061c]*[0-9٠-٩۰-۹%٪])?/g;
    const lines = rects => new Set(Array.from(rects).filter(r => r.width > 0).map(r => Math.round(r.top))).size;
    const out = [];
    for (const cell of document.querySelectorAll('main td, main th')) {
        if (!/[0-9٠-٩۰-۹]/.test(cell.textContent) || !cell.checkVisibility()) continue;
        const numbers = [];
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(number)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                numbers.push({text: match[0], width: range.getBoundingClientRect().width,
                              lines: lines(range.getClientRects())});
            }
        }
        out.push({text: cell.innerText.trim().slice(0, 60), scroll: cell.scrollWidth, client: cell.clientWidth,
                  width: cell.getBoundingClientRect().width, numbers});
    }
    return out;
}"""

#: Every word of every column heading: on how many lines it is drawn (a word broken in two: 2).
HEADINGS = r"""() => {
    const out = [];
    for (const th of document.querySelectorAll('main thead th')) {
        if (!th.checkVisibility()) continue;
        const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                out.push({word: match[0], lines: tops.size});
            }
        }
    }
    return out;
}"""


def _dashboard(open_browser: Any, base: str, lang: str, width: int) -> Any:
    page, traffic = open_browser(locale=lang, width=width)
    sign_in(page, base, COORDINATOR)
    page.goto(base + "/language")
    page.click(f"button[value={lang}]")
    page.goto(base + "/dashboard")
    assert page.locator("h1").count() == 1
    return page, traffic


def _number_problems(cells: list[dict[str, Any]]) -> list[str]:
    problems = []
    for cell in cells:
        if cell["scroll"] > cell["client"] + 1:
            problems.append(f"{cell['text']!r}: its content is {cell['scroll']} px wide in a {cell['client']} px cell")
        for found in cell["numbers"]:
            if found["lines"] != 1:
                problems.append(f"{cell['text']!r}: the number {found['text']!r} is drawn on {found['lines']} lines")
            if found["width"] > cell["width"]:
                problems.append(f"{cell['text']!r}: the cell is narrower than {found['text']!r}")
    return problems


@pytest.mark.parametrize("lang", ["nl", "ar"])
def test_every_number_on_the_dashboard_is_whole_on_a_phone(live, open_browser, lang) -> None:
    page, _ = _dashboard(open_browser, live.url, lang, 360)
    cells = page.evaluate(CELLS)
    assert len(cells) > 30, "the demo data gives the dashboard figures to check"
    assert sum(len(c["numbers"]) for c in cells) > 60
    problems = _number_problems(cells)
    assert not problems, "\n".join(problems)

    # a table wider than the phone scrolls inside its box; the page itself does not
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    wraps = page.evaluate(
        """() => Array.from(document.querySelectorAll('main .table-wrap')).map(w => ({
            overflow: getComputedStyle(w).overflowX, right: w.getBoundingClientRect().right,
            left: w.getBoundingClientRect().left,
            sticky: getComputedStyle(w.querySelector('tbody tr > :first-child')).position}))"""
    )
    assert wraps
    for wrap in wraps:
        assert wrap["overflow"] == "auto" and wrap["sticky"] == "sticky", wrap
        assert wrap["left"] >= 0 and wrap["right"] <= 360, wrap

    # the first column stays in view when the table is scrolled to its other end
    offers = page.locator("#offers-heading ~ .table-wrap").first
    before = offers.locator("tbody tr th").first.bounding_box()
    offers.evaluate("w => { w.scrollLeft = w.scrollWidth * (getComputedStyle(w).direction === 'rtl' ? -1 : 1); }")
    after = offers.locator("tbody tr th").first.bounding_box()
    assert abs(before["x"] - after["x"]) < 1, (before, after)

    # the per-offer table is as tall as its rows need, not one letter per line (it was 6,000 px)
    rows = offers.locator("tbody tr").count()
    height = offers.bounding_box()["height"]
    assert rows >= 3
    assert height <= 60 + rows * 110, f"{rows} offers take {height:.0f} px"
    tallest = max(offers.locator("tbody tr").nth(i).bounding_box()["height"] for i in range(rows))
    assert tallest <= 130, f"one offer's row is {tallest:.0f} px tall"

    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "dashboard-phone.png"), full_page=True)


@pytest.mark.parametrize("lang", ["nl", "ar"])
def test_the_charts_draw_the_figures_with_their_values(live, open_browser, lang) -> None:
    page, traffic = _dashboard(open_browser, live.url, lang, 360)
    charts = page.evaluate(
        """() => Array.from(document.querySelectorAll('main figure.chart')).map(f => {
            const svg = f.querySelector('svg.chart-svg');
            return {
                title: f.querySelector('figcaption').innerText.trim(),
                hidden: svg.getAttribute('aria-hidden'), rtl: svg.dataset.rtl,
                bars: Array.from(svg.querySelectorAll('rect.bar')).map(r => ({
                    value: Number(r.dataset.value), height: r.getBBox().height, x: r.getBBox().x})),
                values: Array.from(svg.querySelectorAll('text.value')).map(t => t.textContent.trim()),
                labels: svg.querySelectorAll('text.label').length,
                ticks: svg.querySelectorAll('text.tick').length,
                width: svg.getBoundingClientRect().width,
            };
        })"""
    )
    assert len(charts) >= 2, charts  # the fill rate and booked/present per week (the mix when a month shows)
    for chart in charts:
        assert chart["title"] and chart["hidden"] == "true" and chart["rtl"] == ("yes" if lang == "ar" else "no")
        assert chart["bars"] and len(chart["values"]) == len(chart["bars"]) and chart["labels"] and chart["ticks"] >= 2
        tallest = max(chart["bars"], key=lambda b: b["value"])
        for bar in chart["bars"]:
            if tallest["value"]:
                assert abs(bar["height"] / tallest["height"] - bar["value"] / tallest["value"]) < 0.02, chart
        xs = [bar["x"] for bar in chart["bars"]]
        # time runs from the left in Dutch and from the right in Arabic
        assert xs == sorted(xs, reverse=(lang == "ar")), chart
    # the same figures as a table, for screen readers and for anyone who wants the numbers
    assert page.locator("details.chart-numbers table tbody tr").count() >= 1
    # drawn on the server: no script or request made them
    assert not traffic.foreign(live.url)
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.locator("#time-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "dashboard-charts.png"))


@pytest.mark.parametrize("lang", ["nl", "ar"])
def test_on_a_desktop_no_heading_breaks_inside_a_word(live, open_browser, lang) -> None:
    page, _ = _dashboard(open_browser, live.url, lang, 1280)
    words = page.evaluate(HEADINGS)
    assert len(words) > 20
    broken = [w["word"] for w in words if w["lines"] > 1]
    assert not broken, broken
    problems = _number_problems(page.evaluate(CELLS))
    assert not problems, "\n".join(problems)
    page.screenshot(path=str(SCREENSHOTS / lang / "dashboard-desktop.png"), full_page=True)
