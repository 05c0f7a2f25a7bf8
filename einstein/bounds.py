"""The ranges einstein accepts for ids, dates and page numbers, checked where input enters.

An id beyond PostgreSQL's ``integer`` (2**31-1) fails the query it is bound into, a date near
year 1 or 9999 overflows as soon as a day or a time zone is added to it, and a page number of
10**20 overflows an ``OFFSET``: each is refused here, once, with a 404 or a clear message,
instead of a 500 deep in a view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

#: The largest id a table holds: ids are PostgreSQL ``integer`` columns.
MAX_ID = 2**31 - 1
#: The days einstein plans, lists and reports on; far enough for any course, far from overflow.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
#: The highest page number of any paged list (10,000 pages of 25 rows is more than einstein holds).
MAX_PAGE = 10_000


def as_id(value: Any) -> int | None:
    """Return ``value`` (an int, or ASCII digits) as an id a table may hold, or None."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 10:
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None


def in_window(day: date) -> bool:
    """Return whether a day lies between ``FIRST_DAY`` and ``LAST_DAY``."""
    return FIRST_DAY <= day <= LAST_DAY


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 to ``MAX_ID``, so a larger id is a 404 before any query runs."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class OutOfRange(BadRequest):
    """A 400 whose description is a message for the person (the error page shows it)."""


def page_arg(name: str = "page") -> int:
    """The page number asked for in the query string: 1 when absent, a 400 when out of range."""
    raw = request.args.get(name, "")
    if raw == "":
        return 1
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else 0
    if not 1 <= page <= MAX_PAGE:
        raise OutOfRange(_("There is no page with that number. Please go back and use the page links."))
    return page
