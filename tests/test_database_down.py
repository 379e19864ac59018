"""The database goes away while the web app runs: pages answer a short 503 with Retry-After, the API a
problem+json 503, /healthz a 503 naming the cause, and the log gets one line per request, not a traceback (and
one line per run of a scheduled job).

A real database is taken away: on SQLite its folder is deleted (and the pool let go of, as after a restart of
the pool); on PostgreSQL the database is dropped WITH (FORCE), which ends every connection to it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from partnermon import schema
from partnermon.app import create_app
from partnermon.config import Settings
from partnermon.db import database_down_reason, is_database_down, make_engine, make_session_factory, utcnow
from partnermon.monitoring.worker import ProbeWorker
from partnermon.runtime import Runtime
from partnermon.scheduler import PERIODIC_JOBS, PeriodicJob, _guarded
from tests import factories
from tests.conftest import NOW, PASSWORD, PG_URL, Browser, _pg

UNREACHABLE = "postgresql+psycopg://partner:hunter2secret@127.0.0.1:1/partnermon"


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[tuple[Flask, Callable[[], None]]]:
    """An app on a database of its own with the cast in it, and a function that takes that database away."""
    admin = None
    if PG_URL:
        admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
        name = f"partnermon_doomed_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(_pg(PG_URL)).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'db' / 'partnermon.sqlite3'}"
        (tmp_path / "db").mkdir()
    engine = make_engine(url)
    schema.upgrade(engine)
    with make_session_factory(engine)() as session:
        factories.make_cast(session, NOW, PASSWORD)
    settings = Settings(instance_dir=tmp_path, database_url=url, secret_key="test-secret-key",
                        base_url="http://partnermon.test")
    app = create_app(runtime=Runtime(settings, engine, make_session_factory(engine)), TESTING=True)

    def take_away() -> None:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        else:
            shutil.rmtree(tmp_path / "db")
            engine.dispose()  # an open SQLite file outlives its deletion; a new connection does not

    try:
        yield app, take_away
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _one_warning_each(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    records = [r for r in caplog.records if r.name.startswith("partnermon")]
    assert len(records) == requests, [r.getMessage() for r in records]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in records)
    assert all("unavailable" in r.getMessage() for r in records)


def test_pages_answer_a_short_503_when_the_database_goes_away(doomed, caplog):
    app, take_away = doomed
    browser = Browser(app.test_client()).sign_in("alice@harbour.test")
    assert browser.get("/").status_code == 200
    take_away()
    caplog.set_level(logging.INFO)
    for path in ("/", "/partners/", "/followups/", "/sign-in?next=/"):
        response = browser.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
        page = response.get_data(as_text=True)
        assert "partnermon is temporarily unavailable" in page and "Traceback" not in page
    posted = browser.post("/partners/new", {"name": "Lost Partner", "category": "insurer"})
    assert posted.status_code == 503
    _one_warning_each(caplog, 5)


def test_the_api_answers_problem_json_503_when_the_database_goes_away(doomed, caplog):
    app, take_away = doomed
    take_away()
    caplog.set_level(logging.INFO)
    response = app.test_client().post("/api/v1/feedback-requests", json={"client_email": "dana@client.test"},
                                      headers={"Authorization": "Bearer pm_anything"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 503 and body["title"] == "Service temporarily unavailable" and "try again" in body["detail"]
    _one_warning_each(caplog, 1)


def test_healthz_answers_503_naming_the_cause_when_the_database_goes_away(doomed, caplog):
    app, take_away = doomed
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    take_away()
    caplog.set_level(logging.INFO)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json() == {"status": "unavailable", "reason": "the database is unavailable"}
    _one_warning_each(caplog, 1)
    assert "the database (" in caplog.records[0].getMessage()  # where, and the driver's reason: the log only


def test_healthz_tells_anyone_only_that_the_database_is_down_and_the_log_where_but_never_its_password(
        tmp_path, caplog):
    """An app whose database is a port where nothing listens (it was never there, or went away)."""
    settings = Settings(instance_dir=tmp_path, database_url=UNREACHABLE, secret_key="k", base_url="http://pm.test")
    engine = make_engine(UNREACHABLE)
    app = create_app(runtime=Runtime(settings, engine, make_session_factory(engine)), TESTING=True)
    caplog.set_level(logging.INFO)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "the database is unavailable"
    assert "127.0.0.1" not in response.get_data(as_text=True) and "partner" not in response.get_data(as_text=True)
    logged = caplog.records[0].getMessage()
    assert "the database (127.0.0.1:1) is unavailable: " in logged and "Connection refused" in logged
    assert "hunter2secret" not in response.get_data(as_text=True) + caplog.text
    assert app.test_client().get("/sign-in").status_code == 503   # the first-run check asks the database
    _one_warning_each(caplog, 2)
    engine.dispose()


def test_a_periodic_job_while_the_database_is_away_logs_one_line_not_a_traceback(doomed, caplog):
    app, take_away = doomed
    take_away()
    caplog.set_level(logging.INFO)
    runtime = app.extensions["partnermon"]
    for job in PERIODIC_JOBS:
        if job.name in ("follow-up-deadlines", "incident-alerts"):
            _guarded(job, runtime)()
    _one_warning_each(caplog, 2)
    assert all(r.getMessage().startswith("periodic job ") and " skipped: the database (" in r.getMessage()
               for r in caplog.records)


def test_the_probe_worker_while_the_database_is_away_logs_one_line_a_poll_not_a_traceback(doomed, caplog):
    app, take_away = doomed
    take_away()
    caplog.set_level(logging.INFO)
    runtime = app.extensions["partnermon"]
    worker = ProbeWorker(runtime.session_factory, runtime.probe_policy, worker_id="w-down", threads=1, clock=utcnow,
                         idle_poll=0.01)
    stop = threading.Event()

    class StopAfterThreePolls(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(caplog.records) >= 3:  # three polls logged (whatever they said): enough to judge
                stop.set()

    stopper = StopAfterThreePolls()
    logging.getLogger("partnermon.monitoring.worker").addHandler(stopper)
    try:
        worker.run(stop)  # returns once three polls have each found the database away
    finally:
        logging.getLogger("partnermon.monitoring.worker").removeHandler(stopper)
    records = [r for r in caplog.records if r.name.startswith("partnermon")]
    assert len(records) >= 3
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in records)
    assert all("claiming paused: the database is unavailable: " in r.getMessage() for r in records)


def test_a_password_in_the_drivers_words_is_starred_only_where_a_connection_string_quotes_it():
    url = make_url("postgresql+psycopg://postgres:postgres@db.example:5432/pm")
    said = OperationalError("SELECT 1", {}, Exception(
        'password authentication failed for user "postgres" (postgresql://postgres:postgres@db.example/pm)'))
    reason = database_down_reason(said, url)
    assert 'for user "postgres"' in reason  # not "for user ***", which would show the password equals the user
    assert "postgres:postgres@" not in reason and "postgres:***@db.example" in reason


def test_a_query_naming_a_missing_column_is_a_500_with_its_traceback_not_a_503(cast, app, browser, caplog):
    """SQLite reports ``no such column`` as an OperationalError, as it does a vanished file: a bug must not pass
    for "try again shortly"."""
    @app.get("/broken-query")
    def broken_query() -> str:
        from partnermon.web.context import db
        db().execute(text("SELECT no_such_column FROM partner"))
        return "unreachable"

    browser.sign_in("alice@harbour.test")
    caplog.set_level(logging.INFO)
    response = browser.get("/broken-query")
    assert response.status_code == 500 and "Retry-After" not in response.headers
    logged = [r for r in caplog.records if r.name.startswith("partnermon") and r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR and logged[0].exc_info is not None
    assert "no_such_column" in str(logged[0].exc_info[1])


def test_a_periodic_job_with_a_bug_in_its_query_logs_the_traceback(app, caplog):
    runtime = app.extensions["partnermon"]

    def broken(_runtime: Runtime) -> None:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT no_such_column FROM partner"))

    caplog.set_level(logging.INFO)
    _guarded(PeriodicJob("broken", broken, 60), runtime)()
    [record] = [r for r in caplog.records if r.name.startswith("partnermon")]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == "periodic job broken failed"


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's own write lock")
def test_a_sqlite_lock_held_too_long_is_not_taken_for_a_database_that_is_away(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    holder = create_engine(url, isolation_level="AUTOCOMMIT")
    waiter = create_engine(url, connect_args={"timeout": 0})
    with holder.connect() as held, waiter.connect() as waiting:
        held.execute(text("CREATE TABLE t (x INTEGER)"))
        held.execute(text("BEGIN IMMEDIATE"))
        with pytest.raises(OperationalError, match="database is locked") as caught:
            waiting.execute(text("INSERT INTO t VALUES (1)"))
        held.execute(text("ROLLBACK"))
    holder.dispose()
    waiter.dispose()
    assert not is_database_down(caught.value)
