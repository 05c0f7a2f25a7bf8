"""What a request costs in database round trips on PostgreSQL, and that the savings change nothing
else: a page that only reads sends no BEGIN or ROLLBACK and keeps psycopg's prepared statements;
a write in such a page still gets a whole transaction; a pooled connection is checked only when it
has sat unused, and a broken one is answered with 503 and replaced (einstein.db)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg.pq import TransactionStatus

from einstein.db import db
from einstein.models import Location
from tests import factories

# the probes add routes to the app: each test gets an app of its own
pytestmark = [pytest.mark.parametrize("database", ["postgresql"], indirect=True), pytest.mark.own_app]

IDLE, IN_TRANSACTION = TransactionStatus.IDLE.name, TransactionStatus.INTRANS.name


def _status() -> str:
    """The transaction status of the connection the request's session uses."""
    return TransactionStatus(db.session.connection().connection.driver_connection.info.transaction_status).name


def _probe(app: Flask, name: str, view: Callable[[], Any], methods: tuple[str, ...] = ("GET",)) -> str:
    """Add a route that runs ``view`` in a request; its path."""
    app.add_url_rule(f"/_probe/{name}", f"probe_{name}", view, methods=list(methods))
    return f"/_probe/{name}"


def _places(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Location.name).order_by(Location.name)))


def _read() -> str:
    db.session.scalar(sa.select(sa.func.count()).select_from(Location))
    return _status()


def test_a_reading_request_reads_outside_a_transaction_and_a_writing_one_inside(app: Flask) -> None:
    path = _probe(app, "read", _read, ("GET", "POST"))
    client = app.test_client()
    assert client.get(path).text == IDLE  # no BEGIN was sent, so none needs a ROLLBACK
    assert client.post(path).text == IN_TRANSACTION


def test_a_write_in_a_reading_request_begins_a_transaction_that_an_error_undoes(app: Flask) -> None:
    def write_then_fail() -> str:
        db.session.scalar(sa.select(sa.func.count()).select_from(Location))
        db.session.add(factories.LocationFactory.build(name="Half-written"))
        db.session.flush()
        assert _status() == IN_TRANSACTION
        raise RuntimeError("the page broke after writing, before its commit")

    path = _probe(app, "write_then_fail", write_then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get(path).status_code == 500
    assert _places(app) == []


def test_a_write_in_a_reading_request_is_kept_with_its_savepoint(app: Flask) -> None:
    def issue() -> str:
        db.session.scalar(sa.select(sa.func.count()).select_from(Location))
        with db.session.begin_nested():  # as a certificate is issued the first time it is shown
            db.session.add(factories.LocationFactory.build(name="Issued"))
        status = _status()
        db.session.commit()
        return status

    path = _probe(app, "issue", issue)
    assert app.test_client().get(path).text == IN_TRANSACTION
    assert _places(app) == ["Issued"]


def test_a_locking_read_in_a_reading_request_holds_its_lock_in_a_transaction(app: Flask) -> None:
    def lock() -> str:
        db.session.execute(sa.select(Location.id).with_for_update())
        return _status()

    assert app.test_client().get(_probe(app, "lock", lock)).text == IN_TRANSACTION


def test_reading_requests_keep_their_prepared_statements(app: Flask) -> None:
    """psycopg prepares a statement on its fifth run on a connection; a ROLLBACK after each request
    made it forget them all, so nothing was ever prepared."""

    def prepared() -> str:
        db.session.scalar(sa.select(sa.func.count()).select_from(Location).where(Location.name != "x"))
        return str(db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements")))

    path = _probe(app, "prepared", prepared)
    client = app.test_client()
    counts = [int(client.get(path).text) for _ in range(8)]
    assert counts[0] == 0
    assert counts[-1] >= 1


def _used_then_killed(app: Flask) -> tuple[Any, str]:
    """A client whose request has just used a pooled connection, after the server processes of the
    app's pooled connections were ended, as a restart of the server would; the probe's path."""
    path = _probe(app, "read", _read)
    client = app.test_client()
    assert client.get(path).status_code == 200
    with app.app_context():
        url = db.engine.url
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        ended = connection.scalars(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        ).all()
    engine.dispose()
    assert len(ended) >= 1
    return client, path


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER": 0}])
def test_a_connection_that_sat_unused_is_checked_and_replaced_when_broken(app: Flask) -> None:
    client, path = _used_then_killed(app)
    answer = client.get(path)
    assert (answer.status_code, answer.text) == (200, IDLE)


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER": 3600}])
def test_a_connection_used_a_moment_ago_is_not_checked_and_if_broken_the_answer_is_503(app: Flask) -> None:
    client, path = _used_then_killed(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is answered, not raised
    broken = client.get(path, headers={"Accept-Language": "nl"})
    assert broken.status_code == 503
    assert "Probeer het over een minuut opnieuw." in broken.text
    assert client.get(path).status_code == 200  # the pool threw the broken connections away


def test_rows_streamed_in_a_reading_request_are_read_in_a_transaction(app: Flask) -> None:
    """A server-side cursor (``yield_per``, as the exports stream their rows) is DECLAREd, which
    PostgreSQL allows only in a transaction."""
    with app.app_context():
        db.session.add_all(factories.LocationFactory.build() for _ in range(25))
        db.session.commit()

    def stream() -> str:
        rows = list(db.session.execute(sa.select(Location.id).execution_options(yield_per=10)))
        return f"{len(rows)} {_status()}"

    assert app.test_client().get(_probe(app, "stream", stream)).text == f"25 {IN_TRANSACTION}"
