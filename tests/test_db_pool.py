"""The PostgreSQL pool checks a connection with a round trip only when it has sat idle (partnermon.db)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from partnermon import db
from partnermon.db import make_engine


def _pg_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection; CI runs this with PARTNERMON_TEST_DATABASE_URL")
    return make_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_a_request_uses_it(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pooled = _pg_engine(engine)
    try:
        with pooled.connect() as conn:
            dropped = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
            admin.commit()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)   # as if it had been idle a while
        with pooled.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != dropped
    finally:
        pooled.dispose()


def test_a_connection_back_from_a_request_a_moment_ago_is_used_without_a_ping(engine: Engine) -> None:
    pooled = _pg_engine(engine)
    pings: list[object] = []
    ping = pooled.dialect.do_ping
    pooled.dialect.do_ping = lambda dbapi_connection: pings.append(dbapi_connection) or ping(dbapi_connection)  # type: ignore[method-assign]
    try:
        for _ in range(3):
            with pooled.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
    finally:
        pooled.dispose()
