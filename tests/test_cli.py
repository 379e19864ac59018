"""The partnermon command: each command works, and a mistake is one line and a non-zero exit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from partnermon.cli import main
from partnermon.models import OutboxEmail, Partner, Practice, Touchpoint, User

COMMANDS = ["init-db", "create-practice", "create-user", "create-partner", "add-touchpoint", "serve", "scheduler", "worker"]


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
    assert result.output.strip() == "partnermon: PARTNERMON_RESULT_RETENTION_DAYS must be a whole number, not 'ninety'."
