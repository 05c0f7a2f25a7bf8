"""Fixtures: the app on SQLite (and PostgreSQL for tests marked ``postgres``), clients, people,
and real Redis, PostgreSQL, SMTP and Celery servers started by the test run itself."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from einstein import caching, create_app
from einstein.config import default_config
from einstein.db import db, utcnow
from einstein.models import OfferKind, User
from tests import factories
from tests.support import clock
from tests.support.apps import KeptApps
from tests.support.client import Client
from tests.support.i18n import cleanup as cleanup_translations
from tests.support.i18n import compiled_translations
from tests.support.routing import SharedBuilderRule
from tests.support.servers import PostgresServer, RedisServer, SmtpSink
from tests.support.templates import TEMPLATE_CODE

SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="2027-03-27T23:30",
        help="run the tests with the clock moved to this Europe/Amsterdam time (it keeps ticking), "
        "in this process and in every einstein process the tests start",
    )


def pytest_configure(config: pytest.Config) -> None:
    # every app this process builds shares its URL rules' compiled builders (tests/support/routing.py)
    Flask.url_rule_class = SharedBuilderRule
    instant = config.getoption("--clock")
    if instant:
        try:
            clock.start(clock.parse(instant))
        except ValueError as error:
            raise pytest.UsageError(f"--clock: {error}") from error


def pytest_report_header(config: pytest.Config) -> str:
    return clock.describe()


def pytest_unconfigure(config: pytest.Config) -> None:
    clock.stop()
    cleanup_translations()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test on SQLite, and the ones marked ``postgres`` on PostgreSQL too. A test about
    one database alone says so: ``@pytest.mark.parametrize("database", ["postgresql"], indirect=True)``."""
    chosen = any(mark.args[0] == "database" for mark in metafunc.definition.iter_markers("parametrize"))
    if "database" in metafunc.fixturenames and not chosen:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgres"):
            backends.append("postgresql")
        metafunc.parametrize("database", backends, indirect=True)


def base_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Configuration for an app under test; servers come from the fixtures."""
    config: dict[str, Any] = {
        "TESTING": True,
        "ENV": "testing",
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": "http://einstein.test",
        "MAIL_BACKEND": "file",
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "CACHE_TYPE": "SimpleCache",
        "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations()),
        "CELERY": {
            **default_config(tmp_path)["CELERY"],
            "broker_url": "memory://",
            "broker_transport_options": {},
        },
    }
    config.update(overrides)
    return config


# --- servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the whole run, started on a free port."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis server for the whole run."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def steady_cache_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold still the minute cached pages belong to (``caching.minute``): a test that asks twice
    and expects the second answer from the cache must not fail when the wall clock's minute
    happens to turn between the two requests."""
    held = caching.minute()
    monkeypatch.setattr(caching, "minute", lambda: held)


@pytest.fixture
def fresh_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of the test's own, which the test may stop, restart or freeze."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    """The SMTP server, emptied for this test."""
    smtp_server.reset()
    return smtp_server


# --- databases ---------------------------------------------------------------------------------


