"""A WSGI app for the tests of gunicorn's settings (``gunicorn.conf.py``): each worker answers
what it sees of the memory it was forked with."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable
from typing import Any

#: The objects the garbage collector tracked when the master loaded this module (preloaded
#: before the workers are forked).
TRACKED_IN_MASTER = len(gc.get_objects())


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({"tracked_in_master": TRACKED_IN_MASTER, "frozen": gc.get_freeze_count()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
