"""One measured window of bench/feedback_submit.py: the load generator run in its own process, CPU and
machine readings at its window marks, and the summary of what it answered (see bench/README.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _bench_db import BenchDatabase, db_commits
from _gunicorn import Gunicorn
from _readings import cpu_seconds, machine_busy_seconds, percentile, postgres_cpu_seconds, r

if TYPE_CHECKING:
    from feedback_submit import Profiler

HERE = Path(__file__).resolve().parent
LOAD_SCRIPT = HERE / "_http_load.py"
CORES = os.cpu_count() or 1


# --- one measured window -----------------------------------------------------------------------------

class Snapshot:
    def __init__(self, server: Gunicorn, loadgen_pid: int, db: BenchDatabase, engine: Any) -> None:
        self.at = time.monotonic()
        self.workers_user, self.workers_system, self.worker_pids = server.workers_cpu()
        self.workers = self.workers_user + self.workers_system
        self.master = cpu_seconds(server.pid)
        self.loadgen = cpu_seconds(loadgen_pid)
        self.postgres = postgres_cpu_seconds(db.pg_name) if db.pg_name else 0.0
        self.machine = machine_busy_seconds()
        self.commits = db_commits(engine)


def run_load(spec: dict[str, Any], server: Gunicorn, db: BenchDatabase, engine: Any, workdir: Path,
             profiler: "Profiler | None" = None) -> dict[str, Any]:
    """Run the load generator; read CPU at its window marks; return its result and the readings."""
    errfile = workdir / "loadgen.err"
    with open(errfile, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(LOAD_SCRIPT), json.dumps(spec)], stdout=subprocess.PIPE,
                                stderr=err, text=True)
    assert proc.stdout is not None
    start = end = None
    result: dict[str, Any] | None = None
    spy = None
    try:
        for line in proc.stdout:
            if line.startswith("START"):
                start = Snapshot(server, proc.pid, db, engine)
                if profiler is not None:
                    spy = profiler.start(server, spec)
            elif line.startswith("END"):
                end = Snapshot(server, proc.pid, db, engine)
            elif line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
        proc.wait(timeout=spec["warmup"] + spec["seconds"] + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if spy is not None:
            spy.wait(timeout=60)
    if proc.returncode != 0 or result is None or start is None or end is None:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {errfile.read_text()[-2000:]}")
    elapsed = end.at - start.at
    workers = end.workers - start.workers
    result["readings"] = {
        "elapsed": elapsed,
        "workers_cpu": workers,
        "workers_system_cpu": end.workers_system - start.workers_system,
        "workers_restarted": start.worker_pids != end.worker_pids,
        "master_cpu": end.master - start.master,
        "loadgen_cpu": end.loadgen - start.loadgen,
        "postgres_cpu": end.postgres - start.postgres,
        "machine_busy_cores": (end.machine - start.machine) / elapsed,
        "other_busy_cores": ((end.machine - start.machine) - workers - (end.master - start.master)
                             - (end.loadgen - start.loadgen) - (end.postgres - start.postgres)) / elapsed,
        "db_transactions": None if start.commits is None else end.commits - start.commits,
    }
    return result


def summarize(result: dict[str, Any], ok_status: str, kind: str) -> dict[str, Any]:
    lat = result["latencies_ms"]
    rd = result["readings"]
    window = result["window_s"]
    ok = result["window_status"].get(ok_status, 0)
    answered = len(lat)

    def per_request(cpu: float) -> float | None:
        return r(1000 * cpu / answered, 2) if answered else None

    out = {
        "kind": kind,
        "requests_per_s": r(ok / window, 1),
        "ok": ok,
        "ok_status": int(ok_status),
        "statuses": result["window_status"],
        "errors": result["errors"],
        "latency_ms": {"p50": r(percentile(lat, 0.50), 1), "p90": r(percentile(lat, 0.90), 1),
                       "p99": r(percentile(lat, 0.99), 1), "p999": r(percentile(lat, 0.999), 1),
                       "max": r(lat[-1] if lat else None, 1), "mean": r(sum(lat) / len(lat) if lat else None, 1)},
        "cpu_seconds": {"gunicorn_workers": r(rd["workers_cpu"], 2),
                        "gunicorn_workers_system": r(rd["workers_system_cpu"], 2),
                        "gunicorn_master": r(rd["master_cpu"], 2),
                        "load_generator": r(rd["loadgen_cpu"], 2), "postgres_backends": r(rd["postgres_cpu"], 2)},
        "cpu_ms_per_request": {"gunicorn_workers": per_request(rd["workers_cpu"]),
                               "gunicorn_workers_system": per_request(rd["workers_system_cpu"]),
                               "postgres_backends": per_request(rd["postgres_cpu"]),
                               "load_generator": per_request(rd["loadgen_cpu"])},
        # What the machine could do if this server, its database backends and the load generator had every
        # core to themselves: cores ÷ their CPU per request. On a busy machine (other_busy_cores well above
        # 0) this is the steadier figure; on an idle one the measured rate should come close to it.
        "cpu_bound_per_s": r(CORES * answered / (rd["workers_cpu"] + rd["master_cpu"] + rd["postgres_cpu"]
                                                 + rd["loadgen_cpu"]), 1)
        if answered and rd["workers_cpu"] > 0 else None,
        "machine_busy_cores": r(rd["machine_busy_cores"], 2),
        "other_busy_cores": r(rd["other_busy_cores"], 2),
        # PostgreSQL 15 flushes a backend's commit/rollback counts only with other pending statistics (table
        # or WAL activity): read-only requests such as /healthz show about 0 here. Meaningful for writes.
        "db_transactions_per_request": r(rd["db_transactions"] / answered, 2)
        if answered and rd["db_transactions"] is not None and kind != "ceiling" else None,
        "connections_opened_per_request": r(result["window_connections_opened"] / answered, 2) if answered else None,
        "workers_restarted": rd["workers_restarted"],
        "window_s": r(window, 2),
    }
    if result.get("requests_available") is not None:
        out["links"] = {"available": result["requests_available"], "sent": result["requests_sent"],
                        "ran_out_in": result["ran_out_in"]}
    if result.get("max_client_backlog") is not None:
        out["max_client_backlog"] = result["max_client_backlog"]
        out["arrivals_not_sent_at_end"] = result["not_sent_at_end"]
    return out


def line_for(label: str, s: dict[str, Any]) -> str:
    lat = s["latency_ms"]
    cpu = s["cpu_ms_per_request"]
    bad = {k: v for k, v in s["statuses"].items() if k != str(s["ok_status"])}
    return (f"{label}: {s['requests_per_s']}/s, p50 {lat['p50']} ms p99 {lat['p99']} ms max {lat['max']} ms; "
            f"cpu/request: workers {cpu['gunicorn_workers']} ms, postgres {cpu['postgres_backends']} ms, "
            f"load generator {cpu['load_generator']} ms; busy cores {s['machine_busy_cores']}"
            + (f"; NOT OK: {bad}" if bad else ""))


# --- profiling (optional) ----------------------------------------------------------------------------
