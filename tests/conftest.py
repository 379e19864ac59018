"""Shared fixtures. Every test runs on SQLite; with PARTNERMON_TEST_DATABASE_URL set they run on that
PostgreSQL instead, in a database of their own that is created here and dropped afterwards.

The cast (as in healthchecks): Alice owns Harbour Advice, Bob is an adviser there, Vera a viewer;
Charlie owns Quay Wealth and must never see Harbour's data.
"""

from __future__ import annotations

import os
from html import unescape
import re
import uuid
import time
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from partnermon import schema
from partnermon.app import create_app
from partnermon.cli import main
from partnermon.config import Settings
from partnermon.db import make_engine, make_session_factory
from partnermon.models import Base
from partnermon.runtime import Runtime
from tests import factories

PG_URL = os.environ.get("PARTNERMON_TEST_DATABASE_URL", "").strip()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery staple"


def _pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith(("postgresql://", "postgres://")) else url


def pytest_sessionstart(session: pytest.Session) -> None:
    """With PostgreSQL asked for, an unreachable server fails the run at once (never a skip)."""
    if not PG_URL:
        return
    engine = create_engine(_pg(PG_URL))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect is fatal here
        where = make_url(_pg(PG_URL)).render_as_string(hide_password=True)
        pytest.exit(f"PARTNERMON_TEST_DATABASE_URL={where} is unreachable: {str(exc).splitlines()[0]}", returncode=3)
    finally:
        engine.dispose()


@contextmanager
def scratch_database(tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Iterator[str]:
    """The URL of a database of its own: a SQLite file, or, with PARTNERMON_TEST_DATABASE_URL, a PostgreSQL
    database created for it and dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp(prefix) / f'{prefix}.sqlite3'}"
        return
    admin_url = make_url(_pg(PG_URL))
    name = f"partnermon_{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory, "test") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(instance_dir=tmp_path, database_url=database_url, secret_key="test-secret-key",
                    base_url="http://partnermon.test")


@pytest.fixture
def runtime(engine: Engine, settings: Settings) -> Iterator[Runtime]:
    _empty_all_tables(engine)
    yield Runtime(settings, engine, make_session_factory(engine))
    _empty_all_tables(engine)


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with runtime.session_factory() as s:
        yield s


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime, TESTING=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cast(session: Session) -> factories.Cast:
    """Two practices with their people and a partner each (see the module docstring)."""
    return factories.make_cast(session, NOW, PASSWORD)


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Runs ``partnermon …`` against the test database, as a person would with the variables set."""
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    monkeypatch.setenv("PARTNERMON_BASE_URL", "http://partnermon.test")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


class Browser:
    """A test client that signs in and sends each form's CSRF token, as a real browser would."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def csrf(self) -> str:
        with self.client.session_transaction() as sess:
            if "csrf" not in sess:
                sess["csrf"] = "t-" + uuid.uuid4().hex
            return sess["csrf"]

    def sign_in(self, email: str, password: str = PASSWORD) -> "Browser":
        response = self.post("/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return self

    def get(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs: object):  # type: ignore[no-untyped-def,type-arg]
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=payload, **kwargs)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app: Flask):  # type: ignore[no-untyped-def]
    """Another, independent browser (its own cookies)."""
    return lambda: Browser(app.test_client())


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text with tags removed and white space folded, for assertions."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def sessions_waiting_on_a_lock(engine: Engine, other: "Future[object]", timeout: float = 10.0) -> int:
    """PostgreSQL race tests: how many sessions wait on a lock, once one does (or ``other`` has finished, or
    ``timeout`` has passed). A test holding a row or an insert open asserts 1 here, so it knows the other
    transaction really reached the conflict before the first commits."""
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while True:
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                           " AND wait_event_type = 'Lock'")).scalar_one()
            if waiting or other.done() or time.monotonic() > deadline:
                return int(waiting)
            time.sleep(0.01)   # polling the server's view of the other session, not waiting for time to pass
