"""Processes started outside the CLI runner: gunicorn and ``partnermon worker`` refuse a setting they cannot use
or a database they cannot reach at start, in one line and a non-zero exit, and stop; they do not keep booting
workers or logging tracebacks. Real subprocesses, each waited for with a timeout (never a sleep)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import gunicorn
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNREACHABLE = "postgresql://partner:hunter2secret@127.0.0.1:1/partnermon"
# Long enough for a loaded machine to import the app twice; gunicorn restarting workers never ends at all.
WAIT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERMON_")}
    env.update(PARTNERMON_INSTANCE_DIR=str(tmp_path / "instance"), PARTNERMON_SECRET_KEY="test-secret-key", **settings)
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run until it exits; one still running after WAIT_SECONDS fails the test (and is killed with its workers)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{cmd[0]} was still running after {WAIT_SECONDS} s; its log ends:\n{err[-2000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _gunicorn(tmp_path: Path, *options: str) -> list[str]:
    cmd = [str(BIN / "gunicorn"), *options]
    if gunicorn.version_info >= (23,):  # its control socket would go to ~/.gunicorn otherwise
        cmd += ["--control-socket", str(tmp_path / "gunicorn.ctl")]
    return cmd + ["-b", f"127.0.0.1:{_free_port()}", "wsgi:app"]


def _our_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("partnermon: ")]


@pytest.mark.parametrize("settings, cause", [
    ({"PARTNERMON_DATABASE_URL": UNREACHABLE}, "PARTNERMON_DATABASE_URL points at 127.0.0.1:1 but the database "
                                               "could not be reached"),
    ({"PARTNERMON_DATABASE_URL": "postgresql://h:abc/db"}, "PARTNERMON_DATABASE_URL 'postgresql://h:abc/db' is not"),
    ({"PARTNERMON_SMTP_URL": "smtp://h:abc"}, "PARTNERMON_SMTP_URL 'smtp://h:abc' has a host or port"),
    ({}, "the database schema is missing or out of date. Run `partnermon init-db` first."),
], ids=["database-unreachable", "bad-database-url", "bad-smtp-url", "schema-missing"])
def test_gunicorn_stops_at_start_with_one_line_naming_the_cause(tmp_path, settings, cause):
    result = _run(_gunicorn(tmp_path, "-w", "2"), _env(tmp_path, **settings))
    assert result.returncode == 3  # gunicorn's "worker failed to boot"
    assert _our_lines(result.stderr) == [_our_lines(result.stderr)[0]] and cause in result.stderr
    assert "hunter2secret" not in result.stderr and "Traceback" not in result.stderr
    # Checked in gunicorn's master (gunicorn.conf.py): it neither listened nor booted a worker.
    assert "Booting worker" not in result.stderr and "Listening at" not in result.stderr


def test_a_gunicorn_worker_that_cannot_start_stops_gunicorn_without_its_own_config(tmp_path):
    """Run with another config file than ours, the check happens in the worker (wsgi.py); its exit status
    still stops gunicorn rather than having it boot the worker again, about once a second, forever."""
    (tmp_path / "other.conf.py").write_text("loglevel = 'info'\n")
    cmd = _gunicorn(tmp_path, "-c", str(tmp_path / "other.conf.py"), "-w", "1")
    result = _run(cmd, _env(tmp_path, PARTNERMON_DATABASE_URL=UNREACHABLE))
    assert result.returncode == 3
    assert len(_our_lines(result.stderr)) == 1 and "127.0.0.1:1" in _our_lines(result.stderr)[0]
    assert result.stderr.count("Booting worker") == 1 and "Worker failed to boot" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_with_an_smtp_url_it_cannot_use_refuses_to_start(tmp_path):
    # It used to start, send nothing and log a traceback every pass, for ever.
    result = _run([str(BIN / "partnermon"), "worker"], _env(tmp_path, PARTNERMON_SMTP_URL="smtp://h:abc"))
    assert result.returncode == 1
    assert result.stderr == ("partnermon: PARTNERMON_SMTP_URL 'smtp://h:abc' has a host or port that cannot be used; "
                             "write it like smtp://user:pass@host:587?starttls=1 or smtps://host:465.\n")
