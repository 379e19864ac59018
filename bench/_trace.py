"""Where one feedback submission's time goes: the WSGI app in this process, one request at a time.

Used by ``bench/feedback_submit.py --trace N``. It builds the app as wsgi.py does (create_app on a Runtime
from PARTNERMON_* settings), wraps the functions on the POST path in timers in this process only (the
app's files are not changed), times every SQL statement with SQLAlchemy's cursor events and the pool's
pre-ping, then posts N links and gets /healthz N times. Each timer reports wall and CPU milliseconds per
request, inclusive of what it calls; wall minus CPU is time waiting, mostly for PostgreSQL.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path
from typing import Any, Callable

from _readings import r


class Timers:
    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.order: list[str] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if name not in self.order:
            self.order.append(name)

        @wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - w0
                self.cpu[name] += time.process_time() - c0
                self.calls[name] += 1

        return timed

    def patch(self, owner: Any, attr: str, name: str) -> None:
        setattr(owner, attr, self.wrap(name, getattr(owner, attr)))

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()
        self.calls.clear()

    def report(self, n: int) -> list[dict[str, Any]]:
        return [{"part": name, "calls_per_request": r(self.calls[name] / n, 2),
                 "wall_ms": r(1000 * self.wall[name] / n, 3), "cpu_ms": r(1000 * self.cpu[name] / n, 3)}
                for name in self.order if self.calls.get(name)]


def _statement_key(statement: str) -> str:
    text = " ".join(statement.split())
    text = re.sub(r"\(%\(\w+\)s(, %\(\w+\)s)*\)", "(…)", text)
    return text[:160]


class Tracer:
    def __init__(self, db_url: str, workdir: Path) -> None:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        from partnermon.config import load_settings
        from partnermon.feedback import links, rate_limits
        from partnermon.feedback import responses
        from partnermon.runtime import Runtime
        from partnermon.web import context, feedback_form, security

        instance = workdir / "instance-trace"
        instance.mkdir(parents=True, exist_ok=True)
        settings = load_settings({"PARTNERMON_DATABASE_URL": db_url, "PARTNERMON_SECRET_KEY": secrets.token_urlsafe(32),
                                  "PARTNERMON_INSTANCE_DIR": str(instance)})
        runtime = Runtime.from_settings(settings)
        t = self.timers = Timers()
        t.order.append("whole request (WSGI call)")
        # Registered by reference in init_app: wrapped before the app is built.
        t.patch(security, "_guard", "before_request: security._guard (all of it)")
        t.patch(security, "_load_user", "  _guard → _load_user (session cookie)")
        t.patch(security, "_check_csrf", "  _guard → _check_csrf")
        t.patch(security, "_first_run", "  _guard → _first_run")
        t.patch(security, "any_practice_exists", "    _first_run → any_practice_exists (SQL)")
        t.order.append("view: feedback_form.submit (all of it)")
        t.patch(feedback_form, "_find", "  submit → _find")
        t.patch(rate_limits, "exceeded", "    _find → rate_limits.exceeded (SQL count)")
        t.patch(links, "find_by_token", "    _find → find_by_token (SQL)")
        t.patch(responses, "choosable_moments", "  submit → choosable_moments (SQL)")
        t.patch(responses, "parse_answers", "  submit → parse_answers")
        # The form's path: responses.answer (the claim, then the response added or changed); older code had
        # answer_live_link, claim_live_link and record_answers, and older still record_response.
        for name in ("answer", "_claim_by_token", "_record", "answer_live_link", "claim_live_link", "record_answers",
                     "record_response"):
            if hasattr(responses, name):
                t.patch(responses, name, f"  submit → {name}")
        t.patch(responses, "response_of", "  responses.response_of (SQL), every call")
        t.patch(Session, "flush", "  Session.flush, every call (the INSERT; autoflushes; commit's)")
        t.patch(Session, "refresh", "  Session.refresh (SQL), every call (record_response's)")
        try:  # follow-ups on a response (newer code): timed when the view calls them
            from partnermon import followups

            t.patch(followups, "open_for_response", "  submit → followups.open_for_response")
        except (ImportError, AttributeError):
            pass
        t.patch(Session, "commit", "  submit → session.commit")
        t.patch(feedback_form, "url_for", "  submit → url_for")
        t.patch(feedback_form, "redirect", "  submit → redirect")
        t.patch(security, "_security_headers", "after_request: security._security_headers")
        t.patch(context, "_close_session", "teardown: context._close_session (rollback, close)")
        self._sql_wall: dict[str, float] = defaultdict(float)
        self._sql_calls: dict[str, int] = defaultdict(int)
        self._ping = [0, 0.0]

        from partnermon.app import create_app

        self.app = create_app(runtime=runtime)
        self.app.view_functions["feedback_form.submit"] = t.wrap("view: feedback_form.submit (all of it)",
                                                                 self.app.view_functions["feedback_form.submit"])
        engine = runtime.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, params: Any, context_: Any, many: bool) -> None:
            conn.info.setdefault("bench_t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, params: Any, context_: Any, many: bool) -> None:
            started = conn.info["bench_t0"].pop()
            key = _statement_key(statement)
            self._sql_wall[key] += time.perf_counter() - started
            self._sql_calls[key] += 1

        dialect = engine.dialect
        do_ping = dialect.do_ping

        def timed_ping(dbapi_connection: Any) -> Any:
            started = time.perf_counter()
            try:
                return do_ping(dbapi_connection)
            finally:
                self._ping[0] += 1
                self._ping[1] += time.perf_counter() - started

        dialect.do_ping = timed_ping  # type: ignore[method-assign]
        self.runtime = runtime

    def _call(self, environ: dict[str, Any]) -> str:
        status: list[str] = []

        def start_response(s: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
            status.append(s)
            return lambda _data: None

        body = self.app(environ, start_response)
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
        return status[0]

    def _measure(self, environs: list[dict[str, Any]], expect: str) -> dict[str, Any]:
        self.timers.reset()
        self._sql_wall.clear()
        self._sql_calls.clear()
        self._ping = [0, 0.0]
        name = "whole request (WSGI call)"
        walls = []
        bad = 0
        for environ in environs:
            w0, c0 = time.perf_counter(), time.process_time()
            status = self._call(environ)
            walls.append(time.perf_counter() - w0)
            self.timers.wall[name] += walls[-1]
            self.timers.cpu[name] += time.process_time() - c0
            self.timers.calls[name] += 1
            bad += not status.startswith(expect)
        n = len(environs)
        walls.sort()
        sql = sorted(((k, self._sql_calls[k], self._sql_wall[k]) for k in self._sql_calls), key=lambda x: -x[2])
        return {
            "requests": n,
            "not_" + expect: bad,
            "wall_ms_p50": r(1000 * walls[n // 2], 3),
            "parts": self.timers.report(n),
            "sql_statements_per_request": r(sum(self._sql_calls.values()) / n, 2),
            "sql_wall_ms_per_request": r(1000 * sum(self._sql_wall.values()) / n, 3),
            "pool_pre_ping": {"per_request": r(self._ping[0] / n, 2), "wall_ms_per_request": r(1000 * self._ping[1] / n, 3)},
            "sql": [{"statement": k, "per_request": r(c / n, 2), "wall_ms_per_request": r(1000 * w / n, 3),
                     "wall_ms_each": r(1000 * w / c, 3)} for k, c, w in sql],
        }

    def run(self, links: list[tuple[str, str]], warm: int) -> dict[str, Any]:
        from werkzeug.test import EnvironBuilder

        def post(token: str, body: str) -> dict[str, Any]:
            builder = EnvironBuilder(path=f"/f/{token}", method="POST", data=body.encode(),
                                     content_type="application/x-www-form-urlencoded",
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
            try:
                return builder.get_environ()
            finally:
                builder.close()

        def get(path: str) -> dict[str, Any]:
            return EnvironBuilder(path=path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()

        posts = [post(t, b) for t, b in links]
        for environ in posts[:warm]:
            self._call(environ)
        for _ in range(warm):
            self._call(get("/healthz"))
        n = len(posts) - warm
        out = {
            "note": "in-process, one request at a time (no server, no concurrency); times per request, "
                    "inclusive of what each part calls; wall − cpu ≈ waiting for PostgreSQL",
            "submission": self._measure(posts[warm:], "303"),
            "healthz": self._measure([get("/healthz") for _ in range(n)], "200"),
        }
        self.runtime.close()
        return out
