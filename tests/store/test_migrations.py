"""Schema changes go through Alembic: the migrations build exactly the models' tables, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from caseload.store.database import current_revision, head_revision, open_engine, upgrade
from caseload.store.models import Base


def test_migrations_create_the_models_schema(store_url: str) -> None:
    engine = open_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            assert compare_metadata(context, Base.metadata) == []
            assert current_revision(connection) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) | {"alembic_version"} == tables
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(store_url: str) -> None:
    engine = open_engine(store_url)
    try:
        upgrade(engine)
        upgrade(engine)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()


def test_the_migrations_have_one_head_and_a_downgrade(store_url: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from caseload.store.database import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    engine = open_engine(store_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
