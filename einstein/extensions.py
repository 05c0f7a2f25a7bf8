"""Extension objects, created unbound here and bound to an app in ``create_app``.

Redis (the cache and the rate limits) must never hold a request: an ``Outage`` per address
remembers that it stopped answering, so the next call fails at once instead of waiting out a
socket timeout, and a background thread of the process asks again until it answers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from flask import Flask
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from limits.storage import RedisStorage

from einstein import schedule
from einstein.db import db

log = logging.getLogger(__name__)

migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()
compress = Compress()
cache = Cache()

__all__ = [
    "babel",
    "cache",
    "celery_init_app",
    "compress",
    "csrf",
    "db",
    "limiter",
    "login_manager",
    "migrate",
    "talisman",
]


class Outage:
    """Whether a server (Redis at one address) answers, as this process last found it.

    ``trip()`` marks it away at the first failure; from then on callers ask ``away()`` and skip
    it without a round trip, and one background thread tries ``probe`` every ``every`` seconds
    (it may wait out a socket timeout: no request does) until it answers.
    """

    def __init__(self, name: str, every: float = 1.0) -> None:
        self.name = name
        self.every = every
        self.probe: Callable[[], object] | None = None
        self._lock = threading.Lock()
        self._away = False
        self._prober: threading.Thread | None = None

    def away(self) -> bool:
        """True while the server is known not to answer (no I/O: a flag)."""
        return self._away

    def trip(self, probe: Callable[[], object] | None = None) -> None:
        """The server failed to answer: stop using it, and ask in the background until it does."""
        with self._lock:
            if probe is not None:
                self.probe = probe
            first = not self._away
            self._away = True
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._wait_for_answer, name=f"probe {self.name}", daemon=True)
                self._prober.start()
        if first:
            log.warning("%s did not answer: this process leaves it alone until it does", self.name)

    def _wait_for_answer(self) -> None:
        while True:
            time.sleep(self.every)
            try:
                if self.probe is not None:
                    self.probe()
            except Exception:  # noqa: BLE001, S112 - still away: ask again after a while
                continue
            with self._lock:
                self._away = False
                self._prober = None
            log.warning("%s answers again", self.name)
            return


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def _after_fork() -> None:
    """A forked worker starts with unlocked locks and no probe thread (it asks again itself)."""
    global _outages_lock
    _outages_lock = threading.Lock()
    for outage in _outages.values():
        outage._lock, outage._prober, outage._away = threading.Lock(), None, False


os.register_at_fork(after_in_child=_after_fork)


def outage_for(address: str, every: float = 1.0) -> Outage:
    """The one ``Outage`` of this process for a server address (the cache and the rate limits
    on the same Redis learn together that it is away)."""
    with _outages_lock:
        found = _outages.get(address)
        if found is None:
            found = _outages[address] = Outage(f"Redis at {address.rsplit('@', 1)[-1].split('://')[-1]}", every)
        found.every = min(found.every, every)
        return found


class GuardedRedisStorage(RedisStorage):
    """The rate limits' Redis storage, which fails at once while its Redis is away.

    Flask-Limiter then counts in memory (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and asks the
    storage's ``check()`` now and then on any request: here that is a flag, never a wait. The
    address is written ``einstein+redis://...`` (or ``einstein+rediss://``).
    """

    STORAGE_SCHEME = ["einstein+redis", "einstein+rediss"]

    def __init__(self, uri: str, **options: Any) -> None:
        uri = uri.removeprefix("einstein+")
        super().__init__(uri, **options)
        self.outage = outage_for(uri.split("?", 1)[0])

    def _guarded(self, call: Callable[[], Any]) -> Any:
        if self.outage.away():
            raise ConnectionError(f"{self.outage.name} is away")
        try:
            return call()
        except Exception:
            self.outage.trip(self.storage.ping)
            raise

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return int(self._guarded(lambda: super(GuardedRedisStorage, self).incr(key, expiry, amount)))

    def get(self, key: str) -> int:
        return int(self._guarded(lambda: super(GuardedRedisStorage, self).get(key)))

    def get_expiry(self, key: str) -> float:
        return float(self._guarded(lambda: super(GuardedRedisStorage, self).get_expiry(key)))

    def clear(self, key: str) -> None:
        self._guarded(lambda: super(GuardedRedisStorage, self).clear(key))

    def check(self) -> bool:
        """Whether Redis answers; False at once while it is known to be away."""
        if self.outage.away():
            return False
        try:
            return bool(self._guarded(lambda: self.storage.ping()))
        except Exception:  # noqa: BLE001 - any failure means "not now"
            return False


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks each run inside a Flask app context."""

    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = schedule.configured_celery(app.config, task_cls=FlaskTask)
    celery_app.conf.include = ["einstein.notifications.tasks", "einstein.bookings.tasks", "einstein.privacy.tasks"]
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
