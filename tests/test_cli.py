"""The partnermon command: each command works, and a mistake is one line and a non-zero exit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from partnermon.cli import main
from partnermon.models import OutboxEmail, Partner, Practice, Touchpoint, User

COMMANDS = ["init-db", "create-practice", "create-user", "create-partner", "add-touchpoint", "serve", "scheduler", "worker",
            "closure"]


@pytest.fixture
def cli(runtime, monkeypatch):  # type: ignore[no-untyped-def]
    """Runs the command against the test database, as a person would with the variables set."""
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    monkeypatch.setenv("PARTNERMON_BASE_URL", "http://partnermon.test")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage: main" in result.output or "Usage:" in result.output


def test_init_db_reports_an_up_to_date_database(cli):
    result = cli("init-db")
    assert result.exit_code == 0
    assert "already up to date" in result.output


def test_a_practice_its_owner_partner_and_touchpoint_from_the_command_line(cli, session):
    assert cli("create-practice", "harbour", "--name", "Harbour Advice", "--timezone", "Europe/Dublin").exit_code == 0
    result = cli("create-user", "--practice", "harbour", "--email", "alice@harbour.test", "--role", "owner",
                 "--password", "correct horse battery")
    assert result.exit_code == 0 and "sign in at http://partnermon.test/sign-in" in result.output
    assert cli("create-partner", "--practice", "harbour", "--name", "Acme Insurance", "--category", "insurer",
               "--exposure", "120").exit_code == 0
    result = cli("add-touchpoint", "--practice", "harbour", "--partner", "acme insurance", "--name", "Claims form",
                 "--moment", "claim", "--url", "https://claims.acme.test/")
    assert result.exit_code == 0 and "Claims and hardship" in result.output
    practice = session.scalar(select(Practice).where(Practice.slug == "harbour"))
    assert practice.timezone == "Europe/Dublin"
    assert session.scalar(select(User).where(User.email == "alice@harbour.test")).role == "owner"
    touchpoint = session.scalar(select(Touchpoint))
    assert touchpoint.partner.name == "Acme Insurance" and touchpoint.moment.key == "claim"


def test_create_user_without_a_password_prints_an_invitation_link(cli, cast, session):
    result = cli("create-user", "--practice", "harbour", "--email", "dana@harbour.test", "--role", "adviser")
    assert result.exit_code == 0
    assert "http://partnermon.test/invitation/" in result.output
    assert session.scalar(select(OutboxEmail).where(OutboxEmail.to_addr == "dana@harbour.test")) is not None


@pytest.mark.parametrize("args, message", [
    (["create-user", "--practice", "nowhere", "--email", "x@y.test", "--role", "owner"], "No practice has the slug “nowhere”"),
    (["create-partner", "--practice", "nowhere", "--name", "X"], "No practice has the slug “nowhere”"),
    (["add-touchpoint", "--practice", "harbour", "--partner", "Nobody", "--name", "X", "--moment", "claim"], "no partner named “Nobody”"),
    (["add-touchpoint", "--practice", "harbour", "--partner", "Acme Insurance", "--name", "X", "--moment", "bogus"], "“bogus” is not one of"),
    (["create-practice", "harbour", "--name", "Again"], "The slug “harbour” is taken"),
    (["create-practice", "Bad Slug", "--name", "X"], "lowercase letters"),
    (["create-user", "--practice", "harbour", "--email", "alice@harbour.test", "--role", "owner"], "already has a partnermon account"),
    (["create-partner", "--practice", "harbour", "--name", "Y", "--exposure", "many"], "whole number"),
])
def test_a_mistake_is_one_line_naming_it_and_exit_code_1(cli, cast, session, args, message):
    before = (session.query(Practice).count(), session.query(User).count(), session.query(Partner).count(), session.query(Touchpoint).count())
    result = cli(*args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("partnermon: ") and message in lines[0]
    session.expire_all()
    assert (session.query(Practice).count(), session.query(User).count(), session.query(Partner).count(), session.query(Touchpoint).count()) == before


def test_an_unreachable_database_names_host_and_port_but_never_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", "postgresql://partner:hunter2secret@127.0.0.1:1/partnermon")
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 1
    assert "127.0.0.1:1" in result.output and "Is PostgreSQL running" in result.output
    assert "hunter2secret" not in result.output
    assert "Traceback" not in result.output


def test_commands_refuse_a_database_that_was_never_initialised(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("PARTNERMON_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["create-practice", "harbour", "--name", "Harbour"])
    assert result.exit_code == 1 and "Run `partnermon init-db` first" in result.output


def test_a_bad_setting_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("PARTNERMON_RESULT_RETENTION_DAYS", "ninety")
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 1
    assert result.output.strip() == ("partnermon: PARTNERMON_RESULT_RETENTION_DAYS must be a whole number from 1 to 36500, "
                                     "not 'ninety'; set it like PARTNERMON_RESULT_RETENTION_DAYS=90 or leave it unset.")


# Each command with the arguments it needs to get as far as reading the settings.
EVERY_COMMAND = [
    ["init-db"], ["create-practice", "harbour", "--name", "H"],
    ["create-user", "--practice", "harbour", "--email", "x@harbour.test", "--role", "owner"],
    ["create-partner", "--practice", "harbour", "--name", "P"],
    ["add-touchpoint", "--practice", "harbour", "--partner", "P", "--name", "T", "--moment", "claim"],
    ["serve", "--port", "1"], ["scheduler"], ["worker"], ["demo"],
    ["export", "--practice", "harbour", "--what", "results"], ["report", "--practice", "harbour", "--month", "2026-10"],
    ["feedback-link", "--practice", "harbour", "--partner", "P", "--client-email", "c@client.test"],
]
BAD_SETTINGS = [
    ("PARTNERMON_DATABASE_URL", "not a url", "is not a database URL"),
    ("PARTNERMON_DATABASE_URL", "postgresql://h:abc/db", "is not a database URL"),
    ("PARTNERMON_DATABASE_URL", "mysql://u@h/db", "does not support"),
    ("PARTNERMON_DATABASE_URL", "foo://", "does not support"),
    ("PARTNERMON_PROBE_ALLOW_CIDRS", "10.0.0.0/33", "is not a network"),
    ("PARTNERMON_SMTP_URL", "smtp://h:abc", "host or port that cannot be used"),
    ("PARTNERMON_RESULT_RETENTION_DAYS", "-5", "whole number from 1"),
    ("PARTNERMON_BASE_URL", "http://[::1", "must be the address people open partnermon at"),
    ("PARTNERMON_MAIL_FROM", "not an address", "must be one email address"),
]


@pytest.mark.parametrize("name, value, message", BAD_SETTINGS)
@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda args: args[0])
def test_every_command_refuses_a_bad_setting_at_start_in_one_line(monkeypatch, tmp_path, args, name, value, message):
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith(f"partnermon: {name}")
    assert message in result.output


def test_probe_refuses_a_bad_allow_list_in_one_line(monkeypatch):
    monkeypatch.setenv("PARTNERMON_PROBE_ALLOW_CIDRS", "10.0.0.0/33")
    result = CliRunner().invoke(main, ["probe", "http://127.0.0.1:1/"], catch_exceptions=False)
    assert result.exit_code == 64
    assert result.output == "partnermon: PARTNERMON_PROBE_ALLOW_CIDRS: '10.0.0.0/33' is not a network; list them like " \
                            "10.1.2.0/24,192.168.0.0/16.\n"


@pytest.mark.parametrize("args, message, code", [
    (["bogus"], "partnermon: No such command 'bogus'.", 2),
    (["--bogus"], "partnermon: No such option '--bogus'.", 2),
    (["create-practice"], "partnermon: Missing argument 'SLUG'.", 2),
    (["export", "--practice", "harbour", "--what", "everything"], "partnermon: Invalid value for '--what'", 2),
    (["probe", "http://x.test", "--timeout", "-1"], "partnermon: Invalid value for '--timeout'", 64),
])
def test_a_bad_command_or_option_is_one_line_not_a_usage_block(args, message, code):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == code
    assert result.output.startswith(message) and result.output.count("\n") == 1


@pytest.mark.parametrize("output, reason", [
    ("missing-folder/x.csv", "No such file or directory"),
    ("/dev/full", "No space left on device"),
    ("a" * 300 + ".csv", "File name too long"),
])
def test_export_to_a_file_it_cannot_write_is_one_line(cli, cast, tmp_path, output, reason):
    target = output if output.startswith("/") else str(tmp_path / output)
    result = cli("export", "--practice", "harbour", "--what", "results", "-o", target)
    assert result.exit_code == 1
    shown = target if len(target) <= 100 else target[:100] + "…"
    assert result.output == (f"partnermon: -o: cannot write {shown} ({reason}). Check that its folder exists, that "
                             f"you may write there and that the disk has room.\n")


def test_an_argument_that_is_not_utf8_is_one_line_before_anything_is_stored(cli, cast, session):
    # "\udcff" is how Python hands on the byte 0xff of a command line that is not UTF-8.
    result = cli("create-partner", "--practice", "harbour", "--name", "Bad \udcff Name")
    assert result.exit_code == 2
    assert result.output == ("partnermon: the argument 'Bad \\udcff Name' is not text partnermon can use (it holds a "
                             "NUL or bytes that are not UTF-8); type it again in UTF-8.\n")
    assert session.query(Partner).filter(Partner.name.like("Bad%")).count() == 0


def test_report_to_a_full_disk_is_one_line(cli, cast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("report", "--practice", "harbour", "--month", "2026-10", "-o", "/dev/full")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("partnermon: -o: cannot write /dev/full (No space left on device).")

