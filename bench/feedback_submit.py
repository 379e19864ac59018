"""Client feedback submissions per second, and their latency, under gunicorn on PostgreSQL (see bench/README.md).

    .venv/bin/python bench/feedback_submit.py [--seconds 30] [--concurrency 8] [--server-threads 1]
        [--rate 300] [--database-url URL] [--keep-database] [--quick]

Starts ``gunicorn -w 2 wsgi:app`` (sync workers, as the README tells people to run it) on a fresh
PostgreSQL database, and drives it from a load generator in its own process (bench/_http_load.py: asyncio,
raw HTTP/1.1) on loopback. For each concurrency C:

1. the ceiling: ``GET /healthz`` (the app's cheapest request that still reaches the database) from C
   connections in a closed loop for ``--seconds``;
2. submissions: ``POST /f/<token>`` with a client's answers, each to a different link, from C connections in
   a closed loop for ``--seconds`` (links are seeded just before, sized from the ceiling so they never run out).

Then, once per server, submissions in an open loop at ``--rate`` per second (Poisson arrivals; latency counted
from each arrival, so queueing is included): the latency a client sees at the target load. After each
submission run the database is checked: one feedback_response row per 303, never two for one link, answers
stored as posted. Prints one JSON document on stdout; progress on stderr. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_SUBMISSIONS_PER_S = 300.0
TARGET_P99_MS = 150.0

from _bench_db import BenchDatabase  # noqa: E402
from _feedback_db import Batch, FeedbackFixture, compare_with_service, log_seed, prepare, seed_links, verify  # noqa: E402
from _readings import (  # noqa: E402
    cpu_model, log, r, utcnow, wait_for_quiet,
)


from _gunicorn import Gunicorn, app_source, free_port  # noqa: E402
from _window import line_for, run_load, summarize  # noqa: E402




class Profiler:
    """py-spy on gunicorn (master and workers, ``--subprocesses``) during each window: raw collapsed stacks
    of the samples where py-spy did not see a worker idle, summarized by bench/_pyspy.py (which says what
    those samples include)."""

    def __init__(self, directory: str, exe: str | None, seconds: float) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.exe = exe or shutil.which("py-spy")
        if not self.exe:
            raise SystemExit("bench: --profile-dir needs py-spy (pip install py-spy in any venv; or give --py-spy PATH)")
        self.seconds = seconds
        self.label = ""

    def path(self) -> Path:
        return self.dir / f"{self.label}.txt"

    def start(self, server: Gunicorn, spec: dict[str, Any]) -> subprocess.Popen[bytes] | None:
        if not self.label:
            return None
        return subprocess.Popen([self.exe, "record", "--pid", str(server.pid), "--subprocesses",
                                 "--duration", str(max(1, int(self.seconds) - 1)), "--rate", "100", "--format", "raw",
                                 "--nonblocking", "--output", str(self.path())],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def summary(self) -> dict[str, Any]:
        from _pyspy import summarize

        path = self.path()
        return {"file": str(path)} | summarize(path) if path.exists() else {"file": None}


# --- the matrix --------------------------------------------------------------------------------------

def spec_for(args: argparse.Namespace, port: int, concurrency: int, *, path: str | None = None,
             batch_file: Path | None = None, rate: float | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"host": "127.0.0.1", "port": port, "warmup": args.warmup, "seconds": args.seconds,
                            "concurrency": concurrency, "timeout": args.timeout, "rate": rate,
                            "arrivals": args.arrivals, "seed": 7}
    if path is not None:
        spec.update(target="get", path=path)
    else:
        spec.update(target="post", requests_file=str(batch_file))
    return spec


def write_batch(batch: Batch, workdir: Path) -> Path:
    from _feedback_db import encode

    path = workdir / f"{batch.label}.tsv"
    with open(path, "w", encoding="ascii") as fh:
        for token, form in zip(batch.tokens, batch.forms):
            fh.write(f"{token}\t{encode(form)}\n")
    return path


class Bench:
    def __init__(self, args: argparse.Namespace, db: BenchDatabase, engine: Any, fx: FeedbackFixture,
                 workdir: Path) -> None:
        self.args, self.db, self.engine, self.fx, self.workdir = args, db, engine, fx, workdir
        self.batches = 0
        self.seeding: list[dict[str, Any]] = []
        self.seed_check: dict[str, Any] | None = None
        self.checks: list[dict[str, Any]] = []
        self.profiler = Profiler(args.profile_dir, args.py_spy, args.seconds) if args.profile_dir else None

    def links(self, n: int) -> tuple[Batch, Path]:
        self.batches += 1
        batch = seed_links(self.engine, self.fx, n, f"b{self.batches}", seed=self.batches)
        log_seed(batch)
        self.seeding.append({"links": n, "seconds": r(batch.seconds, 2)})
        if self.seed_check is None:
            self.seed_check = compare_with_service(self.engine, self.fx, batch)
            if not self.seed_check["identical"]:
                log(f"WARNING: bulk-inserted links differ from the service's: {self.seed_check}")
        return batch, write_batch(batch, self.workdir)

    def profile_label(self, server: Gunicorn, label: str) -> None:
        if self.profiler is not None:
            self.profiler.label = f"threads{server.threads}-{label.replace(' ', '_').replace('/', '_per_')}"

    def quiet(self, what: str) -> float:
        return r(wait_for_quiet(self.args.wait_for_idle, what), 2)  # type: ignore[return-value]

    def submissions(self, server: Gunicorn, concurrency: int, n_links: int, label: str,
                    rate: float | None = None) -> dict[str, Any]:
        batch, path = self.links(n_links)
        background = self.quiet(label)
        log(f"{label}: {f'open loop at {rate:g}/s' if rate else 'closed loop'}, {concurrency} connections, "
            f"{self.args.seconds:g} s")
        self.profile_label(server, label)
        result = run_load(spec_for(self.args, server.port, concurrency, batch_file=path, rate=rate), server,
                          self.db, self.engine, self.workdir, self.profiler)
        out = {"background_busy_cores_before": background}
        out |= summarize(result, "303", "submissions_open_loop" if rate else "submissions")
        if self.profiler is not None:
            out["cpu_profile"] = self.profiler.summary()
        if rate:
            out["offered_per_s"] = rate
            out["arrivals"] = self.args.arrivals
        check = verify(self.engine, batch, result["total_status"].get("303", 0), result["unknown_outcome"],
                       result["requests_sent"])
        check["window"] = label
        out["check"] = check
        self.checks.append(check)
        if result["ran_out_in"] == "window":
            log(f"WARNING {label}: the links ran out inside the window; the rate is a lower bound (--links)")
        log(line_for(label, out) + ("" if check["ok"] else f"; CHECK FAILED {check}"))
        return out

    def ceiling(self, server: Gunicorn, concurrency: int) -> dict[str, Any]:
        label = f"ceiling c{concurrency}"
        background = self.quiet(label)
        log(f"{label}: GET /healthz, closed loop, {concurrency} connections, {self.args.seconds:g} s")
        self.profile_label(server, label)
        result = run_load(spec_for(self.args, server.port, concurrency, path="/healthz"), server, self.db,
                          self.engine, self.workdir, self.profiler)
        out = {"background_busy_cores_before": background} | summarize(result, "200", "ceiling")
        if self.profiler is not None:
            out["cpu_profile"] = self.profiler.summary()
        log(line_for(label, out))
        return out

    def links_for(self, rate_per_s: float) -> int:
        if self.args.links:
            return self.args.links
        return max(1000, math.ceil(rate_per_s * (self.args.warmup + self.args.seconds + 3) * 1.15) + 200)

    def server_case(self, server: Gunicorn) -> dict[str, Any]:
        case: dict[str, Any] = {"server": {"label": server.label, "workers": server.workers,
                                           "worker_class": "sync" if server.threads == 1 else "gthread",
                                           "threads": server.threads, "command": " ".join(
                                               ["gunicorn"] + server.cmd[1:]), "gunicorn": server.version()},
                                "runs": []}
        for concurrency in self.args.concurrency:
            ceiling = self.ceiling(server, concurrency)
            # The submissions never outrun the ceiling: links for its rate over the whole run cannot run out.
            subs = self.submissions(server, concurrency, self.links_for(ceiling["requests_per_s"] or 2000),
                                    f"submissions c{concurrency}")
            ratio = r(subs["requests_per_s"] / ceiling["requests_per_s"], 3) if ceiling["requests_per_s"] else None
            log(f"c{concurrency}: submissions/ceiling = {ratio}")
            case["runs"].append({"concurrency": concurrency, "ceiling": ceiling, "submissions": subs,
                                 "ratio_submissions_to_ceiling": ratio})
        case["open_loop"] = [self.submissions(server, self.args.open_connections, self.links_for(rate * 1.2),
                                              f"open loop {rate:g}/s", rate=rate) for rate in self.args.rate if rate]
        return case


def meets_target(cases: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """The issue's target for 2 sync workers on 2 cores: ≥ 300 submissions/s and p99 < 150 ms."""
    head = next((c for c in cases if c["server"]["threads"] == 1), cases[0] if cases else None)
    if head is None or not head["runs"]:
        return {}
    run = head["runs"][0]
    subs = run["submissions"]
    out: dict[str, Any] = {
        "headline": f"{head['server']['label']}, closed loop with {run['concurrency']} connections",
        "submissions_per_s": subs["requests_per_s"],
        "at_least_300_per_s": subs["requests_per_s"] >= TARGET_SUBMISSIONS_PER_S,
        "p99_ms": subs["latency_ms"]["p99"],
        "p99_under_150ms": subs["latency_ms"]["p99"] is not None and subs["latency_ms"]["p99"] < TARGET_P99_MS,
    }
    open_loop = next((o for o in head.get("open_loop", []) if o["offered_per_s"] == TARGET_SUBMISSIONS_PER_S), None)
    if open_loop:
        keeps_up = open_loop["requests_per_s"] >= 0.95 * open_loop["offered_per_s"]
        out[f"open_loop_at_{open_loop['offered_per_s']:g}_per_s"] = {
            "achieved_per_s": open_loop["requests_per_s"], "keeps_up": keeps_up,
            "p50_ms": open_loop["latency_ms"]["p50"], "p99_ms": open_loop["latency_ms"]["p99"],
            "p99_under_150ms": keeps_up and open_loop["latency_ms"]["p99"] is not None
            and open_loop["latency_ms"]["p99"] < TARGET_P99_MS}
    out["all"] = out["at_least_300_per_s"] and out["p99_under_150ms"] and all(
        v["p99_under_150ms"] for k, v in out.items() if k.startswith("open_loop_at_"))
    return out


