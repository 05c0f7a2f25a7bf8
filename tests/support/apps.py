"""The plain test app, built once a test process and set back before each test that uses it.

Each test used to build an app of its own. Building one costs about 0.1 s of CPU (most of it
registering the blueprints and describing the API for flask-smorest), and a new app brings a new
SQLAlchemy engine, whose statement cache starts empty: every statement a test ran was compiled
again. Measured with py-spy on the tests of ``tests/courses``, building the app took a quarter of
the tests' time and compiling statements a fifth.

So a test process keeps one app for each database URL, for the tests that want the app as
``base_config`` makes it (no ``app_config`` of their own; most tests). Before each such test the
app is set back to how it was built:

- its configuration, restored from a copy taken when it was built;
- what its extensions keep: anything added to ``app.extensions`` since (the page cache, the menus
  and badges kept in the process), the values of the cache and the rate limiter's counters;
- the Celery app its tasks go to, which the last app built (another test's own) had taken.

The database is new for each test as before (a fresh copy of the migrated SQLite file at the
same path, with nothing the last test left beside it, see ``conftest.fresh_sqlite``; or the
PostgreSQL database emptied after each test), and the engine's connections are closed after each
test. A test that changes how the app is set up (adds a route, say) asks for
an app of its own: ``@pytest.mark.own_app``. ``tests/support/test_apps.py`` checks that what one
test leaves in the kept app does not reach the next.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from einstein.extensions import limiter


@dataclass
class KeptApp:
    """An app and what it looked like when it was built."""

    app: Flask
    config: dict[str, Any] = field(init=False)
    extensions: frozenset[str] = field(init=False)
    empty_stores: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.config = copy.deepcopy(dict(self.app.config))
        self.extensions = frozenset(self.app.extensions)
        self.empty_stores = frozenset(
            name for name, value in self.app.extensions.items() if isinstance(value, dict) and not value
        )

    def set_back(self) -> Flask:
        """The app as it was built, for the next test."""
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        for name in set(app.extensions) - self.extensions:
            del app.extensions[name]
        for name in self.empty_stores:
            app.extensions[name].clear()
        for backend in app.extensions["cache"].values():
            backend.clear()
        # the limiter is one object for every app: set up again for this one, it counts from
        # nothing in a new storage (in memory, as base_config says)
        limiter.init_app(app)
        celery = app.extensions["celery"]
        celery.set_current()
        celery.set_default()
        return app


class KeptApps:
    """The kept apps of this process, one for each database URL."""

    def __init__(self) -> None:
        self.apps: dict[str, KeptApp] = {}

    def get(self, database: str) -> Flask | None:
        kept = self.apps.get(database)
        return kept.set_back() if kept else None

    def keep(self, database: str, app: Flask) -> None:
        self.apps[database] = KeptApp(app)
