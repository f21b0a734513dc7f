"""Opening a store: the URL, the engine, and bringing the schema to the current migration.

A store is any SQLAlchemy URL. The embedded default is the SQLite file `caseload.db` in the working
directory; a bare path (`--db nightly.db`) means a SQLite file too; PostgreSQL is reached with
`postgresql+psycopg://user@host:port/db` (a plain `postgresql://` URL is given the psycopg driver).

SQLite transactions are driven by SQLAlchemy rather than by the sqlite3 module (which would not emit
BEGIN before a SELECT): every transaction starts with an explicit BEGIN, and a writer asks for
`BEGIN IMMEDIATE` so that it holds SQLite's write lock from its first statement to its COMMIT.

Engines are created with `hide_parameters=True`: a database error message then shows the SQL but never
the values, which hold clients' personal data and could end up in a log; and SQLAlchemy's DEBUG log of
result rows is filtered out for the same reason.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("caseload.store")

DEFAULT_URL = "sqlite:///caseload.db"
ENV_URL = "CASELOAD_DB"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# How long a SQLite reader or a committing writer waits for another connection's lock (not the run lock).
SQLITE_BUSY_MS = 30_000
# PostgreSQL advisory lock keys (any 64-bit numbers unique to caseload): one for schema upgrades.
PG_MIGRATE_KEY = 0x6361_7365_6C6F_6D01


class StoreError(Exception):
    """A store problem the user can act on (bad URL, no store yet, someone else is running)."""


def resolve_url(db: str | None) -> str:
    """The store URL from `--db`, else $CASELOAD_DB, else the embedded default `caseload.db`."""
    raw = (db or os.environ.get(ENV_URL) or DEFAULT_URL).strip()
    if "://" not in raw:
        raw = f"sqlite:///{raw}"
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise StoreError(f"--db {safe_url(raw)}: not a database URL ({exc})") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def safe_url(url: str | URL) -> str:
    """The URL as it may be printed or logged: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The file behind a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    return None if not database or database == ":memory:" else Path(database)


class _NoResultRows(logging.Filter):
    """Drop SQLAlchemy's DEBUG log of each result row: rows hold clients' personal data. (Statements are
    still logged, their parameters hidden by `hide_parameters`.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


ENGINE_LOGGING_NAME = "caseload"
logging.getLogger(f"sqlalchemy.engine.Engine.{ENGINE_LOGGING_NAME}").addFilter(_NoResultRows())


def make_engine(url: str) -> Engine:
    """An engine for the store, with SQLite set up for real transactions and lock waits."""
    private = {"hide_parameters": True, "logging_name": ENGINE_LOGGING_NAME}
    if is_sqlite(url):
        engine = create_engine(url, **private, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see module docstring)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            options = connection.get_execution_options()
            if options.get("caseload_write"):
                wait_ms = int(options.get("caseload_wait_ms", 0))
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            else:
                connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, **private, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code so that the package needs no alembic.ini at run time."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration, once, even when two processes start together."""
    head = head_revision()
    with engine.connect() as probe:
        if current_revision(probe) == head:
            return
    with engine.connect() as connection:
        connection.execution_options(caseload_write=True, caseload_wait_ms=SQLITE_BUSY_MS)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATE_KEY})
            if current_revision(connection) != head:
                from alembic import command

                log.info("upgrading the store's schema to revision %s", head)
                command.upgrade(alembic_config(connection), "head")


def open_engine(db: str | None, *, create: bool = True) -> Engine:
    """Resolve the URL, refuse a SQLite file that is not there when `create` is false, and upgrade.

    Reading commands (`history`, `export`) pass create=False, so that a typo in the path reports
    "no store here" instead of quietly creating an empty one.
    """
    url = resolve_url(db)
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is not None:
        if not create and not path.is_file():
            raise StoreError(f"no store at {path}: run `caseload import DATA_DIR --db {path}` first")
        if not path.parent.is_dir():
            raise StoreError(f"cannot create the store {path}: folder {path.parent} does not exist")
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"--db {safe_url(url)}: not a database URL this installation can open ({exc})") from None
    try:
        upgrade(engine)
    except Exception as exc:
        engine.dispose()
        if isinstance(exc, StoreError):
            raise
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise StoreError(f"cannot open the store {safe_url(url)}: {reason}") from exc
        raise
    return engine
