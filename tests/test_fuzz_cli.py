"""Fuzzing the ``partnermon`` command: every command and option given hostile values (empty, huge, NUL, other
scripts' digits, negative and enormous numbers, broken URLs, months and addresses, odd paths, text a non-UTF-8
argv decodes to), and every PARTNERMON_* variable. Never a traceback; a refusal is exit status non-zero with
one line ``partnermon: …`` naming the problem.

Bounded: a few dozen examples per test by default; set PARTNERMON_FUZZ_EXAMPLES for a longer run. Arguments go
through click's CliRunner; the environment through load_settings, the CliRunner, and for what only a real
process can carry (bytes that are not UTF-8), a few subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from partnermon.cli import main
from partnermon.config import ConfigError, load_settings

EXAMPLES = int(os.environ.get("PARTNERMON_FUZZ_EXAMPLES", "") or 20)
fuzz = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Hostile values by kind: each kind's list is drawn from on its own, so that its few values come up often.
TEXT = ["", " ", "\t", "line\nbreak", "a" * 5000, "é", "😀", "'; DROP TABLE practices; --", "{{7*7}}", "%s%n", "-",
        "--help", "../../../etc/passwd", "harbour", "Acme Insurance", "Claims form", "claim"]
NUMBERS = ["²", "٣٤", "１２", "-1", "0", "-0", "1e9", "2147483648", "99999999999999999999", "9" * 5000, "1_000", " 7 ",
           "0x10", "nan", "inf", "-inf", "1.5"]
URLS = ["http://[::1", "http://[::1]:99999/", "https://", "javascript:alert(1)", "http://h:abc/", "http://%zz/",
        "http://a b/", "ftp://x.test/", "http://[v1.x]/", "http://0x7f.1/", "http://user@:80/", "http://" + "a" * 300,
        "https://xn--/", "http://127.0.0.1:1/"]
MONTHS = ["9999-12", "0000-01", "2026-13", "2026-1", "-2026-10", "2026-10-01", "30d", "٢٠٢٦-١٠", "2026-00", "2026-10"]
EMAILS = ["nobody@", "@x", "a@b@c", "<a@b.test>", "a@[::1", "dana@client.test", "alice@harbour.test",
          "bob@harbour.test", "x@" + "a" * 300 + ".test"]
text = st.one_of(st.sampled_from(TEXT), st.text(max_size=40))
# Text as a non-UTF-8 argv arrives: undecodable bytes become lone surrogates (\udc80-\udcff).
surrogates = st.text(alphabet=st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=3)
hostile = st.one_of(text, st.sampled_from(NUMBERS + URLS + MONTHS + EMAILS), surrogates)
numbers = st.one_of(st.sampled_from(NUMBERS), st.integers().map(str), hostile)
refs = st.one_of(st.sampled_from(NUMBERS), hostile)  # a name, key or id
urls = st.one_of(st.sampled_from(URLS), st.builds("http://{}".format, text), hostile)
months = st.one_of(st.sampled_from(MONTHS), st.from_regex(r"\A-?[0-9]{1,6}-[0-9]{1,3}\Z"), hostile)
emails = st.one_of(st.sampled_from(EMAILS), st.emails(), st.builds("{}@harbour.test".format, text), hostile)


def refused_in_one_line_or_done(result: Result, ok: tuple[int, ...] = (0,)) -> None:
    """No traceback; success, or a non-zero exit whose stderr ends in the one line ``partnermon: …``."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    if result.exit_code in ok:
        return
    assert result.exit_code != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("partnermon: ")]
    assert len(ours) == 1 and result.stderr.endswith(ours[0] + "\n"), result.stderr[-2000:]


