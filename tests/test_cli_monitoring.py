"""``partnermon probe``, ``export`` and the probe options of ``add-touchpoint``."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.cli import main
from partnermon.models import Incident, Probe, ProbeResult
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<h1>Lodge a claim</h1><p>Call us on 0800 123 4567</p>"
        self.send_response(200 if self.path == "/" else 503)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def probe(*args: str) -> Any:
    return CliRunner().invoke(main, ["probe", *args])


def test_it_prints_an_up_result_as_json_and_exits_0(page_url: str) -> None:
    result = probe(f"{page_url}/", "--allow-private", "--check", "[STATUS] == 200",
                   "--check", '[BODY] contains "Lodge a claim"')
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["outcome"] == "up" and printed["status"] == 200
    assert printed["timings"]["total_ms"] > 0 and printed["failed_checks"] == []


def test_a_failed_soft_check_is_degraded_and_exits_1(page_url: str) -> None:
    result = probe(f"{page_url}/", "--allow-private", "--soft-check", '[BODY] contains "Chat with us"')
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["outcome"] == "degraded"


def test_a_failing_page_is_down_and_exits_2_naming_the_failed_check(page_url: str) -> None:
    result = probe(f"{page_url}/broken", "--allow-private", "--check", "[STATUS] == 200")
    assert result.exit_code == 2, result.output
    printed = json.loads(result.output)
    assert printed["outcome"] == "down" and "503" in printed["failed_checks"][0]


def test_a_private_address_is_blocked_without_allow_private_and_that_is_a_down_result() -> None:
    result = probe("http://10.0.0.5/")
    assert result.exit_code == 2, result.output
    printed = json.loads(result.output)
    assert printed["blocked"] is True and "private" in printed["error"]


@pytest.mark.parametrize("args, words", [
    (["http://x.test/", "--check", "[STATUS] =="], "position"),
    (["http://x.test/", "--kind", "telnet"], "telnet"),
    (["http://x.test/", "--timeout", "0"], "timeout"),
    (["http://x.test/", "--kind", "tls"], "https"),
    (["http://x.test/", "--option", "nonsense"], "KEY=VALUE"),
])
def test_bad_arguments_exit_64_with_one_line(args: list[str], words: str) -> None:
    result = probe(*args)
    assert result.exit_code == 64, result.output
    assert words in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("pattern", "words"), [("(?=x)", "uses a look-ahead (?=…), which partnermon does not"),
                                               (r"(a)\1", r"uses a backreference (\1)")])
def test_probe_refuses_a_pattern_re2_cannot_run_with_exit_64_and_one_line(pattern: str, words: str) -> None:
    result = probe("http://x.test/", "--check", f'[BODY] matches "{pattern}"')
    assert result.exit_code == 64, result.output
    assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_add_touchpoint_sets_up_its_probe(cli: Callable[..., Any], cast: Cast, session: Session) -> None:
    result = cli("add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance", "--name", "Portal login",
                 "--moment", "service", "--url", "https://portal.acme.test/login", "--kind", "content",
                 "--check", "[STATUS] == 200", "--check", '[BODY] contains "Sign in"', "--interval", "120")
    assert result.exit_code == 0, result.output
    assert "every 2 minutes" in result.output
    stored = session.scalars(select(Probe)).one()
    assert (stored.kind, stored.interval_seconds) == ("content", 120)
    assert stored.checks == ["[STATUS] == 200", '[BODY] contains "Sign in"']


def test_add_touchpoint_with_a_malformed_check_adds_nothing(cli: Callable[..., Any], cast: Cast,
                                                            session: Session) -> None:
    result = cli("add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance", "--name", "Portal",
                 "--moment", "service", "--url", "https://portal.acme.test/", "--check", "[STATUS] = 200")
    assert result.exit_code == 1
    assert "position" in result.output and "Traceback" not in result.output
    assert session.scalars(select(Probe)).all() == []
    assert [t.name for t in cast.acme.touchpoints] == ["Claims form"]


def test_add_touchpoint_with_a_pattern_re2_cannot_run_says_so_in_one_line(cli: Callable[..., Any], cast: Cast,
                                                                          session: Session) -> None:
    result = cli("add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance", "--name", "Portal",
                 "--moment", "service", "--url", "https://portal.acme.test/", "--check", '[BODY] matches "(a)\\1"')
    assert result.exit_code != 0
    assert "uses a backreference (\\1), which partnermon does not support" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert session.scalars(select(Probe)).all() == []


def test_probe_refuses_an_unsupported_pattern_in_one_line_from_a_real_process() -> None:
    # RE2 itself would print to the process's stderr (below Python, where CliRunner cannot see it).
    command = Path(sys.executable).with_name("partnermon")
    done = subprocess.run([str(command), "probe", "http://x.test/", "--check", '[BODY] matches "x(?<=y)"'],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 64 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "uses a look-behind (?<=…)" in done.stderr, done.stderr


def _results(session: Session, cast: Cast) -> None:
    session.add(ProbeResult(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, due_at=NOW,
                            started_at=NOW, outcome="down", status_code=500, total_ms=12.5,
                            error="=HYPERLINK(\"http://evil.test\")", failed_checks=["[STATUS] == 200 (was 500)"],
                            details={}, in_business_hours=True, in_maintenance=False))
    session.add(Incident(practice_id=cast.harbour.id, touchpoint_id=cast.acme_claims.id, kind="down",
                         started_at=NOW, first_error="HTTP 500", last_error="HTTP 500"))
    session.commit()


def test_export_writes_results_as_csv_with_formulas_neutralised(cli: Callable[..., Any], cast: Cast,
                                                                 session: Session) -> None:
    _results(session, cast)
    result = cli("export", "--practice", "harbour", "--what", "results", "--format", "csv", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 1
    assert rows[0]["partner"] == "Acme Insurance" and rows[0]["outcome"] == "down"
    assert rows[0]["error"].startswith("'=HYPERLINK")


def test_export_writes_incidents_as_json_and_only_the_practices_own(cli: Callable[..., Any], cast: Cast,
                                                                     session: Session) -> None:
    _results(session, cast)
    mine = json.loads(cli("export", "--practice", "harbour", "--what", "incidents", "--format", "json",
                          "--month", "2026-11").output)
    assert [i["kind"] for i in mine] == ["down"]
    theirs = json.loads(cli("export", "--practice", "quay", "--what", "incidents", "--format", "json",
                            "--month", "2026-11").output)
    assert theirs == []
    other_month = json.loads(cli("export", "--practice", "harbour", "--what", "results", "--format", "json",
                                 "--month", "2026-10").output)
    assert other_month == []


@pytest.mark.parametrize("args, words", [
    (["--practice", "nowhere", "--what", "results"], "nowhere"),
    (["--practice", "harbour", "--what", "results", "--month", "2026-13"], "2026-13"),
    (["--practice", "harbour", "--what", "results", "--month", "0000-01"], "0000-01"),
    (["--practice", "harbour", "--what", "results", "--month", "9999-12"], "9999-12"),
])
def test_export_mistakes_are_one_line(cli: Callable[..., Any], cast: Cast, args: list[str], words: str) -> None:
    result = cli("export", *args)
    assert result.exit_code == 1
    assert words in result.output and "Traceback" not in result.output


def test_an_address_that_is_not_http_or_https_is_a_bad_argument_not_a_down_result() -> None:
    result = probe("ftp://files.acme.test/")
    assert result.exit_code == 64, result.output
    assert "http://" in result.output
