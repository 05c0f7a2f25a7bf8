"""gunicorn as production runs it (``gunicorn.conf.py``, which gunicorn reads from the folder it
starts in): what a worker gets from the master that forked it."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.http import Gunicorn

pytestmark = pytest.mark.slow


def test_a_worker_starts_with_what_the_master_loaded_frozen(tmp_path) -> None:
    """The collector in a worker never walks the objects the master loaded (``pre_fork``): it
    leaves the pages they share alone, and a stopping worker does not collect them at its exit."""
    probe = Gunicorn({}, tmp_path, workers=2, threads=1, target="tests.support.wsgi_probe:app", health="/")
    with probe, urllib.request.urlopen(probe.url + "/", timeout=10) as response:  # noqa: S310 (our own server)
        seen = json.loads(response.read())
    assert seen["tracked_in_master"] > 0
    assert seen["frozen"] >= seen["tracked_in_master"]
