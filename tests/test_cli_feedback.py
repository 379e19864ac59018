"""``partnermon feedback-link`` and the feedback exports of ``partnermon export``."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.cli import main
from partnermon.feedback import links
from partnermon.models import FeedbackRequest, FeedbackResponse, OutboxEmail
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast

EVIL = '=HYPERLINK("http://evil.test/","x")'


def link(cli: Callable[..., Result], *extra: str, email: str = "dana@client.test") -> Result:
    return cli("feedback-link", "--practice", "harbour", "--partner", "Acme Insurance", "--client-email", email, *extra)


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_feedback_link_prints_one_line_with_a_link_that_finds_the_request(cli: Callable[..., Result], cast: Cast,
                                                                          session: Session) -> None:
    result = link(cli, "--client-name", "Dana", "--touchpoint", "claims form", "--adviser", "BOB@harbour.test",
                  "--external-ref", "CLM-1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("http://partnermon.test/f/")
    found = links.find_by_token(session, lines[0].rsplit("/", 1)[1])
    assert found is not None
    assert (found.client_email, found.client_name, found.partner_id, found.touchpoint_id, found.adviser_id,
            found.source, found.external_ref) == ("dana@client.test", "Dana", cast.acme.id, cast.acme_claims.id,
                                                  cast.bob.id, "cli", "CLM-1")
    assert session.scalars(select(OutboxEmail.to_addr)).all() == ["dana@client.test"]


@pytest.mark.parametrize("args, words", [
    (["--client-email", "not-an-email"], "--client-email: “not-an-email” is not an email address."),
    (["--partner", "Zenith Platform"], "--partner: “Zenith Platform” is not one of your partners."),
    (["--touchpoint", "Fax line"], "--touchpoint: “Fax line” is neither a touchpoint of Acme Insurance"),
    (["--adviser", "charlie@quay.test"], "--adviser: charlie@quay.test is not an active user of Harbour Advice."),
    (["--practice", "nowhere"], "No practice has the slug “nowhere”."),
])
def test_a_mistake_is_one_line_naming_the_option_exit_1_and_nothing_is_made(cli: Callable[..., Result], cast: Cast,
                                                                           session: Session, args: list[str],
                                                                           words: str) -> None:
    options = {"--practice": "harbour", "--partner": "Acme Insurance", "--client-email": "dana@client.test"}
    options.update(dict(zip(args[::2], args[1::2])))
    result = cli("feedback-link", *[part for pair in options.items() for part in pair])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("partnermon: ") and words in lines[0], result.output
    assert result.stdout == ""
    assert count(session, FeedbackRequest) == 0 and count(session, OutboxEmail) == 0


def test_a_recently_asked_client_needs_override_throttle(cli: Callable[..., Result], cast: Cast,
                                                         session: Session) -> None:
    assert link(cli).exit_code == 0
    held = link(cli, email="DANA@client.test")
    assert held.exit_code == 1
    assert "waits 30 days between requests to one client. Add --override-throttle to ask anyway." in held.output
    assert len(held.output.strip().splitlines()) == 1
    assert count(session, FeedbackRequest) == 1
    again = link(cli, "--override-throttle")
    assert again.exit_code == 0 and again.stdout.startswith("http://partnermon.test/f/")
    assert count(session, FeedbackRequest) == 2


def test_a_reference_used_before_exits_1_because_its_link_cannot_be_shown_again(cli: Callable[..., Result],
                                                                                 cast: Cast, session: Session) -> None:
    assert link(cli, "--external-ref", "CLM-9").exit_code == 0
    again = link(cli, "--external-ref", "CLM-9", "--override-throttle")
    assert again.exit_code == 1 and "--external-ref: 'CLM-9' already names a request" in again.output
    assert count(session, FeedbackRequest) == 1


def test_feedback_link_has_help() -> None:
    result = CliRunner().invoke(main, ["feedback-link", "--help"])
    assert result.exit_code == 0 and "--override-throttle" in result.output


# --- export -------------------------------------------------------------------------------------------

@pytest.fixture
def feedback(session: Session, cast: Cast) -> dict[str, int]:
    """November: Dana (answered, with a formula for a name and comment) and Eve; October: Finn.
    Quay asks Dana too, in November."""
    ids = {}
    for email, name, when, practice, partner in (
            ("dana@client.test", EVIL, NOW, cast.harbour, "Acme Insurance"),
            ("eve@client.test", "Eve", NOW - timedelta(days=1), cast.harbour, "Acme Insurance"),
            ("finn@client.test", "Finn", NOW - timedelta(days=40), cast.harbour, "Acme Insurance"),
            ("dana@client.test", "Dana", NOW, cast.quay, "Zenith Platform")):
        made = links.create_request(session, when, practice, {"partner": partner, "client_email": email,
                                       "client_name": name, "touchpoint": "claim"}, actor="test", source="api",
                                       base_url="http://partnermon.test")
        ids[f"{email.split('@')[0]}@{practice.slug}"] = made.request.id
    dana = session.get(FeedbackRequest, ids["dana@harbour"])
    assert dana is not None
    session.add(FeedbackResponse(practice_id=cast.harbour.id, request_id=dana.id, partner_id=cast.acme.id,
                                 moment_id=dana.moment_id, satisfaction=2, recommend=4, comment=EVIL,
                                 created_at=NOW + timedelta(hours=1), updated_at=NOW + timedelta(hours=1)))
    dana.status, dana.answered_at = "answered", NOW + timedelta(hours=1)
    session.commit()
    return ids


def test_export_writes_a_months_requests_as_csv_with_formulas_neutralised(cli: Callable[..., Result],
                                                                          feedback: dict[str, int]) -> None:
    result = cli("export", "--practice", "harbour", "--what", "requests", "--format", "csv", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["client_email"], r["status"]) for r in rows] == [("eve@client.test", "queued"),
                                                                ("dana@client.test", "answered")]
    assert rows[1]["client_name"] == "'" + EVIL
    assert (rows[1]["partner"], rows[1]["moment"], rows[1]["source"]) == ("Acme Insurance", "Claims and hardship", "api")
    october = cli("export", "--practice", "harbour", "--what", "requests", "--month", "2026-10")
    assert [r["client_email"] for r in csv.DictReader(io.StringIO(october.stdout))] == ["finn@client.test"]


def test_export_writes_responses_as_json_and_only_the_practices_own(cli: Callable[..., Result],
                                                                     feedback: dict[str, int]) -> None:
    result = cli("export", "--practice", "harbour", "--what", "responses", "--format", "json", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["request_id"], row["client_email"], row["satisfaction"], row["satisfaction_label"], row["recommend"],
            row["comment"], row["verified"]) == (feedback["dana@harbour"], "dana@client.test", 2, "Dissatisfied", 4,
                                                 EVIL, True)
    quay = cli("export", "--practice", "quay", "--what", "responses", "--format", "json", "--month", "2026-11")
    assert json.loads(quay.stdout) == []
    csv_rows = list(csv.DictReader(io.StringIO(cli("export", "--practice", "harbour", "--what", "responses",
                                                   "--month", "2026-11").stdout)))
    assert [r["comment"] for r in csv_rows] == ["'" + EVIL]


def test_export_to_a_file_reports_the_count(cli: Callable[..., Result], feedback: dict[str, int], tmp_path: Any) -> None:
    target = tmp_path / "requests.json"
    result = cli("export", "--practice", "harbour", "--what", "requests", "--format", "json", "--month", "2026-11",
                 "-o", str(target))
    assert result.exit_code == 0 and "Wrote 2 requests of Harbour Advice for 2026-11" in result.output
    assert [r["client_email"] for r in json.loads(target.read_text())] == ["eve@client.test", "dana@client.test"]
