"""Alembic's entry point for the store's migrations.

The URL is given in code, never read from a file: `caseload.store.database.upgrade` passes an open
connection in `config.attributes["connection"]` (already inside the transaction that holds the migration
lock). For a developer's `alembic -c caseload/alembic.ini ...`, the URL comes from `-x db=URL`, else
$CASELOAD_DB, else the embedded default `caseload.db`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from caseload.store.database import make_engine, resolve_url
from caseload.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=resolve_url(context.get_x_argument(as_dictionary=True).get("db")),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(resolve_url(context.get_x_argument(as_dictionary=True).get("db")))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
