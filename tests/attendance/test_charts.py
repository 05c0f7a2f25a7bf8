"""The dashboard's charts as the server places them: bars as tall as their values, every value
written in the reader's way, an axis that ends on a round number, time running from the right in
Arabic, and nothing drawn for a month that may not be shown. (What a person sees of them at 360 px:
tests/browser/test_dashboard.py.)"""

from __future__ import annotations

import pytest

from einstein.attendance.charts import PLOT_HEIGHT, Series, bar_chart, format_number, format_percent, nice_top

TWO = [Series("booked", "Booked", "#0b5563"), Series("present", "Present", "#c75000")]
WEEKS = [(("3", "nov"), [10, 5]), (("10", "nov"), [None, None]), (("17", "nov"), [20, 0])]


@pytest.mark.parametrize(
    ("lang", "number", "percent"),
    [("nl", "1.234", "45%"), ("tr", "1.234", "%45"), ("fa", "۱٬۲۳۴", "۴۵٪"), ("uk", "1\xa0234", "45%")],
)
def test_numbers_are_written_as_the_language_writes_them(lang, number, percent) -> None:
    assert format_number(1234, lang) == number
    assert format_percent(45, lang) == percent


@pytest.mark.parametrize(
    ("largest", "top", "step"), [(0, 4, 1), (3, 3, 1), (7, 8, 2), (61, 80, 20), (113, 150, 50), (1000, 1000, 500)]
)
def test_the_value_axis_ends_on_a_round_number_above_the_largest(largest, top, step) -> None:
    assert nice_top(largest) == (top, step)
    assert top >= largest and top % step == 0 and 2 <= top // step <= 5


def test_bars_are_as_tall_as_their_values_with_the_value_written_above() -> None:
    chart = bar_chart("Booked and present", TWO, WEEKS, locale="nl")
    heights = {(b.series.key, b.value): b.height for b in chart.bars}
    assert heights == {
        ("booked", 10): PLOT_HEIGHT / 2,
        ("present", 5): PLOT_HEIGHT / 4,
        ("booked", 20): PLOT_HEIGHT,
        ("present", 0): 0,
    }
    for bar in chart.bars:
        assert bar.y + bar.height == chart.base_y
        assert bar.text == str(bar.value) and bar.text_y < bar.y
    assert [t.text for t in chart.ticks] == ["0", "5", "10", "15", "20"]
    # a week with nothing to show has its label and a dash, and no bar
    assert [g.missing for g in chart.groups] == [False, True, False]
    assert [g.lines for g in chart.groups] == [("3", "nov"), ("10", "nov"), ("17", "nov")]
    # time runs from the left, the axis stands on the left
    xs = [g.x for g in chart.groups]
    assert xs == sorted(xs) and chart.axis_x < xs[0]


def test_in_a_right_to_left_language_the_chart_is_mirrored() -> None:
    ltr = bar_chart("t", TWO, WEEKS, locale="nl")
    rtl = bar_chart("t", TWO, WEEKS, locale="ar", rtl=True)
    assert rtl.width == ltr.width
    xs = [g.x for g in rtl.groups]
    assert xs == sorted(xs, reverse=True) and rtl.axis_x > xs[0]
    for left, right in zip(ltr.bars, rtl.bars, strict=True):
        assert right.x == pytest.approx(ltr.width - left.x - left.width)
        assert right.height == left.height


def test_percentages_run_to_a_hundred_or_beyond_when_people_were_let_in_over_the_places() -> None:
    fill = [Series("fill", "Fill rate", "#0b5563")]
    assert [t.value for t in bar_chart("t", fill, [(("1",), [40])], locale="nl", percent=True).ticks][-1] == 100
    over = bar_chart("t", fill, [(("1",), [110])], locale="fa", percent=True)
    assert [t.text for t in over.ticks] == ["۰٪", "۲۵٪", "۵۰٪", "۷۵٪", "۱۰۰٪", "۱۲۵٪"]
    assert over.bars[0].text == "۱۱۰٪"


def test_a_chart_with_nothing_to_show_is_empty() -> None:
    assert bar_chart("t", TWO, [(("oct", "2026"), [None, None])], locale="nl").empty
    assert bar_chart("t", TWO, [], locale="nl").empty
