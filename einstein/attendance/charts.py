"""Bar charts of the dashboard's figures, drawn on the server as SVG (templates/macros/charts.html).

No script and no library in the browser: these functions work out where every bar, value, tick
and label goes, and a Jinja macro writes the SVG. Numbers are written as the reader's language
writes them (Persian digits in Farsi); in a right-to-left language the chart is mirrored, so time
runs from the right and the value axis stands on the right. The newcomer / neighbour chart draws
only what ``reports.Mix.shown`` may show (rounded, and nothing for a month with too few places).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from einstein.attendance.feedback import Face, Satisfaction
from einstein.attendance.reports import Figures, MonthMix
from einstein.auth.models import Audience
from einstein.i18n import LANGUAGES

#: The digits of the numbering systems einstein's languages may use (Babel formats with Latin ones).
DIGITS = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}

# Geometry, in CSS pixels (the SVG is drawn at its real size and scrolls sideways when wider).
FONT = 12
PLOT_HEIGHT = 150
TOP = 22  # room for the value above the tallest bar
BOTTOM = 40  # two lines of labels under the axis
AXIS = 46  # the value axis and its labels
END = 10
BAR_GAP = 2
GROUP_GAP = 14
MIN_GROUP = 44


@dataclass(frozen=True)
class Series:
    """One kind of bar (e.g. "booked"), its name in the legend and its colour."""

    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    """One bar and the value written above it."""

    series: Series
    value: int
    text: str
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Group:
    """The bars of one week or month, with its label (one or two lines) under the axis."""

    lines: tuple[str, ...]
    x: float
    #: Written where the bars would be when a value may not be shown (e.g. "–").
    missing: bool = False


@dataclass(frozen=True)
class Tick:
    """A value on the value axis, with a grid line across the chart."""

    value: int
    text: str
    y: float


@dataclass(frozen=True)
class BarChart:
    """Everything the macro needs to draw a chart, already placed."""

    title: str
    series: tuple[Series, ...]
    groups: tuple[Group, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: float
    height: float
    #: x of the value axis line, the top and the base line of the bars, and the ends of the base line.
    axis_x: float
    plot_top: float
    base_y: float
    plot_left: float
    plot_right: float
    tick_text_x: float
    rtl: bool
    locale: str

    @property
    def empty(self) -> bool:
        """Nothing to draw: no group, or no value that may be shown."""
        return not self.bars


def _locale(locale: str | Locale) -> Locale:
    return locale if isinstance(locale, Locale) else Locale.parse(locale)


def _native_digits(text: str, locale: Locale) -> str:
    digits = DIGITS.get(locale.default_numbering_system)
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


def format_number(value: int | float, locale: str | Locale) -> str:
    """A number as the language writes it: separators and digits (Farsi: ۱٬۲۳۴)."""
    loc = _locale(locale)
    return _native_digits(format_decimal(value, locale=loc, numbering_system="default"), loc)


def format_percent(value: int | float, locale: str | Locale) -> str:
    """A percentage (given as 0-100) as the language writes it: "45%", "%45" (Turkish), "۴۵٪"."""
    loc = _locale(locale)
    pattern = str(loc.percent_formats[None].pattern).split(";")[0]
    symbols = loc.number_symbols.get(loc.default_numbering_system) or loc.number_symbols["latn"]
    number = format_number(value, loc)
    start = min(i for i, c in enumerate(pattern) if c in "#0")
    end = max(i for i, c in enumerate(pattern) if c in "#0") + 1
    prefix, suffix = pattern[:start], pattern[end:]
    sign = str(symbols.get("percentSign", "%"))
    return prefix.replace("%", sign) + number + suffix.replace("%", sign)


def nice_top(largest: int) -> tuple[int, int]:
    """The top of the value axis and the step between ticks (1, 2 or 5 times a power of ten)."""
    if largest <= 0:
        return 4, 1
    rough = largest / 4
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    step = max(1, int(step))
    return int(math.ceil(largest / step) * step), step


def bar_chart(
    title: str,
    series: Sequence[Series],
    groups: Sequence[tuple[Sequence[str], Sequence[int | None]]],
    *,
    locale: str | Locale,
    rtl: bool = False,
    percent: bool = False,
) -> BarChart:
    """Place the bars of ``groups`` (labels, one value per series; None: may not be shown).

    Bar heights are proportional to the values; percentages have an axis from 0 to 100 (or to
    the largest value, when people were let in beyond the places).
    """
    loc = _locale(locale)
    values = [v for _labels, vs in groups for v in vs if v is not None]
    if percent:
        top, step = max(100, int(math.ceil(max(values, default=0) / 25) * 25)), 25
    else:
        top, step = nice_top(max(values, default=0))
    n = max(1, len(series))
    bar_width = 24 if n == 1 else 18
    group_width = max(MIN_GROUP, n * bar_width + (n - 1) * BAR_GAP + GROUP_GAP)
    width = AXIS + len(groups) * group_width + END
    height = TOP + PLOT_HEIGHT + BOTTOM
    base_y = TOP + PLOT_HEIGHT

    def mirror(x: float, w: float = 0) -> float:
        return round(width - x - w, 1) if rtl else round(x, 1)

    def scale(value: int) -> float:
        return round(value / top * PLOT_HEIGHT, 1)

    def fmt(value: int) -> str:
        return format_percent(value, loc) if percent else format_number(value, loc)

    bars, placed = [], []
    for index, (labels, group_values) in enumerate(groups):
        left = AXIS + index * group_width
        inner = n * bar_width + (n - 1) * BAR_GAP
        first = left + (group_width - inner) / 2
        for position, (one, value) in enumerate(zip(series, group_values, strict=True)):
            if value is None:
                continue
            x = first + position * (bar_width + BAR_GAP)
            h = scale(value)
            bars.append(
                Bar(
                    series=one,
                    value=value,
                    text=fmt(value),
                    x=mirror(x, bar_width),
                    y=round(base_y - h, 1),
                    width=bar_width,
                    height=h,
                    text_x=mirror(x + bar_width / 2),
                    text_y=round(base_y - h - 4, 1),
                )
            )
        missing = all(v is None for v in group_values)
        placed.append(Group(lines=tuple(labels), x=mirror(left + group_width / 2), missing=missing))
    ticks = tuple(Tick(value=v, text=fmt(v), y=round(base_y - scale(v), 1)) for v in range(0, top + 1, step))
    return BarChart(
        title=title,
        series=tuple(series),
        groups=tuple(placed),
        bars=tuple(bars),
        ticks=ticks,
        width=width,
        height=height,
        axis_x=mirror(AXIS),
        plot_top=TOP,
        base_y=base_y,
        plot_left=min(mirror(AXIS), mirror(width - END)),
        plot_right=max(mirror(AXIS), mirror(width - END)),
        tick_text_x=mirror(AXIS / 2),
        rtl=rtl,
        locale=str(loc),
    )


# --- the dashboard's charts, in the reader's language ------------------------------------------------

BOOKED = "#0b5563"
PRESENT = "#c75000"
GREY = "#5f6b75"
AUDIENCE_COLOURS = {Audience.NEWCOMER: BOOKED, Audience.NEIGHBOUR: PRESENT, Audience.UNSAID: GREY}


def _reader() -> tuple[Locale, bool]:
    code = str(get_locale() or "nl")
    language = LANGUAGES.get(code)
    return Locale.parse(code), bool(language and language.rtl)


def week_labels(day: date, locale: Locale) -> tuple[str, str]:
    """A week under the axis: the day its Monday falls on and the month ("24", "nov.")."""
    return format_number(day.day, locale), format_date(day, "MMM", locale=locale)


def month_labels(month: date, locale: Locale) -> tuple[str, str]:
    """A month under the axis: its short name and the year."""
    return format_date(month, "LLL", locale=locale), _native_digits(str(month.year), locale)


def fill_rate_chart(weeks: Sequence[tuple[date, Figures]]) -> BarChart:
    """Places booked of places offered, per week (weeks without places have no bar)."""
    locale, rtl = _reader()
    series = [Series("fill", _("Fill rate"), BOOKED)]
    groups = [(week_labels(day, locale), [f.fill_rate]) for day, f in weeks]
    return bar_chart(_("Fill rate per week"), series, groups, locale=locale, rtl=rtl, percent=True)


def attendance_chart(weeks: Sequence[tuple[date, Figures]]) -> BarChart:
    """Places booked and people present, per week."""
    locale, rtl = _reader()
    series = [Series("booked", _("Booked"), BOOKED), Series("present", _("Present"), PRESENT)]
    groups = [(week_labels(day, locale), [f.booked, f.present]) for day, f in weeks]
    return bar_chart(_("Places booked and people present per week"), series, groups, locale=locale, rtl=rtl)


def mix_chart(months: Sequence[MonthMix]) -> BarChart:
    """Places taken by newcomers, neighbours and people who did not say, per closed month: only
    the rounded counts a month may show, and no bars for a month with too few places."""
    locale, rtl = _reader()
    audiences = list(Audience)
    series = [Series(a.value, str(a.label), AUDIENCE_COLOURS[a]) for a in audiences]
    groups = []
    for m in months:
        shown = m.mix.shown
        values: list[int | None] = [shown[a] for a in audiences] if shown else [None] * len(audiences)
        groups.append((month_labels(m.month, locale), values))
    title = _("Places taken per month, by how people describe themselves")
    return bar_chart(title, series, groups, locale=locale, rtl=rtl)


#: One colour per category in the satisfaction chart (told apart by the legend and the table too).
CATEGORY_COLOURS = ("#0b5563", "#c75000", "#5f6b75", "#6a3d9a", "#2e7d32", "#a6192e", "#8a6d00", "#1f5fa8")


def satisfaction_chart(satisfaction: Satisfaction) -> BarChart:
    """The share of "good" answers per month, one bar per category: only cells with enough
    answers, from their rounded counts (``feedback.Cell``); no bar where too few answered."""
    locale, rtl = _reader()
    categories = satisfaction.categories
    series = [
        Series(c.value, str(c.label), CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]) for i, c in enumerate(categories)
    ]
    groups = [
        (month_labels(month, locale), [satisfaction.cell(month, c).share(Face.GOOD) for c in categories])
        for month in satisfaction.months
    ]
    title = _("Share of “good” answers per month, by category")
    return bar_chart(title, series, groups, locale=locale, rtl=rtl, percent=True)


def number(value: Any) -> str:
    """Template filter: a count in the reader's language; "–" for nothing."""
    return "–" if value is None else format_number(value, _reader()[0])


def percent(value: Any) -> str:
    """Template filter: a percentage (0-100) in the reader's language; "–" for nothing."""
    return "–" if value is None else format_percent(value, _reader()[0])


def init_app(app: Flask) -> None:
    """Give templates the charts and the number formats."""
    app.jinja_env.globals.update(
        fill_rate_chart=fill_rate_chart,
        attendance_chart=attendance_chart,
        mix_chart=mix_chart,
        satisfaction_chart=satisfaction_chart,
    )
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
