"""Database foundations shared by every area: the declarative base, types, time and loading helpers."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.orm.attributes import set_committed_value

#: Constraint names that Alembic can find again on every database (SQLite needs names to alter).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Store aware datetimes as UTC and always give back aware UTC datetimes.

    PostgreSQL keeps the zone (``timestamptz``); SQLite has no zone, so values are stored as naive
    UTC and made aware again on the way out. Naive values are refused: they are always a bug here.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class LabelledEnum(enum.StrEnum):
    """A choice stored by its value, with a label people read in their own language.

    Each enum lists its labels once, in ``labels()``; ``member.label`` reads them.
    """

    @classmethod
    def labels(cls) -> dict[Any, Any]:
        """Every member's label (lazy strings, read in the reader's language)."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        return str(type(self).labels()[self])


def enum_column(enum_cls: type[enum.StrEnum], length: int = 20) -> sa.Enum:
    """Store a ``StrEnum`` by its values as a short string with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    """Declarative base with named constraints and UTC datetimes by default."""

    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

# The models' base class. At run time it is ``db.Model``: ``Base`` with Flask-SQLAlchemy's mixins
# (bind keys, a ``query`` attribute einstein does not use). mypy cannot take an attribute as a base
# class (python/mypy#8603), so to it the base is ``Base`` itself, which holds every column type.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


#: Indexes that exist only on PostgreSQL (they need an extension SQLite does not have).
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_offers_search_text_trgm"})


def table_of(model: type[Base]) -> sa.Table:
    """The table a model is mapped to, for Core statements (declarative types it as any FROM clause)."""
    table = model.__table__
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def include_in_schema_comparison(dialect: str, name: str | None, type_: str) -> bool:
    """Tell Alembic's autogenerate which objects to compare on this kind of database."""
    if type_ == "index" and name in POSTGRESQL_ONLY_INDEXES:
        return dialect == "postgresql"
    return True


def configure_engine(app: Any) -> None:
    """Make SQLite behave like a database that can take concurrent bookings.

    pysqlite does not BEGIN before a SELECT, so a "read, then write" is not one transaction. We
    take control of BEGIN (SQLAlchemy's documented recipe) and begin every transaction that may
    write with ``BEGIN IMMEDIATE``, which takes SQLite's write lock up front: two requests can no
    longer both read "one place left". Safe requests (GET, HEAD) never write and begin deferred,
    so readers do not queue behind writers (WAL mode lets them read alongside).
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    locks = app.config.get("BOOKING_LOCKS", True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if locks:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # deleted rows (an erased person, a revoked sign-in) are overwritten, not left in free pages
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    if not locks:
        return

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if reading_request() else "BEGIN IMMEDIATE")


def reading_request() -> bool:
    """Whether this is a request that only reads (GET, HEAD, OPTIONS): it never commits."""
    from flask import has_request_context, request

    return has_request_context() and request.method in {"GET", "HEAD", "OPTIONS"}


def write_aside(statement: sa.Executable, params: dict[str, Any] | None = None) -> None:
    """Run one small write that must be kept even though the request only reads.

    A reading request never commits, so the write gets a short transaction of its own (on
    SQLite such a request holds no write lock that it could wait for). Anywhere else it joins
    the caller's transaction in a savepoint, and is committed with it.
    """
    if reading_request():
        with db.engine.begin() as connection:
            connection.execute(statement, params or {})
    else:
        with db.session.begin_nested():
            db.session.execute(statement, params or {})


def load_unloaded(parents: Iterable[Any], collection: str, children: sa.Select[Any], parent_id: Any) -> None:
    """Fill ``collection`` of each of ``parents`` that has not loaded it yet, in one statement:
    ``children`` (a SELECT of the collection's rows, with any options and order) narrowed to those
    parents by ``parent_id``, the children's column that holds the parent's id. Parents that have
    it loaded already cost nothing; when none is left, no statement is sent."""
    wanted = {parent.id: parent for parent in parents if collection in sa.inspect(parent).unloaded}
    if not wanted:
        return
    found: dict[Any, list[Any]] = {key: [] for key in wanted}
    for child in db.session.scalars(children.where(parent_id.in_(wanted))):
        found[getattr(child, parent_id.key)].append(child)
    for key, rows in found.items():
        set_committed_value(wanted[key], collection, rows)
