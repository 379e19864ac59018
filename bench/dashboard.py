"""Dashboard latency on PostgreSQL: the home page's ranking, a partner's experience page, the Touchpoints page and
one touchpoint's page (see bench/README.md).

    .venv/bin/python bench/dashboard.py [--partners 40] [--touchpoints 300] [--months 12] [--responses 20000]
        [--requests 200] [--database-url URL] [--quick] [--baseline-ref REF [--batch 10]]

Seeds a practice with the demo generator at the asked scale (``partnermon.demo.generate``) on a fresh
PostgreSQL database, signs its owner in, and times each page through the whole Flask app in this process
(routing, sign-in check, the SQL, the formula, pygal, Jinja), one request at a time. In the same run, two
ceilings: ``/healthz`` (one ``SELECT 1`` through the same app: the floor any page pays) and the board's SQL
alone (the five aggregate queries a home page runs, without Python around them), so the figures say how much
of a page is the database and how much the rest. Prints one JSON document on stdout; progress on stderr.

With ``--baseline-ref REF`` (a commit, e.g. the main branch before a change) the same pages are timed for this
checkout and for REF in the same run: REF's files are exported to a temporary folder (``git archive``), each
side seeds its own database with its own code (the same seed and the same clock, so the same practice), runs in
a process of its own, and the two take turns in batches of ``--batch`` requests (``_baseline``). The output then
holds both sides' figures and, per page, the ratio of the p95s (this checkout ÷ REF). A page REF does not have
(it answers other than 200, as /touchpoints before issue 18) is timed on this checkout alone and listed under
``only_here`` with REF's status, without a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _bench_db import BenchDatabase, refuse_other_practices  # noqa: E402
from _readings import cpu_model, log, percentile, r  # noqa: E402

SLUG = "bench-dashboard"
TARGET_P95_MS = 300.0
TARGET_RATIO = 1.2
SCALE_OPTIONS = ("partners", "touchpoints", "months", "responses")


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


class Seeded:
    """A demo practice at the asked scale on a fresh database, its owner signed in to an app in this process."""

    def __init__(self, args: argparse.Namespace, now: datetime) -> None:
        from sqlalchemy import select, text
        from sqlalchemy.orm import Session

        from partnermon import schema
        from partnermon.app import create_app
        from partnermon.config import Settings
        from partnermon.db import make_engine, make_session_factory
        from partnermon.demo import generate
        from partnermon.models import Partner, Practice, Touchpoint
        from partnermon.runtime import Runtime
        from partnermon.scoring import board as board_
        from partnermon.scoring import periods

        self.now = now
        self.db = BenchDatabase(args.database_url)
        self.engine = make_engine(self.db.url)
        schema.upgrade(self.engine)
        with Session(self.engine) as session:
            refuse_other_practices(session, SLUG)
            if session.scalar(select(Practice).where(Practice.slug == SLUG)) is not None:
                raise SystemExit(f"bench: {SLUG} exists already; give the bench a fresh scratch database")
            seed_start = time.monotonic()
            made = generate(session, now, slug=SLUG, months=args.months, partners=args.partners,
                            touchpoints=args.touchpoints, responses=args.responses, progress=lambda m: log(f"seed: {m}"))
            session.commit()
            self.seeding = {"seconds": r(time.monotonic() - seed_start, 1), "partners": made.partners,
                            "touchpoints": made.touchpoints, "responses": made.responses,
                            "daily_rollups": made.daily_rollups, "hourly_rollups": made.hourly_rollups,
                            "incidents": made.incidents, "follow_ups": made.follow_ups}
        self.postgresql = None
        if self.db.is_pg:
            with self.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
                self.postgresql = conn.execute(text("SHOW server_version")).scalar()
        self.instance = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        runtime = Runtime(Settings(instance_dir=self.instance, database_url=self.db.url, secret_key="bench",
                                   base_url="http://127.0.0.1:8000"), self.engine, make_session_factory(self.engine))
        self.browser = create_app(runtime=runtime).test_client()
        with self.browser.session_transaction() as cookie:
            cookie["csrf"] = "bench-csrf-token"
        signed_in = self.browser.post("/sign-in", data={"email": made.owner_email, "password": made.owner_password,
                                                        "csrf_token": "bench-csrf-token"})
        assert signed_in.status_code == 302, "bench: the demo owner could not sign in"
        with Session(self.engine) as session:
            self.practice = session.scalars(select(Practice).where(Practice.slug == SLUG)).one()
            self.window = periods.rolling(now, self.practice.timezone)
            ranked = board_.build(session, now, self.practice, self.window).scores
            self.ranking = [s.partner.name for s in ranked]
            self.partner_ids = {s.partner.name: s.partner.id for s in ranked}
            self.last_month = periods.last_months(now, self.practice.timezone, 2)[0].key
            # Touchpoints by partner and name (ids may differ between sides); the one timed is the worst
            # partner's first with a web address, by name, as this checkout chooses it.
            self.touchpoints = {(partner, name): (partner_id, touchpoint_id) for partner, name, partner_id, touchpoint_id
                                in session.execute(select(Partner.name, Touchpoint.name, Partner.id, Touchpoint.id)
                                                   .join(Partner, Partner.id == Touchpoint.partner_id)
                                                   .where(Touchpoint.practice_id == self.practice.id,
                                                          Touchpoint.url.is_not(None)))}
            self.touchpoint = min((key for key in self.touchpoints if key[0] == self.ranking[0]),
                                  default=min(self.touchpoints))

    def page(self, url: str) -> Callable[[], Any]:
        def get() -> None:
            response = self.browser.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return get

    def url(self, request: dict[str, Any]) -> str:
        """A page named the same way on both sides of a comparison (partners by name: ids may differ)."""
        if request["page"] == "partner":
            return f"/partners/{self.partner_ids[request['name']]}/experience"
        if request["page"] == "touchpoint":
            partner_id, touchpoint_id = self.touchpoints[tuple(request["name"])]
            return f"/partners/{partner_id}/touchpoints/{touchpoint_id}"
        if request["page"] == "touchpoints":
            return "/touchpoints"
        if request["page"] == "home" and request.get("period"):
            return f"/?period={request['period']}"
        return {"home": "/", "healthz": "/healthz"}[request["page"]]

    def close(self, keep: bool) -> None:
        self.engine.dispose()
        shutil.rmtree(self.instance, ignore_errors=True)
        if not keep:
            self.db.drop()


def measure_here(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """This checkout alone, in this process: the pages and the two ceilings."""
    from sqlalchemy.orm import Session

    from partnermon.scoring import measures

    seeded = Seeded(args, datetime.now(timezone.utc))
    try:
        report["seeding"] = seeded.seeding
        if seeded.postgresql:
            report["postgresql"] = seeded.postgresql
        worst, middle = seeded.ranking[0], seeded.ranking[len(seeded.ranking) // 2]

        def board_sql() -> None:
            with Session(seeded.engine) as session:
                chosen = [seeded.window.previous(), seeded.window]
                measures.feedback_counts(session, seeded.practice.id, chosen)
                measures.feedback_counts(session, seeded.practice.id, [seeded.window], verified=False)
                measures.probe_counts(session, seeded.practice.id, chosen)
                measures.health_now(session, seeded.now, seeded.practice.id)

        n = args.requests
        report["pages"] = {label: timed(label, n, seeded.page(seeded.url(request)))
                           for label, request in pages(worst, middle, seeded.last_month, seeded.touchpoint).items()}
        report["ceilings"] = {"healthz": timed("/healthz", n, seeded.page("/healthz")),
                              "board_sql_only": timed("board SQL only", n, board_sql)}
        worst_p95 = max(v["p95_ms"] for v in report["pages"].values())
        report["meets_target"] = {"target_p95_ms": TARGET_P95_MS, "worst_page_p95_ms": worst_p95,
                                  "all_pages_p95_under_300ms": worst_p95 < TARGET_P95_MS}
    finally:
        seeded.close(args.keep_database)


def pages(worst: str, middle: str, last_month: str, touchpoint: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {
        "home_30_days": {"page": "home"},
        "home_last_month": {"page": "home", "period": last_month},
        "partner_worst": {"page": "partner", "name": worst},
        "partner_median": {"page": "partner", "name": middle},
        "touchpoints": {"page": "touchpoints"},
        "touchpoint_worst_partner": {"page": "touchpoint", "name": list(touchpoint)},
    }


def serve(args: argparse.Namespace) -> None:
    """One side of a comparison: seed, say what was made, then time the pages asked for on stdin, a JSON line
    each ({"page": …, "count": n}), answering with the times on stdout. Anything else printed goes to stderr."""
    import partnermon

    protocol: TextIO = sys.stdout
    sys.stdout = sys.stderr
    seeded = Seeded(args, datetime.fromisoformat(args.now))
    try:
        print(json.dumps({"seeding": seeded.seeding, "postgresql": seeded.postgresql, "ranking": seeded.ranking,
                          "last_month": seeded.last_month, "touchpoint": seeded.touchpoint,
                          "code": str(Path(partnermon.__file__).parent)}),
              file=protocol, flush=True)
        warmed: set[str] = set()
        for line in sys.stdin:
            request = json.loads(line)
            if request.get("check"):   # does this side have the page? (an older one may not)
                print(json.dumps({"status": seeded.browser.get(seeded.url(request)).status_code}), file=protocol,
                      flush=True)
                continue
            get = seeded.page(seeded.url(request))
            if seeded.url(request) not in warmed:
                get()
                warmed.add(seeded.url(request))
            times = []
            cpu_start = time.process_time()
            for _ in range(request["count"]):
                start = time.perf_counter()
                get()
                times.append((time.perf_counter() - start) * 1000)
            print(json.dumps({"ms": times, "cpu_ms": (time.process_time() - cpu_start) * 1000}), file=protocol,
                  flush=True)
    finally:
        seeded.close(args.keep_database)


def compare(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """This checkout against ``--baseline-ref``, each in a process of its own, taking turns."""
    from _baseline import Side, alternate, export_tree

    baseline_code, commit = export_tree(REPO, args.baseline_ref)
    now = datetime.now(timezone.utc).isoformat()
    options = ["--now", now, "--keep-database"] if args.keep_database else ["--now", now]
    for name in SCALE_OPTIONS:
        options += [f"--{name}", str(getattr(args, name))]
    if args.database_url:
        raise SystemExit("bench: --baseline-ref makes two fresh PostgreSQL databases; leave out --database-url")
    sides = []
    try:
        sides.append(Side("current", Path(__file__), REPO, options))
        sides.append(Side("baseline", Path(__file__), baseline_code, options))
        current, baseline = sides
        # The same partners on both sides, chosen by this checkout's ranking.
        ranking = current.hello["ranking"]
        asked = pages(ranking[0], ranking[len(ranking) // 2], current.hello["last_month"], current.hello["touchpoint"])
        asked["healthz"] = {"page": "healthz"}
        statuses = {label: {side.name: side.check(request) for side in sides} for label, request in asked.items()}
        for label, status in statuses.items():
            if status["current"] != 200:
                raise SystemExit(f"bench: {label} answers {status['current']} on this checkout")
        only_here = {label: request for label, request in asked.items() if statuses[label]["baseline"] != 200}
        asked = {label: request for label, request in asked.items() if label not in only_here}
        alternate(sides, asked, args.requests, args.batch)
        alternate([current], only_here, args.requests, args.batch)
        report["baseline"] = {"ref": args.baseline_ref, "commit": commit}
        report["seeding"] = {side.name: side.hello["seeding"] for side in sides}
        report["code"] = {side.name: side.hello["code"] for side in sides}
        report["postgresql"] = current.hello["postgresql"]
        report["pages"] = {label: {side.name: side.summary(label) for side in sides} for label in asked}
        report["only_here"] = {label: {"current": current.summary(label),
                                       "baseline_status": statuses[label]["baseline"]} for label in only_here}
        for label, both in report["pages"].items():
            both["p95_ratio"] = r(both["current"]["p95_ms"] / both["baseline"]["p95_ms"], 2)
        ratios = {label: v["p95_ratio"] for label, v in report["pages"].items() if label != "healthz"}
        report["meets_target"] = {"target_p95_ratio": TARGET_RATIO, "worst_p95_ratio": max(ratios.values()),
                                  "all_pages_within_ratio": max(ratios.values()) <= TARGET_RATIO}
        for label, v in report["pages"].items():
            log(f"{label}: p95 {v['current']['p95_ms']} ms here, {v['baseline']['p95_ms']} ms at "
                f"{commit[:8]} (× {v['p95_ratio']})")
        for label, v in report["only_here"].items():
            log(f"{label}: p95 {v['current']['p95_ms']} ms here; {commit[:8]} answers {v['baseline_status']}")
    finally:
        for side in sides:
            side.close()
        shutil.rmtree(baseline_code, ignore_errors=True)


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
    parser.add_argument("--baseline-ref", default=None, help="also time this commit's code, turn about (e.g. main)")
    parser.add_argument("--batch", type=int, default=10, help="requests a side makes before the other's turn")
    # A side of a comparison (started by --baseline-ref, not by hand): the code to import and the seed's clock.
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.partners, args.touchpoints, args.responses, args.requests = 8, 30, 2000, 30
    if args.serve:
        # This side's partnermon comes first on the path, ahead of the installed (editable) checkout.
        sys.path.insert(0, str(Path(args.code).resolve()))
        serve(args)
        return
    sys.path.insert(0, str(REPO))
    started = time.monotonic()
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()},
        "parameters": {k: v for k, v in vars(args).items() if k not in ("database_url", "serve", "code", "now")}
        | {"database": "sqlite" if (args.database_url or "").startswith("sqlite") else "postgresql"},
    }
    if args.baseline_ref:
        compare(args, report)
    else:
        measure_here(args, report)
    report["wall_seconds"] = r(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
