"""Reading py-spy's raw (collapsed) stacks of gunicorn's workers: CPU samples by part of the request.

Used by ``bench/feedback_submit.py --profile-dir``. py-spy leaves out the samples where it sees a thread
idle; what remains is a worker on a core, waiting for one, or blocked inside psycopg's wait for
PostgreSQL's answer (which py-spy does not reliably see as idle). So the shares mix CPU with database
round trips: on this path they rank the parts by the time they hold a worker. For CPU alone, part by
part, use ``--trace`` (in-process, process CPU time).

Two views of the same samples:

- ``by_part``: the innermost frame (scanning from the leaf up) that names a part of the request path, e.g.
  everything under ``rate_limits.exceeded`` is "rate_limits.exceeded" whether it is SQLAlchemy building
  the statement or psycopg reading the answer; the pool's checkout and pre-ping are their own part.
- ``by_layer``: the package of the leaf frame, i.e. which code literally burns the CPU.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

# (part, function name, file fragment) — checked in this order for each frame, from the leaf up.
PARTS: list[tuple[str, str, str]] = [
    ("pool checkout + pre-ping", "_checkout", "sqlalchemy/pool/"),
    ("pool checkout + pre-ping", "_do_ping_w_event", "sqlalchemy/"),
    ("_first_run → any_practice_exists", "any_practice_exists", "partnermon/practices/service.py"),
    ("_find → rate_limits.exceeded", "exceeded", "partnermon/feedback/rate_limits.py"),
    ("_find → find_by_token", "find_by_token", "partnermon/feedback/links.py"),
    ("submit → choosable_moments", "choosable_moments", "partnermon/feedback/responses.py"),
    ("submit → parse_answers", "parse_answers", "partnermon/feedback/responses.py"),
    ("responses.response_of (every call)", "response_of", "partnermon/feedback/responses.py"),
    ("Session.refresh (record_response's)", "refresh", "sqlalchemy/orm/session.py"),
    ("record_response → session.flush (INSERT)", "flush", "sqlalchemy/orm/session.py"),
    ("record_response → UPDATE and the rest", "record_response", "partnermon/feedback/responses.py"),
    ("answer_live_link → claim and first response", "answer_live_link", "partnermon/feedback/responses.py"),
    ("record_answers → INSERT or the edit", "record_answers", "partnermon/feedback/responses.py"),
    ("claim_live_link → the claim", "claim_live_link", "partnermon/feedback/responses.py"),
    ("answer → the claim (UPDATE … RETURNING)", "_claim", "partnermon/feedback/responses.py"),
    ("answer → the response added or changed", "_record", "partnermon/feedback/responses.py"),
    ("answer → the rest", "answer", "partnermon/feedback/responses.py"),
    ("submit → session.commit", "commit", "sqlalchemy/orm/session.py"),
    ("healthz → SELECT 1", "healthz", "partnermon/web/health.py"),
    ("teardown: close the session", "_close_session", "partnermon/web/context.py"),
    ("after_request: security headers", "_security_headers", "partnermon/web/security.py"),
    ("submit → redirect + url_for", "url_for", "flask/"),
    ("submit → redirect + url_for", "redirect", "flask/"),
    ("submit → the rest of the view (form parsing …)", "submit", "partnermon/web/feedback_form.py"),
    ("before_request: _guard (rest)", "_guard", "partnermon/web/security.py"),
    ("Flask/Werkzeug: request context, routing, response", "wsgi_app", "flask/app.py"),
    ("Flask/Werkzeug: request context, routing, response", "__call__", "flask/app.py"),
    ("gunicorn: accept, parse HTTP, write the response", "handle", "gunicorn/workers/"),
    ("gunicorn: accept, parse HTTP, write the response", "accept", "gunicorn/workers/"),
    ("gunicorn: worker loop", "run_for_one", "gunicorn/workers/"),
    ("gunicorn: worker loop", "run_for_multiple", "gunicorn/workers/"),
    ("gunicorn: worker loop", "run", "gunicorn/workers/"),
]
LAYERS: list[tuple[str, str]] = [
    ("sqlalchemy/orm/", "SQLAlchemy ORM (sessions, identity map, loading, unit of work)"),
    ("sqlalchemy/sql/", "SQLAlchemy SQL (building statements, cache keys, compiling)"),
    ("sqlalchemy/engine/", "SQLAlchemy Core engine (execution, results)"),
    ("sqlalchemy/pool/", "SQLAlchemy pool"),
    ("sqlalchemy/", "SQLAlchemy (other)"),
    ("psycopg", "psycopg (driver, waiting for and reading answers)"),
    ("werkzeug/", "Werkzeug"),
    ("flask/", "Flask"),
    ("jinja2/", "Jinja2"),
    ("gunicorn/", "gunicorn"),
    ("partnermon/", "partnermon's own code"),
]
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*):\d+\)$")


def _frames(line: str) -> tuple[list[tuple[str, str]], int] | None:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = []
    for part in stack.split(";"):
        m = _FRAME.match(part.strip())
        if m:
            frames.append((m.group("func"), m.group("file")))
    return frames, int(count)


def summarize(path: Path) -> dict[str, Any]:
    parts: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        parsed = _frames(line)
        if parsed is None:
            continue
        frames, count = parsed
        files = [f for _, f in frames]
        if not any("gunicorn/workers/" in f for f in files):
            continue  # the master (arbiter) process, not a worker
        total += count
        part = "other"
        for func, file in reversed(frames):
            hit = next((name for name, fn, frag in PARTS if fn == func and frag in file), None)
            if hit:
                part = hit
                break
        parts[part] += count
        leaf = frames[-1][1] if frames else ""
        layers[next((label for frag, label in LAYERS if frag in leaf), "Python standard library and other")] += count
    if not total:
        return {"samples": 0}
    share = lambda c: round(100 * c / total, 1)  # noqa: E731
    return {"samples": total,
            "by_part_percent": {k: share(v) for k, v in parts.most_common()},
            "by_layer_percent": {k: share(v) for k, v in layers.most_common()}}
