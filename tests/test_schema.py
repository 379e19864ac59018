"""Migrations: the same Alembic scripts build the schema on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from partnermon import schema
from partnermon.db import make_engine
from partnermon.models import Base


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_the_test_database_is_at_the_latest_revision(engine):
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.is_up_to_date(engine)


def test_init_db_brings_an_empty_sqlite_file_up_and_is_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    schema.upgrade(engine)
    assert schema.is_up_to_date(engine)
    assert {"practice", "user_account", "partner", "touchpoint", "moment_of_truth", "outbox", "audit_event"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
