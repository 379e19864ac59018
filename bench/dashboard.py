"""Dashboard latency on PostgreSQL: the home page's ranking and a partner's experience page (see bench/README.md).

    .venv/bin/python bench/dashboard.py [--partners 40] [--touchpoints 300] [--months 12] [--responses 20000]
        [--requests 200] [--database-url URL] [--quick]

Seeds a practice with the demo generator at the asked scale (``partnermon.demo.generate``) on a fresh
PostgreSQL database, signs its owner in, and times each page through the whole Flask app in this process
(routing, sign-in check, the SQL, the formula, pygal, Jinja), one request at a time. In the same run, two
ceilings: ``/healthz`` (one ``SELECT 1`` through the same app: the floor any page pays) and the board's SQL
alone (the five aggregate queries a home page runs, without Python around them), so the figures say how much
of a page is the database and how much the rest. Prints one JSON document on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _bench_db import BenchDatabase, refuse_other_practices  # noqa: E402
from _readings import cpu_model, log, percentile, r  # noqa: E402

SLUG = "bench-dashboard"
TARGET_P95_MS = 300.0


def timed(label: str, count: int, call: Callable[[], Any]) -> dict[str, Any]:
    call()  # warm caches (compiled statements, templates) as a running server would have them
    times: list[float] = []
    cpu_start = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu_start) * 1000 / count
    times.sort()
    log(f"{label}: p50 {percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms")
    return {"requests": count, "p50_ms": r(percentile(times, 0.5), 1), "p95_ms": r(percentile(times, 0.95), 1),
            "max_ms": r(times[-1], 1), "mean_ms": r(sum(times) / count, 1), "python_cpu_ms_per_request": r(cpu, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=40)
    parser.add_argument("--touchpoints", type=int, default=300)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--database-url", default=None, help="a scratch PostgreSQL (or sqlite:///path) database")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smaller: 8 partners, 30 touchpoints, 2,000 responses, 30 requests")
    args = parser.parse_args()
    if args.quick:
        args.partners, args.touchpoints, args.responses, args.requests = 8, 30, 2000, 30

    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from partnermon import schema
    from partnermon.app import create_app
    from partnermon.config import Settings
    from partnermon.db import make_engine, make_session_factory
    from partnermon.demo import generate
    from partnermon.models import Practice
    from partnermon.runtime import Runtime
    from partnermon.scoring import measures, periods

    started = time.monotonic()
    db = BenchDatabase(args.database_url)
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()},
        "parameters": {k: v for k, v in vars(args).items() if k != "database_url"} | {"database": "postgresql" if db.is_pg else "sqlite"},
    }
    try:
        engine = make_engine(db.url)
        schema.upgrade(engine)
        now = datetime.now(timezone.utc)
        with Session(engine) as session:
            refuse_other_practices(session, SLUG)
            if session.scalar(select(Practice).where(Practice.slug == SLUG)) is not None:
                raise SystemExit(f"bench: {SLUG} exists already; give the bench a fresh scratch database")
            seed_start = time.monotonic()
            made = generate(session, now, slug=SLUG, months=args.months, partners=args.partners,
                            touchpoints=args.touchpoints, responses=args.responses, progress=lambda m: log(f"seed: {m}"))
            session.commit()
            report["seeding"] = {"seconds": r(time.monotonic() - seed_start, 1), "partners": made.partners,
                                 "touchpoints": made.touchpoints, "responses": made.responses,
                                 "daily_rollups": made.daily_rollups, "hourly_rollups": made.hourly_rollups,
                                 "incidents": made.incidents, "follow_ups": made.follow_ups}
        if db.is_pg:
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
                report["postgresql"] = conn.execute(text("SHOW server_version")).scalar()

        instance = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        runtime = Runtime(Settings(instance_dir=instance, database_url=db.url, secret_key="bench",
                                   base_url="http://127.0.0.1:8000"), engine, make_session_factory(engine))
        app = create_app(runtime=runtime)
        browser = app.test_client()
        with browser.session_transaction() as cookie:
            cookie["csrf"] = "bench-csrf-token"
        signed_in = browser.post("/sign-in", data={"email": made.owner_email, "password": made.owner_password,
                                                   "csrf_token": "bench-csrf-token"})
        assert signed_in.status_code == 302, "bench: the demo owner could not sign in"
        with Session(engine) as session:
            practice = session.scalars(select(Practice).where(Practice.slug == SLUG)).one()
            from partnermon.scoring import board as board_
            ranked = board_.build(session, now, practice, periods.rolling(now, practice.timezone)).scores
            worst, middle = ranked[0].partner.id, ranked[len(ranked) // 2].partner.id
            last_month = periods.last_months(now, practice.timezone, 2)[0]

        def page(url: str) -> Callable[[], Any]:
            def get() -> None:
                response = browser.get(url)
                assert response.status_code == 200, (url, response.status_code)
            return get

        def board_sql() -> None:
            with Session(engine) as session:
                window = periods.rolling(now, practice.timezone)
                chosen = [window.previous(), window]
                measures.feedback_counts(session, practice.id, chosen)
                measures.feedback_counts(session, practice.id, [window], verified=False)
                measures.probe_counts(session, practice.id, chosen)
                measures.health_now(session, now, practice.id)

        n = args.requests
        report["pages"] = {
            "home_30_days": timed("home (30 days)", n, page("/")),
            "home_last_month": timed("home (last month)", n, page(f"/?period={last_month.key}")),
            "partner_worst": timed("partner page (most damage)", n, page(f"/partners/{worst}/experience")),
            "partner_median": timed("partner page (median)", n, page(f"/partners/{middle}/experience")),
        }
        report["ceilings"] = {
            "healthz": timed("/healthz", n, page("/healthz")),
            "board_sql_only": timed("board SQL only", n, board_sql),
        }
        worst_p95 = max(v["p95_ms"] for v in report["pages"].values())
        report["meets_target"] = {"target_p95_ms": TARGET_P95_MS, "worst_page_p95_ms": worst_p95,
                                  "all_pages_p95_under_300ms": worst_p95 < TARGET_P95_MS}
    finally:
        if not args.keep_database:
            db.drop()
    report["wall_seconds"] = r(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
