"""What one test leaves in the app a test process keeps does not reach the next test."""

from __future__ import annotations

import sqlite3
from typing import Any

import celery
import pytest
from flask import Flask
from limits import parse

from einstein.extensions import cache, limiter
from tests.conftest import fresh_sqlite, smtp_settings
from tests.support.apps import KeptApp, KeptApps


def _build(make_app: Any, database: str, smtp_server: Any) -> Flask:
    """An app as the ``app`` fixture builds the kept one."""
    built: Flask = make_app(database, **smtp_settings(smtp_server))
    return built


def test_what_a_test_changes_in_the_kept_app_is_set_back(make_app, database, smtp_server) -> None:
    built = _build(make_app, database, smtp_server)
    kept = KeptApp(built)
    base_url, celery_config = built.config["BASE_URL"], dict(built.config["CELERY"])
    one_a_minute = parse("1/minute")

    # another app built since (a test's own) took the Celery app tasks are sent with
    _build(make_app, database, smtp_server)
    assert celery.current_app._get_current_object() is not built.extensions["celery"]
    # a test changes the configuration, even inside a setting, and fills what the app keeps
    built.config["BASE_URL"] = "https://elsewhere.test"
    built.config["CELERY"]["task_always_eager"] = "changed"
    built.config["A_SETTING_OF_THE_TEST"] = True
    response = built.test_client().get("/")
    assert response.status_code == 200
    assert built.extensions["einstein.menus"], "a page keeps its menu in the app"
    assert "einstein.page_cache" in built.extensions
    with built.test_request_context():
        cache.set("left-by-a-test", "yes")
        assert limiter.limiter.hit(one_a_minute, "left-by-a-test")
        assert not limiter.limiter.hit(one_a_minute, "left-by-a-test")

    assert kept.set_back() is built
    assert built.config["BASE_URL"] == base_url
    assert built.config["CELERY"] == celery_config
    assert "A_SETTING_OF_THE_TEST" not in built.config
    assert built.extensions["einstein.menus"] == {}
    assert "einstein.page_cache" not in built.extensions
    with built.test_request_context():
        assert cache.get("left-by-a-test") is None
        assert limiter.limiter.hit(one_a_minute, "left-by-a-test"), "the limiter counts from nothing again"
    assert celery.current_app._get_current_object() is built.extensions["celery"]
    # and the app still answers, making what it keeps anew
    assert built.test_client().get("/").status_code == 200
    assert built.extensions["einstein.menus"]


def test_the_kept_apps_are_one_for_each_database(make_app, database, smtp_server, tmp_path) -> None:
    apps = KeptApps()
    assert apps.get(database) is None
    built = _build(make_app, database, smtp_server)
    apps.keep(database, built)
    assert apps.get(database) is built
    assert apps.get(f"sqlite:///{tmp_path}/another.sqlite") is None


def _kept(app: Flask) -> Flask | None:
    from tests.conftest import KEPT_APPS

    found = KEPT_APPS.apps.get(app.config["SQLALCHEMY_DATABASE_URI"])
    return found.app if found else None


def test_a_test_without_settings_of_its_own_gets_the_kept_app(app) -> None:
    assert _kept(app) is app


@pytest.mark.own_app
def test_a_test_marked_own_app_gets_an_app_built_for_it(app) -> None:
    assert _kept(app) is not app


class TestSettingsOfItsOwn:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"BASE_URL": "https://own.test"}

    def test_get_an_app_built_for_them(self, app) -> None:
        assert _kept(app) is not app
        assert app.config["BASE_URL"] == "https://own.test"


def test_a_new_database_takes_nothing_a_killed_server_left_beside_the_last(sqlite_template, tmp_path) -> None:
    """The tests of one process share the path of their SQLite database; a server killed in one
    test leaves its write-ahead log there, which SQLite would read into the next test's file."""
    path = tmp_path / "einstein.sqlite"
    fresh_sqlite(path, sqlite_template)
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # what is written stays in the log, as in a busy server
        writer.execute("CREATE TABLE left_by_the_last_test (note TEXT)")
        writer.execute("INSERT INTO left_by_the_last_test VALUES ('a booking')")
        writer.commit()
        left = {suffix: path.with_name(path.name + suffix).read_bytes() for suffix in ("-wal", "-shm")}
    finally:
        writer.close()  # a clean close folds the log into the file; a killed server leaves it:
    for suffix, content in left.items():
        path.with_name(path.name + suffix).write_bytes(content)

    fresh_sqlite(path, sqlite_template)
    reader = sqlite3.connect(path)
    try:
        tables = {name for (name,) in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        reader.close()
    assert "locations" in tables and "left_by_the_last_test" not in tables
