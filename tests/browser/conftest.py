"""A real browser (Debian's Chromium, driven by Playwright) against einstein served by gunicorn."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import SECRET_KEY
from tests.support.http import Gunicorn, server_env

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
#: Where the screenshots of the main pages go (named in the README).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DEMO_PASSWORD = "utrecht-samen-leren"


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite database with the demo data, seeded once per test process (seconds; half a minute under load)."""
    from einstein import create_app
    from einstein.db import db
    from seeding.demo import seed_demo
    from tests.conftest import base_config

    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.sqlite"
    shutil.copy(sqlite_template, database)
    app = create_app(base_config(f"sqlite:///{database}", folder))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.engine.dispose()
    return database


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[Gunicorn]:
    """einstein with the demo data, served by gunicorn on 127.0.0.1, for one test module.

    Each module gets its own copy of the demo database: what one module's tests change, the
    next module does not see.
    """
    folder = tmp_path_factory.mktemp("live")
    database = folder / "einstein.sqlite"
    shutil.copy(demo_database, database)
    url = f"sqlite:///{database}"
    server = Gunicorn(server_env(url, folder, SECRET_KEY), folder, workers=2, threads=2)
    server.start()
    server.database = database  # type: ignore[attr-defined]
    yield server
    server.stop()


def query_row(live: Gunicorn, sql: str) -> Any:
    """Read one row from the live server's database (None if there is none)."""
    import sqlite3

    # closed at once: a sqlite3 connection's own `with` ends the transaction, not the connection
    with contextlib.closing(sqlite3.connect(live.database)) as connection:  # type: ignore[attr-defined]
        return connection.execute(sql).fetchone()


def query(live: Gunicorn, sql: str) -> Any:
    """Read one value from the live server's database."""
    row = query_row(live, sql)
    return row[0] if row else None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium (Playwright's own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Traffic:
    """What a page asked for: every URL, and the bytes that came over the wire."""

    urls: list[str] = field(default_factory=list)
    transferred: int = 0

    def record(self, request: Any) -> None:
        self.urls.append(request.url)
        sizes = request.sizes()
        self.transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]

    def foreign(self, base: str) -> list[str]:
        """Requests to anything but our own server."""
        ours = urlsplit(base).netloc
        return [u for u in self.urls if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != ours]


@pytest.fixture
def open_browser(chromium: Any) -> Iterator[Any]:
    """Open a fresh browser window (its own cookies and cache): ``open_browser(locale="ar")``."""
    contexts = []

    def open_(locale: str = "en", width: int = 360, height: int = 800) -> tuple[Any, Traffic]:
        context = chromium.new_context(
            viewport={"width": width, "height": height}, locale=locale, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        traffic = Traffic()
        page.on("requestfinished", traffic.record)
        return page, traffic

    yield open_
    for context in contexts:
        context.close()


def sign_in(page: Any, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto(base + "/login")
    page.fill("#identifier", email)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