@pytest.fixture
def run(cli: Callable[..., Result], cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    """``partnermon …`` on the test database with the cast in it, from a folder of the test's own; exceptions are
    kept on the result (the check above re-raises any that is not an exit)."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(arg) for arg in args])


def _whole_number_in(value: str, low: int, high: int) -> bool:
    try:
        return low <= int(value) <= high
    except ValueError:
        return False


# Each command as a valid invocation: (option or None for an argument, a value it takes, hostile values for it);
# {n} in a value is made unique per example (the database is shared by a test's examples; a name taken by one
# would be refused before the hostile value in the next were looked at).
# An example makes one or two of them hostile and keeps the rest valid, so that it gets past the first refusal
# to the checks behind it (a wholly random command line is refused at its first option, every time).
Field = tuple[str | None, str, st.SearchStrategy[str]]
checks = st.one_of(hostile, st.sampled_from(['[BODY] matches "("', "[RESPONSE_TIME] < 1e999", "[STATUS] in ()",
                                             "[BODY].a.b.c == 1", "len([BODY]) > -1"]))
paths = st.one_of(hostile, st.builds(lambda s: "missing/" + s, hostile), st.sampled_from(["/dev/full", ".", "/"]))
COMMANDS: dict[str, list[Field]] = {
    "create-practice": [(None, "bay{n}", st.one_of(hostile, surrogates)), ("--name", "Bay Advice", hostile),
                        ("--timezone", "Europe/London", hostile)],
    "create-user": [("--practice", "harbour", hostile), ("--email", "new{n}@harbour.test", emails),
                    ("--role", "adviser", hostile), ("--name", "New Person", hostile),
                    ("--password", "correct horse battery staple", hostile)],
    "create-partner": [("--practice", "harbour", hostile), ("--name", "Bay Insurance {n}", hostile),
                       ("--category", "insurer", hostile), ("--website", "https://bay.test/", urls),
                       ("--exposure", "10", numbers)],
    "add-touchpoint": [("--practice", "harbour", hostile), ("--partner", "Acme Insurance", refs),
                       ("--name", "Portal {n}", hostile), ("--moment", "claim", refs),
                       ("--url", "https://claims.acme.test/login", urls), ("--kind", "content", hostile),
                       ("--check", "[STATUS] == 200", checks), ("--interval", "300", numbers)],
    "feedback-link": [("--practice", "harbour", hostile), ("--partner", "Acme Insurance", refs),
                      ("--client-email", "dana@client.test", emails), ("--client-name", "Dana", hostile),
                      ("--touchpoint", "Claims form", refs), ("--adviser", "bob@harbour.test", emails),
                      ("--external-ref", "CLM-{n}", hostile), ("--override-throttle", "", st.just(""))],
    "export": [("--practice", "harbour", hostile), ("--what", "results", hostile), ("--format", "csv", hostile),
               ("--month", "2026-10", months), ("-o", "out.csv", paths)],
    # Into a folder that does not exist: a month that is fine is refused there, not rendered for seconds.
    "report": [("--practice", "harbour", hostile), ("--month", "2026-10", months), ("-o", "missing/r.pdf", st.just("missing/r.pdf"))],
    "scorecard": [("--practice", "harbour", hostile), ("--partner", "Acme Insurance", refs), ("--month", "2026-10", months),
                  ("-o", "missing/s.pdf", st.just("missing/s.pdf"))],
    # 127.0.0.1 without --allow-private is refused before any connection: "down" at once.
    "probe": [(None, "http://127.0.0.1:1/", urls), ("--kind", "http", hostile), ("--check", "[STATUS] == 200", checks),
              ("--soft-check", "[RESPONSE_TIME] < 1500", checks), ("--slow-after", "1000", numbers),
              ("--option", "follow_redirects=true", st.one_of(hostile, st.builds("{}={}".format, st.sampled_from(
                  ["record_types", "min_days", "human_contact", "steps", "bogus"]), hostile))),
              ("--timeout", "0.5", numbers)],
}
OK_EXITS = {"probe": (0, 1, 2, 64)}


@st.composite
def invocations(draw: st.DrawFn, command: str) -> list[str]:
    fields = COMMANDS[command]
    picked = draw(st.sets(st.sampled_from(range(len(fields))), min_size=1, max_size=2))
    args = [command]
    for index, (option, valid, strategy) in enumerate(fields):
        value = draw(strategy) if index in picked else valid
        if option == "--override-throttle":  # a flag: the hostile thing to do is to leave it out
            args += [] if index in picked else [option]
        elif option is None:
            args.append(value)
        else:
            args += [option, value]
    return args


@pytest.mark.parametrize("command", list(COMMANDS))
@fuzz
@given(data=st.data())
def test_a_command_with_one_or_two_hostile_values_runs_or_refuses_in_one_line(run, command, data):
    args = [arg.replace("{n}", uuid.uuid4().hex[:8]) for arg in data.draw(invocations(command))]
    if command == "probe":  # no name is looked up for longer than half a second
        at = args.index("--timeout") + 1
        args[at] = args[at] if not _whole_number_in(args[at].split(".")[0] or "x", 1, 60) else "0.5"
    refused_in_one_line_or_done(run(*args), ok=OK_EXITS.get(command, (0,)))


@fuzz
@given(command=st.sampled_from([["serve", "--port"], ["serve", "--threads"], ["serve", "--probe-threads"],
                                ["worker", "--threads"], ["worker", "--poll"], ["demo", "--months"]]),
       value=numbers)
def test_long_running_commands_refuse_hostile_numbers_before_starting(run, command, value):
    # Only values they refuse: one they take would start a server, a worker or a year of demo data.
    try:
        taken = 0.5 <= float(value) <= 300 if command[-1] == "--poll" else _whole_number_in(value, 1, 65535)
    except ValueError:
        taken = False
    assume(not taken)
    refused_in_one_line_or_done(run(*command, value))


# --- the environment -----------------------------------------------------------------------------------------

VARIABLES = ["PARTNERMON_DATABASE_URL", "PARTNERMON_INSTANCE_DIR", "PARTNERMON_SECRET_KEY", "PARTNERMON_BASE_URL",
             "PARTNERMON_SMTP_URL", "PARTNERMON_MAIL_FROM", "PARTNERMON_PROBE_ALLOW_CIDRS",
             "PARTNERMON_RESULT_RETENTION_DAYS", "PARTNERMON_REPORT_DIR", "PARTNERMON_REPORT_PROCESSES"]
ENV_HOSTILE = TEXT + NUMBERS + URLS + EMAILS + [
    "\x00", "a\x00b", "postgresql://h:abc/db", "mysql://u@h/db", "foo://", "sqlite:////proc/nope/x.db", "10.0.0.0/33",
    "10.0.0.0/8,", "::1/129", "smtp://h:abc", "smtp://[::1", "smtps://", "/proc/x", "/etc/passwd", "https://pm.example.com",
    "smtp://mail.test:25"]
env_values = st.one_of(st.sampled_from(ENV_HOSTILE), st.text(max_size=40),
                       st.builds(lambda scheme, s: scheme + s, st.sampled_from(["postgresql://", "sqlite:///", "smtp://",
                                                                                "https://", "10.0.0.0/"]), hostile))


@fuzz
@given(name=st.sampled_from(VARIABLES), value=env_values)
def test_every_variable_is_taken_or_refused_with_one_line_naming_it(tmp_path, monkeypatch, name, value):
    monkeypatch.chdir(tmp_path)  # relative folders are made here
    env = {"PARTNERMON_INSTANCE_DIR": str(tmp_path / "instance"), name: value}
    try:
        load_settings(env)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(name) and "\n" not in message and len(message) < 600, message


@fuzz
@given(name=st.sampled_from([v for v in VARIABLES if v != "PARTNERMON_DATABASE_URL"]),
       value=env_values.filter(lambda v: "\x00" not in v))  # a process's environment cannot hold NUL
def test_a_command_started_with_any_variable_runs_or_refuses_in_one_line(run, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    refused_in_one_line_or_done(run("init-db"))


@pytest.mark.parametrize("name, value", [
    ("PARTNERMON_DATABASE_URL", b"postgresql://u:p\xff@127.0.0.1:1/x"),
    ("PARTNERMON_MAIL_FROM", b"alerts@\xfe\xff.example"),
    ("PARTNERMON_BASE_URL", b"https://pm.example.com/\xff"),
])
def test_a_variable_that_is_not_utf8_is_refused_in_one_line_by_a_real_process(tmp_path, name, value):
    env = {k.encode(): v.encode() for k, v in os.environ.items() if not k.startswith("PARTNERMON_")}
    env.update({b"PARTNERMON_INSTANCE_DIR": str(tmp_path).encode(), name.encode(): value})
    done = subprocess.run([str(Path(sys.executable).parent / "partnermon"), "init-db"], env=env, capture_output=True,
                          timeout=120)
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == 1 and "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"partnermon: {name}"), stderr
