"""One shifted clock for a whole test run: ``pytest --clock 2027-03-27T23:30`` (Amsterdam time).

The clock is moved to that instant and keeps ticking, in the test process (time-machine) and in
every process the tests start that runs einstein's code (gunicorn, Celery, ``flask``, ``python -c``):
``environment(env)`` gives such a process the run's clock. The servers einstein talks to (Redis,
PostgreSQL, the SMTP sink) stay on the real clock; einstein never asks them the time.

Why not Debian's libfaketime for the subprocesses: under Python 3.11 it either breaks
``time.sleep`` (``FAKETIME_DONT_FAKE_MONOTONIC=1``: clock_nanosleep fails with EINVAL) or hangs
every wait with a timeout on a lock or an event (without it: sem_clockwait waits on a shifted
monotonic clock), so a Celery worker or gunicorn would never work under it. The subprocesses use
time-machine too, started by ``clock_site/sitecustomize.py`` before anything else runs.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import time_machine

from einstein.i18n import TIMEZONE, local_today

#: The folder whose sitecustomize puts a Python process on the run's clock.
SITE = Path(__file__).resolve().parent / "clock_site"
#: Seconds the run's clock is ahead of the real one (negative: behind), for the subprocesses.
OFFSET_VARIABLE = "TEST_CLOCK_OFFSET_SECONDS"

_traveller: time_machine.travel | None = None
_offset: float | None = None


def parse(text: str) -> datetime:
    """Read ``2027-03-27T23:30`` as Amsterdam time (an explicit offset such as ``+01:00`` wins).

    The hour that is skipped in spring does not exist and is refused; in the autumn the repeated
    hour means its first occurrence (summer time) unless an offset says otherwise.
    """
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=TIMEZONE)
    there_and_back = local.astimezone(UTC).astimezone(TIMEZONE).replace(tzinfo=None)
    if there_and_back != value:
        raise ValueError(f"{text} does not exist in Europe/Amsterdam (the clocks skip it)")
    return local.astimezone(UTC)


def start(instant: datetime) -> None:
    """Move this process's clock to ``instant``; from there it ticks at the normal pace."""
    global _traveller, _offset
    _offset = instant.timestamp() - time.time()
    # A float, not the aware datetime: given a zone, time-machine would also change TZ.
    _traveller = time_machine.travel(instant.timestamp(), tick=True)
    _traveller.start()
    time.time()  # time-machine's clock starts ticking at its first reading: now


def stop() -> None:
    global _traveller, _offset
    if _traveller is not None:
        _traveller.stop()
    _traveller, _offset = None, None


def shifted() -> bool:
    return _offset is not None


def environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a process that runs einstein's code, on the run's clock when it is shifted."""
    if _offset is None:
        return env
    path = [str(SITE), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(path), OFFSET_VARIABLE: repr(_offset)}


def describe() -> str:
    """The run's clock, for the report header."""
    now = datetime.now(UTC).astimezone(TIMEZONE)
    if _offset is None:
        return f"clock: real, {now:%Y-%m-%d %H:%M %Z}"
    return f"clock: shifted by {_offset:+.0f} s to {now:%Y-%m-%d %H:%M %Z} (Europe/Amsterdam), ticking"


def days_ahead(days: int, at: clock_time = clock_time(10, 0)) -> datetime:
    """``at`` (Amsterdam time) on the day ``days`` days from today in Amsterdam, as UTC.

    Build test sessions with this, not with "now + 3 days": at 23:30 a two-hour session from
    now + 3 days ends after midnight, and on the night the clocks change it lands on another hour.
    """
    return datetime.combine(local_today() + timedelta(days=days), at, tzinfo=TIMEZONE).astimezone(UTC)
