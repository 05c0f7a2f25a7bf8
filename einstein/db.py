"""Database foundations shared by every area: the declarative base, types, time and loading helpers."""

from __future__ import annotations

import enum
import functools
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus
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
        return str(_labels_of(type(self))[self])


@functools.cache
def _labels_of(enum_cls: type[LabelledEnum]) -> dict[Any, Any]:
    """``enum_cls.labels()``, made once: its lazy strings are read in the reader's language each
    time they are shown (a page of bookings shows a label on every card)."""
    return enum_cls.labels()


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
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine, float(app.config["DATABASE_PING_AFTER"]))
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


#: keys in a pooled connection's ``info``: when it was last given back, and whether its transaction
#: has not begun on the server yet (see ``_configure_postgresql``)
_RETURNED_AT = "einstein.returned_at"
_NOT_BEGUN = "einstein.not_begun"


@functools.lru_cache(maxsize=2048)
def _only_reads(statement: str) -> bool:
    """Whether a statement's text reads and locks nothing: a SELECT without FOR UPDATE/SHARE."""
    return statement.lstrip()[:6].upper() == "SELECT" and _LOCKING.search(statement) is None


_LOCKING = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def _configure_postgresql(engine: sa.Engine, ping_after: float) -> None:
    """Spare a reading request the database round trips that do nothing for it.

    Every request used to pay three on top of its own statements: the pool's pre-ping on checkout,
    ``BEGIN`` before the first statement and ``ROLLBACK`` when the connection went back (signed in,
    a page with one statement of its own made four). Now:

    - A connection is pinged on checkout only when it has sat unused in the pool for longer than
      ``ping_after`` seconds (``DATABASE_PING_AFTER``; 0 pings every time); a broken one is
      replaced there (``DisconnectionError``, the pool's documented way). One used a moment ago
      is known to work; if it breaks all the same (the server restarted just then), that request
      answers 503, not 500 (``einstein.errors``), and the pool drops its connections.
    - In a reading request (GET, HEAD, OPTIONS) the transaction begins on the server only at the
      first statement that writes, locks or streams its rows (a server-side cursor); until then
      each SELECT runs on its own (psycopg's autocommit). Under READ COMMITTED, PostgreSQL's
      default, each statement of a transaction takes a new snapshot anyway, so the reads see
      exactly what they saw before; a write (the rare page that issues a certificate the first
      time it is shown, a savepoint) still gets a whole transaction, as before. With no
      transaction, no ``ROLLBACK`` is sent when the request ends, and psycopg keeps its prepared
      statements (a ``ROLLBACK`` made it forget them): a statement a worker runs often is parsed
      and planned once (psycopg prepares it from its fifth run).
    """
    dialect, idle = engine.dialect, TransactionStatus.IDLE

    @sa.event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_NOT_BEGUN, False) and dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.autocommit = False
        record.info[_RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned <= ping_after:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise sa.exc.DisconnectionError(str(error)) from error
        if not alive:  # pragma: no cover (psycopg raises rather than answer False)
            raise sa.exc.DisconnectionError("the database did not answer")

    def driver(connection: sa.Connection) -> Any:
        return connection.connection.driver_connection

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        dbapi_connection = driver(connection)
        if reading_request() and not dbapi_connection.autocommit and dbapi_connection.info.transaction_status == idle:
            dbapi_connection.autocommit = True
            connection.connection.info[_NOT_BEGUN] = True

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before_statement(connection: sa.Connection, cursor: Any, statement: str, *_args: Any) -> None:
        info = connection.connection.info
        # a server-side cursor (results streamed, yield_per) is DECLAREd, which needs a transaction
        if info.get(_NOT_BEGUN) and (isinstance(cursor, ServerCursor) or not _only_reads(statement)):
            del info[_NOT_BEGUN]
            driver(connection).autocommit = False  # psycopg sends BEGIN first

    def _ended(connection: sa.Connection) -> None:
        if connection.invalidated:  # its DBAPI connection is closed and will not come back
            return
        if connection.connection.info.pop(_NOT_BEGUN, False):
            driver(connection).autocommit = False

    sa.event.listen(engine, "commit", _ended)
    sa.event.listen(engine, "rollback", _ended)


def reading_request() -> bool:
    """Whether this is a request that only reads (GET, HEAD, OPTIONS): it writes rarely (a sign-in
    marked seen, a certificate issued the first time it is shown), and only then begins a
    transaction on PostgreSQL (``_configure_postgresql``)."""
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


class Children(NamedTuple):
    """What ``load_unloaded`` reads a collection with (made by ``children_of``)."""

    #: The collection's rows, narrowed to the parents asked for (``parent_ids``).
    statement: sa.Select[Any]
    #: The children's column that holds the parent's id.
    parent_id: Any


def children_of(rows: sa.Select[Any], parent_id: Any) -> Children:
    """``rows`` (a SELECT of a collection's rows, with any options and order) narrowed to the
    parents ``load_unloaded`` asks for by ``parent_id``, the column that holds the parent's id.
    Build it once (a module's constant): building a statement cost about as much as running it."""
    return Children(rows.where(parent_id.in_(sa.bindparam("parent_ids", expanding=True))), parent_id)


def load_unloaded(parents: Iterable[Any], collection: str, children: Children) -> None:
    """Fill ``collection`` of each of ``parents`` that has not loaded it yet, in one statement
    (``children``). Parents that have it loaded already cost nothing; when none is left, no
    statement is sent."""
    wanted = {parent.id: parent for parent in parents if collection in sa.inspect(parent).unloaded}
    if not wanted:
        return
    found: dict[Any, list[Any]] = {key: [] for key in wanted}
    for child in db.session.scalars(children.statement, {"parent_ids": list(wanted)}):
        found[getattr(child, children.parent_id.key)].append(child)
    for key, rows in found.items():
        set_committed_value(wanted[key], collection, rows)
