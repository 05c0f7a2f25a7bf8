"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from einstein.db import db


def _diff(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    return request.getfixturevalue("postgres_server").create_database("einstein_migrations")


@pytest.mark.postgres
def test_upgrade_from_empty_matches_the_models(empty_database_url, make_app) -> None:
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
    assert _diff(app) == []


@pytest.mark.postgres
def test_downgrade_and_upgrade_again(empty_database_url, make_app) -> None:
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    assert _diff(app) == []
