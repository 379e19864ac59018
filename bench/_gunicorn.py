"""The server side of bench/feedback_submit.py: gunicorn started and stopped as a subprocess, the CPU its
processes use (from /proc), and a fingerprint of the code it serves."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _readings import log

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def user_system_seconds(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process from /proc/<pid>/stat: system time here is mostly the socket calls."""
    from _readings import CLK_TCK

    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(found)


def _has_control_socket(exe: Path) -> bool:
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    return "--control-socket" in out.stdout


def app_source(app_dir: str | None) -> dict[str, Any]:
    """Which code was measured: the git HEAD, and a fingerprint of the partnermon/ being served (the
    working tree changes while people work; two runs with the same fingerprint measured the same code)."""
    import hashlib

    base = Path(app_dir).resolve() if app_dir else ROOT
    digest = hashlib.sha256()
    for path in sorted((base / "partnermon").rglob("*.py")):
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    out: dict[str, Any] = {"directory": str(base), "partnermon_sha256": digest.hexdigest()[:16]}
    try:
        out["git_head"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                         text=True, check=True).stdout.strip()
        if not app_dir:
            status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "partnermon"],
                                    capture_output=True, text=True, check=True).stdout
            out["partnermon_files_changed_since_head"] = len(status.splitlines())
    except (OSError, subprocess.CalledProcessError):
        pass
    return out


class Gunicorn:
    """``gunicorn -w W [-k gthread --threads T] -b 127.0.0.1:PORT wsgi:app`` with the app's settings in its
    environment, started from the repository root and stopped with SIGTERM."""

    def __init__(self, db_url: str, port: int, workers: int, threads: int, workdir: Path,
                 app_dir: str | None) -> None:
        self.port, self.workers, self.threads = port, workers, threads
        exe = Path(sys.executable).parent / "gunicorn"
        if not exe.exists():
            exe = ROOT / ".venv" / "bin" / "gunicorn"
        self.cmd = [str(exe), "-w", str(workers)]
        if threads > 1:
            self.cmd += ["-k", "gthread", "--threads", str(threads)]
        # gunicorn ≥ 23 opens a control socket, by default in ~/.gunicorn: kept in the bench's folder instead,
        # so that two servers never share one (it plays no part in serving requests).
        self.cmd += ["--control-socket", str(workdir / f"gunicorn-{threads}.ctl")] if _has_control_socket(exe) else []
        self.cmd += ["-b", f"127.0.0.1:{port}", "wsgi:app"]
        instance = workdir / f"instance-{threads}"
        instance.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERMON_")}
        self.env.update(PARTNERMON_DATABASE_URL=db_url, PARTNERMON_SECRET_KEY=secrets.token_urlsafe(32),
                        PARTNERMON_INSTANCE_DIR=str(instance), PARTNERMON_BASE_URL=f"http://127.0.0.1:{port}")
        # gunicorn puts its working directory first on sys.path: a copy holding wsgi.py and a changed
        # partnermon/ is measured by starting it there.
        self.cwd = str(Path(app_dir).resolve()) if app_dir else str(ROOT)
        self.logfile = workdir / f"gunicorn-{threads}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.worker_pids: list[int] = []

    @property
    def label(self) -> str:
        return f"{self.workers} sync workers" if self.threads == 1 else \
            f"{self.workers} gthread workers × {self.threads} threads"

    def __enter__(self) -> "Gunicorn":
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            return self._started()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _started(self) -> "Gunicorn":
        assert self.proc is not None
        deadline = time.monotonic() + 60
        while True:
            # A worker that cannot build the app exits, and the master boots another, forever: give up early.
            crashed = self.logfile.read_text(errors="replace").count("exited with code") >= 3
            if self.proc.poll() is not None or time.monotonic() > deadline or crashed:
                raise RuntimeError(f"gunicorn did not start; its log:\n{self.logfile.read_text()[-3000:]}")
            if self._healthy() and len(children_of(self.proc.pid)) >= self.workers:
                break
            time.sleep(0.1)
        # Every worker answers (each builds the app on its own): a few requests reach both.
        for _ in range(20):
            self._healthy()
        self.worker_pids = children_of(self.proc.pid)
        return self

    def _healthy(self) -> bool:
        import http.client

        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def workers_cpu(self) -> tuple[float, float, list[int]]:
        """(user, system) CPU seconds of the workers, and their pids."""
        pids = children_of(self.pid)
        user = system = 0.0
        for pid in pids:
            try:
                u, s = user_system_seconds(pid)
            except OSError:
                continue
            user += u
            system += s
        return user, system, pids

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text_log = self.logfile.read_text(errors="replace")
        problems = [line[:300] for line in text_log.splitlines()
                    if "[ERROR]" in line or "[CRITICAL]" in line or "Traceback" in line]
        if problems:
            log(f"gunicorn ({self.label}) logged {len(problems)} error lines; first ones:\n  " + "\n  ".join(problems[:8]))

    def version(self) -> str:
        from importlib.metadata import version

        return version("gunicorn")