def _migrate(url: str, tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_database(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL database migrated once; each test empties it afterwards."""
    url = postgres_server.create_database("einstein_test")
    _migrate(url, tmp_path_factory.mktemp("pg-migrate"))
    return url


def fresh_sqlite(path: Path, template: Path) -> str:
    """A copy of the migrated ``template`` at ``path``, as a new file; its URL.

    Nothing the last test left beside it stays: SQLite would read a write-ahead log that a killed
    server left as part of the new file, and the last test's bookings would show up in this one.
    """
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this process's tests find their SQLite database: one path, so that the app kept for
    them (``KEPT_APPS``) keeps its engine."""
    return tmp_path_factory.mktemp("sqlite") / "einstein.sqlite"


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty, migrated database of the kind the test runs on."""
    if request.param == "sqlite":
        yield fresh_sqlite(request.getfixturevalue("sqlite_path"), request.getfixturevalue("sqlite_template"))
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def serve(database: str, tmp_path: Path) -> Iterator[Any]:
    """Start gunicorn (4 workers x 4 threads) on the test's database: ``serve(locks=True)``."""
    from tests.support.http import Gunicorn, server_env

    servers: list[Gunicorn] = []

    def start(locks: bool = True) -> Gunicorn:
        server = Gunicorn(server_env(database, tmp_path, SECRET_KEY, locks=locks), tmp_path)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- the app -----------------------------------------------------------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra configuration a test module wants (override this fixture)."""
    return {}


def smtp_settings(sink: SmtpSink) -> dict[str, Any]:
    """Settings that send an app's mail to the test SMTP server."""
    return {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port}


#: the app of the tests that want it as ``base_config`` makes it: one a process for each database,
#: set back before each test (tests/support/apps.py)
KEPT_APPS = KeptApps()


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    database: str,
    tmp_path: Path,
    app_config: dict[str, Any],
    smtp_server: SmtpSink,
) -> Iterator[Flask]:
    """The einstein app on a fresh database, sending mail to the test SMTP server.

    Use ``with app.app_context():`` to touch the data. A test with an ``app_config`` of its own,
    or marked ``own_app``, gets an app built for it; the others share the process's kept app.
    """
    shared = not app_config and not request.node.get_closest_marker("own_app")
    app = KEPT_APPS.get(database) if shared else None
    if app is None:
        app = create_app(base_config(database, tmp_path, **{**smtp_settings(smtp_server), **app_config}))
        app.test_client_class = Client
        app.jinja_env.bytecode_cache = TEMPLATE_CODE  # templates compiled once a process, not once a test
        if shared:
            KEPT_APPS.keep(database, app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    """Build extra apps (e.g. on another database); their connections are closed afterwards."""
    apps: list[Flask] = []

    def build(database_url: str, **overrides: Any) -> Flask:
        built = create_app(base_config(database_url, tmp_path, **overrides))
        built.test_client_class = Client
        built.jinja_env.bytecode_cache = TEMPLATE_CODE
        apps.append(built)
        return built

    yield build
    for built in apps:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> Client:
    """A browser without anyone signed in."""
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def other_client(app: Flask) -> Client:
    """A second browser, for a second person or a second device."""
    return app.test_client()  # type: ignore[return-value]


# --- people ------------------------------------------------------------------------------------


def _person(app: Flask, **kwargs: Any) -> Any:
    with app.app_context():
        user = factories.UserFactory(**kwargs)
        db.session.refresh(user)
        db.session.expunge(user)
        return user


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Create a person: ``make_user(role=Role.VOLUNTEER, locale="ar")``."""
    return lambda **kwargs: _person(app, **kwargs)


@pytest.fixture
def participant(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.PARTICIPANT, name="Amal Participant")


@pytest.fixture
def other_participant(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.PARTICIPANT, name="Other Participant")


@pytest.fixture
def volunteer(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.VOLUNTEER, name="Samir Volunteer")


@pytest.fixture
def trusted_volunteer(make_user: Any) -> Any:
    """A volunteer a coordinator trusts: their activities and changes go online without review."""
    from einstein.models import Role

    return make_user(role=Role.VOLUNTEER, name="Lina Trusted", trusted=True)


@pytest.fixture
def other_volunteer(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.VOLUNTEER, name="Ruth Volunteer")


@pytest.fixture
def coordinator(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.COORDINATOR, name="Noor Coordinator")


@pytest.fixture
def admin(make_user: Any) -> Any:
    from einstein.models import Role

    return make_user(role=Role.ADMIN, name="Piet Admin")


@pytest.fixture(autouse=True)
def _no_stray_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own settings out of the tests."""
    for name in list(os.environ):
        if name.startswith("EINSTEIN_") or name in {"DATABASE_URL", "REDIS_URL", "SMTP_HOST", "SECRET_KEY"}:
            monkeypatch.delenv(name, raising=False)


def process_environment(
    database_url: str, redis_url: str, smtp_port: int, tmp_path: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of an einstein process the tests start (a Celery worker or beat): this
    run's services and test settings, no EINSTEIN_* of the caller's, then ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EINSTEIN_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SECRET_KEY": SECRET_KEY,
            "BASE_URL": "http://einstein.test",
            "EINSTEIN_ENV": "testing",
            "EINSTEIN_INSTANCE_PATH": str(tmp_path / "instance"),
            "EINSTEIN_BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations()),
        }
    )
    env.update(extra or {})
    return env


@pytest.fixture
def start_celery(tmp_path: Path) -> Iterator[Any]:
    """Start real Celery processes (``celery -A worker ...``, beat from ``einstein.beat`` unless
    ``app`` names another module) against the given services.

    ``start_celery(database_url, redis_url, smtp_port, "worker", extra_env={...})``; each process is
    stopped when the test ends.
    """
    from tests.support.servers import CeleryProcess

    processes: list[CeleryProcess] = []

    def start(
        database_url: str,
        redis_url: str,
        smtp_port: int,
        kind: str = "worker",
        extra_env: dict[str, str] | None = None,
        args: list[str] | None = None,
        wait: bool = True,
        concurrency: int = 2,
        app: str | None = None,
    ) -> CeleryProcess:
        env = process_environment(database_url, redis_url, smtp_port, tmp_path, extra_env)
        if kind == "worker":
            name = f"w{len(processes)}@einstein-test"
            default_args = [
                "worker",
                "--loglevel",
                "INFO",
                "--queues",
                "default,mail",
                "--concurrency",
                str(concurrency),
                "--hostname",
                name,
                "--without-gossip",
                "--without-mingle",
            ]
        else:
            default_args = ["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / f"beat-{len(processes)}")]
        process = CeleryProcess(env, args or default_args, tmp_path / f"celery-{kind}-{len(processes)}.log", app)
        process.start()
        processes.append(process)
        if wait and kind == "worker":
            process.wait_ready()
        return process

    yield start
    for process in processes:
        process.stop()


# --- things to book ------------------------------------------------------------------------------


@pytest.fixture
def activity(app, volunteer) -> Any:
    """An activity session with 2 places and a waiting list, organised by "volunteer"."""
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), offer__capacity=2, offer__title="Bike repair café"
        )
        return {"session_id": session.id, "offer_id": session.offer_id}


@pytest.fixture
def course(app, coordinator) -> Any:
    """A course of three weekly sessions with 2 places."""
    with app.app_context():
        offer = factories.OfferFactory(
            kind=OfferKind.COURSE, capacity=2, organiser=db.session.get(User, coordinator.id), title="Business English"
        )
        for week in range(3):
            factories.SessionFactory(
                offer=offer, starts_at=(utcnow() + timedelta(days=2 + 7 * week)).replace(second=0, microsecond=0)
            )
        return {"offer_id": offer.id}
