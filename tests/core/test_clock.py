"""The test run's clock (``pytest --clock ...``) is the same in the processes the tests start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from tests.support import clock
from tests.support.servers import ROOT


def test_an_einstein_process_started_by_a_test_reads_the_same_clock_as_the_test() -> None:
    env = clock.environment({k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    before = time.time()
    answer = subprocess.run(
        [sys.executable, "-c", "import time; time.sleep(1); print(time.time())"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # and its clock ticks from the start, not from the first time einstein asks it
    assert before + 1 <= float(answer.stdout) <= time.time()


def test_a_clock_time_is_read_as_amsterdam_time() -> None:
    assert clock.parse("2027-03-27T23:30") == datetime(2027, 3, 27, 22, 30, tzinfo=UTC)
    assert clock.parse("2027-03-28T03:30") == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    # 02:30 comes twice when the clocks go back: the first (summer time) unless an offset says otherwise
    assert clock.parse("2027-10-31T02:30") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert clock.parse("2027-10-31T02:30+01:00") == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not exist"):
        clock.parse("2027-03-28T02:30")