# --- in-process trace: where one submission's time goes ------------------------------------------------

def trace(db: BenchDatabase, engine: Any, fx: FeedbackFixture, n: int, workdir: Path) -> dict[str, Any]:
    """N submissions and N health checks through the WSGI app in this process, one at a time (no server,
    no concurrency): each request's wall time split by the parts of the POST path, and every SQL statement
    it sends with its round-trip time. The bench wraps the app's functions in this process only."""
    from _feedback_db import encode
    from _trace import Tracer

    tracer = Tracer(db.url, workdir)
    batch = seed_links(engine, fx, n + 50, "trace", seed=999)
    return tracer.run([(t, encode(f)) for t, f in zip(batch.tokens, batch.forms)], warm=50)


# --- main --------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Feedback submissions/s and latency under gunicorn (prints JSON).")
    parser.add_argument("--seconds", type=float, default=None, help="measured window of each run (default 30; --quick 5)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of load before each window (default 5; --quick 2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8],
                        help="connections of the closed-loop runs (default 8); one ceiling and one submissions run each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn -w (default 2, the issue's)")
    parser.add_argument("--server-threads", type=int, nargs="+", default=[1],
                        help="1 = gunicorn's default sync workers; T > 1 = -k gthread --threads T (default 1)")
    parser.add_argument("--rate", type=float, nargs="+", default=[TARGET_SUBMISSIONS_PER_S],
                        help="open-loop runs at these submissions/s (default 300, the target; 0 = none)")
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson",
                        help="open-loop arrivals (default poisson: independent clients)")
    parser.add_argument("--open-connections", type=int, default=64,
                        help="connections the open-loop run may use at once (default 64)")
    parser.add_argument("--links", type=int, default=None, help="links per submissions run (default: sized from "
                                                                "the ceiling, so they never run out)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds (default 30)")
    parser.add_argument("--database-url", default=None,
                        help="a scratch PostgreSQL database (default: a fresh bench_<random>, dropped afterwards)")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database the bench created")
    parser.add_argument("--add-missing-columns", action="store_true",
                        help="stopgap: add model columns the migrations lack instead of stopping")
    parser.add_argument("--app-db-socket", metavar="DIR",
                        help="gunicorn reaches PostgreSQL through its Unix socket in DIR (e.g. /var/run/postgresql) "
                             "instead of TCP on 127.0.0.1 (a deployment variant)")
    parser.add_argument("--app-dir", metavar="DIR",
                        help="start gunicorn in DIR instead of the repository root: a copy holding wsgi.py, a changed "
                             "partnermon/ and templates/ (and probes/), to measure a change against the same bench")
    parser.add_argument("--profile-dir", help="record py-spy samples of gunicorn's workers during each window, keep "
                                              "the raw stacks here and summarize them in the report (adds some load)")
    parser.add_argument("--py-spy", help="py-spy executable (default: on PATH)")
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="also run N submissions in-process, one at a time, timing each part of the POST path "
                             "and each SQL statement (default 0: skip)")
    parser.add_argument("--trace-only", action="store_true", help="run only the in-process trace (no gunicorn)")
    parser.add_argument("--wait-for-idle", type=float, default=0.0, metavar="S",
                        help="before each window wait up to S s for the machine to be idle (default: don't)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 s windows, 2 s warm-up")
    args = parser.parse_args(argv)
    if args.trace_only and not args.trace:
        args.trace = 2000
    if args.seconds is None:
        args.seconds = 5.0 if args.quick else 30.0
    if args.warmup is None:
        args.warmup = 2.0 if args.quick else 5.0
    return args


