"""Database engine, sessions and the few column types every model shares.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every
connection; PostgreSQL is used as it is. Nothing here commits on anyone's behalf.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


class DatabaseUnreachable(RuntimeError):
    """The database did not answer; the message says where and what to check (never the password)."""


# What SQLAlchemy raises when the database itself is away, beside a driver error it wraps (DBAPIError): a ping
# that failed, no pooled connection free in time.
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, DisconnectionError, PoolTimeout)

# PostgreSQL's SQLSTATEs for "the server or the connection to it is gone": class 08 (connection exception),
# 57P (operator intervention: admin or crash shutdown, cannot connect now, database dropped) and 53300 (too many
# connections: no room for us just now).
_PG_DOWN_PREFIXES = ("08", "57P", "53300")
# SQLite's error names for a file that cannot be reached: gone or not openable (CANTOPEN), a failing disk or
# a file deleted under us (IOERR_*), a folder or file made read-only (READONLY_*).
_SQLITE_DOWN_PREFIXES = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_READONLY")


def is_database_down(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is down, restarting, dropped or out of reach (answered with a 503,
    one CLI line, one log line) rather than that partnermon has a bug or hit a conflict (a traceback).

    Only connection-level failures count. SQLAlchemy wraps ``no such column`` and ``database is locked`` as
    OperationalError too; calling those "try again shortly" would hide a bug behind a quiet 503."""
    if isinstance(exc, (DisconnectionError, PoolTimeout)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:   # the dialect recognised a lost connection
        return True
    original = exc.orig
    sqlite_name = getattr(original, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name).startswith(_SQLITE_DOWN_PREFIXES)
    if type(original).__module__.startswith("psycopg"):
        sqlstate = getattr(original, "sqlstate", None)
        if sqlstate is None:
            # No server answer to carry a code: the connection could not be made, or broke mid-statement.
            return type(original).__name__ == "OperationalError"
        return str(sqlstate).startswith(_PG_DOWN_PREFIXES)
    return False


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and we never want local time."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("partnermon stores aware datetimes only; got a naive one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    """The one place that reads the clock for request handling; services take ``now`` instead."""
    return datetime.now(timezone.utc)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's default transaction handling is kept on purpose: reads run outside a write
        # transaction and BEGIN comes just before the first write, so readers never hold the
        # single SQLite write lock. Claims stay safe because they are conditional UPDATEs.
        return engine
    if "connect_timeout" not in make_url(url).query:
        # A host that drops packets would otherwise hold a connect for minutes: gunicorn would kill the booting
        # worker at its timeout and boot another, and a page would hang instead of answering 503.
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    # SQLAlchemy checks each pooled connection with a round trip before handing it out, and replaces one the
    # server dropped while it sat idle (a restart, a failover, an idle timeout on the way).
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


CONNECT_TIMEOUT_SECONDS = 10


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def describe_url(url: str | URL) -> str:
    """Host and port (or file) of a database URL, never its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def database_down_reason(exc: BaseException, url: URL | None = None) -> str:
    """One line on why the database failed, for a log, /healthz or the CLI: where (with ``url``) and the
    driver's first line, never the password."""
    where = f" ({describe_url(url)})" if url is not None else ""
    return f"the database{where} is unavailable: {_driver_first_line(exc, url)}"


def _driver_first_line(exc: BaseException, url: URL | None) -> str:
    # Drivers' messages span lines and may quote the connection, password included.
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = lines[0][:300] if lines else type(original).__name__
    if url is not None and url.password:
        # Only where a connection string is quoted: replacing the password wherever its letters appear
        # would garble the message and show what the password is ("for user ***" when it equals the user).
        reason = reason.replace(f":{url.password}@", ":***@")
    return reason


def check_database(engine: Engine) -> None:
    """Fail fast with a sentence a person can act on when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DATABASE_ERRORS as exc:  # any failure of a bare SELECT 1 is about reaching the database, not a bug
        where = describe_url(engine.url.render_as_string(hide_password=True))
        if engine.url.get_backend_name() == "sqlite":
            hint = "Check that the folder exists and is writable (PARTNERMON_INSTANCE_DIR)."
        else:
            hint = (
                "Is PostgreSQL running there, and do the database name and user in "
                "PARTNERMON_DATABASE_URL exist?"
            )
        reason = _driver_first_line(exc, engine.url)
        raise DatabaseUnreachable(
            f"PARTNERMON_DATABASE_URL points at {where} but the database could not be reached "
            f"({reason}). {hint}"
        ) from None
