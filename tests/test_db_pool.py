"""The PostgreSQL pool replaces a connection the server dropped before a request uses it (partnermon.db)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from partnermon.db import make_engine


def _pg_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection; CI runs this with PARTNERMON_TEST_DATABASE_URL")
    return make_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_a_request_uses_it(engine: Engine) -> None:
    pooled = _pg_engine(engine)
    try:
        with pooled.connect() as conn:
            dropped = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
            admin.commit()
        with pooled.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != dropped
    finally:
        pooled.dispose()

