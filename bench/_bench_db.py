"""The benchmark's database: a fresh PostgreSQL database (or a given URL), the schema, one practice and
N http probes pointing at the loopback server, and the counters the benchmark reads back."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _readings import log, utcnow

if TYPE_CHECKING:
    from probe_throughput import LoopbackServer

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
PRACTICE_SLUG = "bench-throughput"

# --- the database ---------------------------------------------------------------------------------

class BenchDatabase:
    """A fresh PostgreSQL database created and dropped here, or the given URL (PostgreSQL or SQLite)."""

    def __init__(self, url: str | None) -> None:
        from sqlalchemy.engine import make_url

        self.created_pg: str | None = None
        self.created_sqlite: Path | None = None
        if url is None:
            name = f"bench_{secrets.token_hex(4)}"
            self._admin(f'CREATE DATABASE "{name}"')
            self.created_pg = name
            url = f"{DEFAULT_PG}/{name}"
        elif url.startswith("sqlite"):
            path = Path(make_url(url).database or "")
            if not path.exists():
                self.created_sqlite = path
        elif url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        self.is_pg = url.startswith("postgresql")
        self.pg_name = make_url(url).database if self.is_pg else None

    @staticmethod
    def _admin(statement: str) -> None:
        from sqlalchemy import create_engine, text

        for maintenance_db in ("postgres", "test"):
            engine = create_engine(f"{DEFAULT_PG}/{maintenance_db}", isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(text(statement))
                return
            except Exception as exc:
                last = exc
            finally:
                engine.dispose()
        raise last

    def drop(self) -> None:
        if self.created_pg:
            self._admin(f'DROP DATABASE IF EXISTS "{self.created_pg}" WITH (FORCE)')
            self.created_pg = None
        if self.created_sqlite:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.created_sqlite) + suffix).unlink(missing_ok=True)
            self.created_sqlite = None


@dataclass
class Fixture:
    practice_id: int
    partner_id: int
    moment_id: int


def refuse_other_practices(session: Any, own_slug: str) -> None:
    """A bench deletes and rewrites its own practice's rows: it must never run on a database with real ones."""
    from sqlalchemy import func, select

    from partnermon.models import Practice

    others = session.scalar(select(func.count()).select_from(Practice).where(Practice.slug != own_slug))
    if others:
        raise SystemExit("bench: the database holds real practices; give the bench a scratch database")


def check_schema(engine: Any, add_missing: bool) -> None:
    """The migrations must create every column the models use; else the worker fails on its first claim."""
    from sqlalchemy import inspect, text
    from sqlalchemy.schema import CreateColumn

    from partnermon.db import Base

    inspector = inspect(engine)
    missing = [(table, column) for table in Base.metadata.sorted_tables if inspector.has_table(table.name)
               for column in table.columns
               if column.name not in {c["name"] for c in inspector.get_columns(table.name)}]
    if not missing:
        return
    names = ", ".join(f"{t.name}.{c.name}" for t, c in missing)
    if not add_missing:
        raise SystemExit(f"bench: the migrations do not create these model columns: {names}. "
                         "Fix the migrations, or run with --add-missing-columns (a stopgap for measuring).")
    log(f"WARNING: adding columns the migrations lack (schema drift): {names}")
    with engine.begin() as conn:
        for table, column in missing:
            ddl = str(CreateColumn(column).compile(dialect=engine.dialect))
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))


def prepare(engine: Any, add_missing: bool = False) -> Fixture:
    """The schema, and one practice with one partner (reused if an earlier run left them)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from partnermon import schema
    from partnermon.models import DEFAULT_MOMENTS, MomentOfTruth, Partner, Practice

    schema.upgrade(engine)
    check_schema(engine, add_missing)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        refuse_other_practices(session, PRACTICE_SLUG)
        practice = session.scalar(select(Practice).where(Practice.slug == PRACTICE_SLUG))
        if practice is None:
            practice = Practice(slug=PRACTICE_SLUG, name="Bench practice", timezone="Europe/London", created_at=now)
            practice.moments.append(MomentOfTruth(position=0, retired=False, **DEFAULT_MOMENTS[0]))
            session.add(practice)
            session.flush()
            session.add(Partner(practice_id=practice.id, name="Bench partner", created_at=now))
            session.commit()
        partner = session.scalar(select(Partner).where(Partner.practice_id == practice.id))
        moment = session.scalar(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id))
        return Fixture(practice.id, partner.id, moment.id)


def seed(engine: Any, fx: Fixture, n: int, server: "LoopbackServer", *, interval: int, due_offset: float,
         spread: float) -> datetime:
    """Replace the bench's touchpoints with ``n`` http probes, due evenly over [first, first + spread) where
    first is ``due_offset`` seconds after the probes are written. Returns first."""
    from sqlalchemy import delete, insert, text

    from partnermon.models import Incident, Probe, ProbeResult, Touchpoint

    with engine.begin() as conn:
        for model in (ProbeResult, Incident, Probe, Touchpoint):
            conn.execute(delete(model).where(model.practice_id == fx.practice_id))
    now = utcnow()
    with engine.begin() as conn:
        ids = conn.execute(insert(Touchpoint).returning(Touchpoint.id, sort_by_parameter_order=True), [
            {"practice_id": fx.practice_id, "partner_id": fx.partner_id, "moment_id": fx.moment_id,
             "name": f"tp {i}", "url": server.url(i), "created_at": now} for i in range(n)
        ]).scalars().all()
        step = spread / n
        first_due = utcnow() + timedelta(seconds=due_offset)
        conn.execute(insert(Probe), [
            {"practice_id": fx.practice_id, "touchpoint_id": tid, "kind": "http", "checks": [], "soft_checks": [],
             "options": {}, "interval_seconds": interval, "timeout_seconds": 10.0, "enabled": True,
             "next_due_at": first_due + timedelta(seconds=i * step), "created_at": now, "updated_at": now}
            for i, tid in enumerate(ids)
        ])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE probe, probe_result, touchpoint, incident"))
    return first_due


def db_commits(engine: Any) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")).scalar())


def backlog(engine: Any, fx: Fixture) -> tuple[int, float]:
    """(probes due and not claimed, seconds the oldest of them is overdue)."""
    from sqlalchemy import func, or_, select

    from partnermon.models import Probe

    now = utcnow()
    with engine.connect() as conn:
        count, oldest = conn.execute(select(func.count(), func.min(Probe.next_due_at)).where(
            Probe.practice_id == fx.practice_id, Probe.next_due_at <= now,
            or_(Probe.lease_until.is_(None), Probe.lease_until < now))).one()
    if not count:
        return 0, 0.0
    if oldest.tzinfo is None:  # func.min() bypasses the UTCDateTime type on some backends
        oldest = oldest.replace(tzinfo=timezone.utc)
    return int(count), (now - oldest).total_seconds()
