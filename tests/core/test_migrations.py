"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from einstein.db import db, include_in_schema_comparison


def _diff(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        dialect = connection.dialect.name

        def include(obj, name, type_, reflected, compare_to):
            return include_in_schema_comparison(dialect, name, type_)

        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include})
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
    # the same check as `flask --app einstein db check`
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_downgrade_and_upgrade_again(empty_database_url, make_app) -> None:
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    assert _diff(app) == []
