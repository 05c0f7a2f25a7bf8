"""When sessions are: times in Utrecht, across midnight and clock changes, and weekly series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from einstein.courses.errors import CatalogueError
from einstein.i18n import TIMEZONE


def session_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a session on ``day`` from ``start`` to ``end``, Utrecht time.

    An end earlier than the start is on the next day (an Eid evening from 20:00 to 01:00): a
    session lasts less than a day. Both keep their wall-clock time across daylight-saving changes.
    """
    end_day = day + timedelta(days=1) if end < start else day
    starts = datetime.combine(day, start, tzinfo=TIMEZONE).astimezone(UTC)
    ends = datetime.combine(end_day, end, tzinfo=TIMEZONE).astimezone(UTC)
    if ends <= starts:
        # only in the hour the clocks skip in spring: 02:30 that night is read as 03:30, so
        # 02:30-03:30 is no time at all
        raise CatalogueError(str(_l("The end must be after the start.")), field="end_time")
    return starts, ends


def series_times(
    first_day: date, start: time, end: time, count: int, every_weeks: int = 1
) -> list[tuple[datetime, datetime]]:
    """Return the UTC start and end of ``count`` sessions, ``every_weeks`` apart, in Utrecht time.

    Each session keeps its wall-clock time across daylight-saving changes: 19:00 stays 19:00.
    """
    return [session_times(first_day + timedelta(weeks=index * every_weeks), start, end) for index in range(count)]


@dataclass
class Schedule:
    """When new sessions are: the first day, the time, how many, and how many weeks apart."""

    first_date: date
    start: time
    end: time
    count: int = 1
    every_weeks: int = 1

    def times(self) -> list[tuple[datetime, datetime]]:
        return series_times(self.first_date, self.start, self.end, self.count, max(self.every_weeks, 1))
