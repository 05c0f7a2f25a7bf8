"""`make test` spreads the tests over processes with pytest-xdist's ``--dist loadgroup``: the tests
of one ``xdist_group`` must run in one process, so that a module fixture they share is made once
(``tests/notifications/test_rendering.py`` renders every message in every language for its tests).
pytest 9.2 silently broke this (pytest-dev/pytest-xdist#1386): this run of a small suite of its
own fails if the pinned pytest and pytest-xdist ever stop grouping again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SUITE = """
import pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    pass

@pytest.mark.parametrize("n", range(6))
def test_free(n):
    pass
"""


def test_a_group_runs_in_one_process_while_the_rest_spread(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    # only pytest-xdist among the installed plugins: each of the three processes starts in a second
    quiet = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "xdist",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
        ],
        cwd=tmp_path,
        env=quiet,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = re.findall(r"\[(gw\d)\] \[ *\d+%\] PASSED test_suite\.py::(test_\w+)\[", done.stdout)
    assert len(ran) == 12, done.stdout
    grouped = {worker for worker, test in ran if test == "test_grouped"}
    everyone = {worker for worker, _ in ran}
    assert len(grouped) == 1, f"the group was split over {sorted(grouped)}:\n{done.stdout}"
    assert everyone == {"gw0", "gw1"}, f"only {sorted(everyone)} ran tests, so grouping was not shown:\n{done.stdout}"
