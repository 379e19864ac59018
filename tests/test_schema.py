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


def test_upgrading_to_0008_fills_the_daily_latency_columns_from_the_json_histograms(tmp_path):
    from datetime import date, datetime, timezone

    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    schema.upgrade(engine, "0007")
    at = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO practice (id, slug, name, timezone, business_start_minute, business_end_minute, "
                          "business_days, brand_colour, created_at) VALUES (1, 'p', 'P', 'UTC', 540, 1050, 31, "
                          "'#000000', :at)"), {"at": at})
        conn.execute(text("INSERT INTO moment_of_truth (id, practice_id, key, name, stage, stake, examples, position, "
                          "retired) VALUES (1, 1, 'claim', 'Claims', 'satisfaction', 'high', '', 0, 0)"))
        conn.execute(text("INSERT INTO partner (id, practice_id, name, category, exposure, notes, account_manager_name, "
                          "account_manager_email, account_manager_phone, created_at) VALUES (1, 1, 'A', 'other', 0, '', "
                          "'', '', '', :at)"), {"at": at})
        conn.execute(text("INSERT INTO touchpoint (id, practice_id, partner_id, moment_id, name, created_at) "
                          "VALUES (1, 1, 1, 1, 'T', :at)"), {"at": at})
        conn.execute(text("INSERT INTO rollup_daily (practice_id, touchpoint_id, day, up, degraded, down, maintenance, "
                          "bh_up, bh_degraded, bh_down, histogram, bh_histogram) VALUES (1, 1, :day, 5, 0, 0, 0, 0, 0, "
                          "0, :h, '[]')"), {"day": date(2026, 1, 1), "h": "[0, 2, 0, 3]"})
    schema.upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT latency_0, latency_1, latency_3, latency_20 FROM rollup_daily")).one()
    assert tuple(row) == (0, 2, 3, 0)
    engine.dispose()


def test_upgrading_an_sqlite_database_keeps_every_practices_rows(tmp_path):
    """Migrations 0003, 0005 and 0008 rebuild the practice table on SQLite: with foreign keys on, that used
    to cascade into every partner, touchpoint and rollup."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    schema.upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO practice (id, slug, name, timezone, business_start_minute, business_end_minute, "
                          "business_days, brand_colour, created_at) VALUES (1, 'p', 'P', 'UTC', 540, 1050, 31, "
                          "'#000000', '2026-01-01T00:00:00+00:00')"))
        conn.execute(text("INSERT INTO moment_of_truth (id, practice_id, key, name, stage, stake, examples, position, "
                          "retired) VALUES (1, 1, 'claim', 'Claims', 'satisfaction', 'high', '', 0, 0)"))
        conn.execute(text("INSERT INTO partner (id, practice_id, name, category, exposure, notes, account_manager_name, "
                          "account_manager_email, account_manager_phone, created_at) VALUES (1, 1, 'A', 'other', 0, '', "
                          "'', '', '', '2026-01-01T00:00:00+00:00')"))
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM partner")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM moment_of_truth")).scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