def app_db_url(db: BenchDatabase, socket_dir: str | None) -> str:
    if not socket_dir:
        return db.url
    from sqlalchemy.engine import make_url

    url = make_url(db.url)
    return f"postgresql+psycopg://{url.username or 'postgres'}@/{url.database}?host={socket_dir}"


def postgres_info(engine: Any) -> dict[str, Any]:
    from sqlalchemy import text

    with engine.connect() as conn:
        settings = dict(conn.execute(text(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections')")).all())
        version = conn.execute(text("SHOW server_version")).scalar()
    return {"version": version, **settings}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # The bench makes the schema with the same partnermon that gunicorn serves (its migrations must match).
    sys.path.insert(0, str(Path(args.app_dir).resolve()) if args.app_dir else str(ROOT))
    from partnermon.db import make_engine

    started = time.monotonic()
    db = BenchDatabase(args.database_url)
    if not db.is_pg:
        raise SystemExit("bench: feedback_submit measures PostgreSQL; give a postgresql:// URL")
    workdir = Path(tempfile.mkdtemp(prefix="partnermon-feedback-bench-"))
    previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    port = free_port()
    report: dict[str, Any] = {
        "benchmark": "feedback_submit",
        "started_at": utcnow().isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "cpu_model": cpu_model()},
        "app_source": app_source(args.app_dir),
        "parameters": {"seconds": args.seconds, "warmup_seconds": args.warmup, "concurrency": args.concurrency,
                       "workers": args.workers, "server_threads": args.server_threads, "open_loop_rates": args.rate,
                       "arrivals": args.arrivals, "open_loop_connections": args.open_connections,
                       "timeout_seconds": args.timeout, "database_created_by_bench": bool(db.created_pg),
                       "app_dir": args.app_dir, "app_db_socket": args.app_db_socket},
    }
    try:
        engine = make_engine(db.url)
        fx = prepare(engine, f"http://127.0.0.1:{port}", args.add_missing_columns)
        report["postgresql"] = postgres_info(engine)
        bench = Bench(args, db, engine, fx, workdir)
        cases = []
        for threads in ([] if args.trace_only else args.server_threads):
            server = Gunicorn(app_db_url(db, args.app_db_socket), port, args.workers, threads, workdir, args.app_dir)
            log(f"starting {' '.join(server.cmd[1:])}")
            with server:
                log(f"gunicorn master {server.pid}, workers {server.worker_pids}")
                cases.append(bench.server_case(server))
        report["cases"] = cases
        report["meets_target"] = meets_target(cases, args)
        report["seeding"] = {"method": "bulk insert of feedback_request rows (see bench/README.md)",
                             "batches": bench.seeding, "compared_with_service": bench.seed_check}
        report["checks"] = {"all_ok": all(c["ok"] for c in bench.checks), "runs": bench.checks}
        if args.trace:
            background = wait_for_quiet(args.wait_for_idle, "trace")
            log(f"trace: {args.trace} submissions in-process, one at a time")
            report["trace"] = {"background_busy_cores_before": r(background, 2)} | trace(db, engine, fx, args.trace,
                                                                                         workdir)
        engine.dispose()
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        if args.keep_database:
            if db.created_pg:
                log(f"kept the database {db.url}")
        else:
            db.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
