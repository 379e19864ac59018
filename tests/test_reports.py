"""The monthly report's machinery: the schedule in each practice's time zone, one report per practice and month
however many workers race for it, retries and failures the owners can see, the archive, the email to the
owners (attached through a real SMTP server, or a signed link when too large), the reports page and
``partnermon report``. What the report says is tested in test_report_content.py.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.models import OutboxEmail, Practice, Report
from partnermon.reports import emails as report_emails
from partnermon.reports import jobs as report_jobs
from partnermon.reports.storage import ReportStore
from partnermon.runtime import Runtime
from partnermon.scoring import periods
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_outbox import with_smtp
from tests.test_scores_pages import answers

UTC = timezone.utc
FAKE_PDF = b"%PDF-1.7 a report\n"


@pytest.fixture(autouse=True)
def clock(app: Any) -> None:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Renderer:
    """Stands in for the PDF renderer where the machinery is under test: counts calls, can fail, can wait."""

    def __init__(self, fail: int = 0, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail
        self.gate = gate
        self.lock = threading.Lock()

    def __call__(self, session: Session, now: datetime, practice: Practice, period: periods.Period) -> tuple[bytes, int]:
        with self.lock:
            self.calls.append((practice.slug, period.key))
            failing = len(self.calls) <= self.fail
        if self.gate is not None:
            self.gate.wait(5)
        if failing:
            raise RuntimeError("the renderer ran out of paper")
        return FAKE_PDF, 3


def reports(session: Session) -> list[Report]:
    return list(session.scalars(select(Report).order_by(Report.id).execution_options(populate_existing=True)))


def report_emails_sent(session: Session) -> list[OutboxEmail]:
    return list(session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "report_ready")))


# --- the schedule ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zone, before, after", [
    # 07:00 on the 1st in the practice's zone: London is on GMT in December, Sydney 11 h ahead, New York 5 h behind.
    ("Europe/London", utc(2026, 12, 1, 6, 59), utc(2026, 12, 1, 7, 0)),
    ("Australia/Sydney", utc(2026, 11, 30, 19, 59), utc(2026, 11, 30, 20, 0)),
    ("America/New_York", utc(2026, 12, 1, 11, 59), utc(2026, 12, 1, 12, 0)),
])
def test_last_months_report_is_queued_at_0700_on_the_1st_in_the_practices_zone(
        session: Session, cast: Cast, zone: str, before: datetime, after: datetime) -> None:
    cast.harbour.timezone = zone
    cast.harbour.created_at = utc(2026, 1, 1)
    session.commit()
    assert report_jobs.due_month(cast.harbour, before).key == "2026-10"     # still October's turn (queued before)
    report_jobs.queue_due_reports(session, after)
    session.commit()
    harbour = [r for r in reports(session) if r.practice_id == cast.harbour.id]
    assert [r.month for r in harbour] == ["2026-11"]


def test_queueing_twice_or_from_two_schedulers_makes_one_report(session: Session, cast: Cast, runtime: Runtime) -> None:
    at = utc(2026, 12, 1, 9)
    for practice in (cast.harbour, cast.quay):
        practice.created_at = utc(2026, 1, 1)
    session.commit()
    assert jobs.queue_reports(runtime, at) == 2
    assert jobs.queue_reports(runtime, at + timedelta(minutes=5)) == 0
    with runtime.session_factory() as other:
        assert report_jobs.queue_due_reports(other, at) == 0
    assert sorted((r.practice_id, r.month) for r in reports(session)) == [(cast.harbour.id, "2026-11"),
                                                                          (cast.quay.id, "2026-11")]


def test_the_report_day_and_hour_are_the_practices_to_choose(session: Session, cast: Cast) -> None:
    cast.harbour.report_day, cast.harbour.report_hour = 3, 9
    cast.harbour.created_at = utc(2026, 1, 1)
    assert report_jobs.due_month(cast.harbour, utc(2026, 12, 3, 8, 59)) .key == "2026-10"
    assert report_jobs.due_month(cast.harbour, utc(2026, 12, 3, 9, 0)).key == "2026-11"


def test_no_report_is_queued_for_a_month_before_the_practice_existed(session: Session, cast: Cast) -> None:
    cast.harbour.created_at = utc(2026, 12, 2)
    assert report_jobs.due_month(cast.harbour, utc(2026, 12, 3, 9)) is None


# --- claiming and rendering --------------------------------------------------------------------------------

def render(runtime: Runtime, renderer: Renderer, worker: str = "w1", at: datetime = NOW) -> list[Any]:
    return report_jobs.render_due(runtime.session_factory, lambda: at, worker,
                                  store=ReportStore(runtime.settings.reports_path), renderer=renderer,
                                  base_url="http://partnermon.test", secret_key="test-secret-key")


def queue(session: Session, practice: Practice, month: str = "2026-10", user: Any = None) -> Report:
    report = report_jobs.request_report(session, NOW, practice, periods.parse(month, NOW, practice.timezone), user)
    report.email_owners = True
    session.commit()
    return report


def test_a_report_is_rendered_archived_and_emailed_to_each_owner_once(session: Session, runtime: Runtime,
                                                                        cast: Cast) -> None:
    queue(session, cast.harbour)
    renderer = Renderer()
    assert [o.done for o in render(runtime, renderer)] == [True]
    assert render(runtime, renderer) == []                       # done: nothing more to claim
    (report,) = reports(session)
    assert (report.status, report.pages, report.bytes, report.generation) == ("done", 3, len(FAKE_PDF), 1)
    assert ReportStore(runtime.settings.reports_path).read(report.storage_key) == FAKE_PDF
    assert report.storage_key == "harbour/partnermon-harbour-2026-10.pdf"
    assert [e.to_addr for e in report_emails_sent(session)] == ["alice@harbour.test"]


def test_two_workers_racing_render_the_report_once(session: Session, runtime: Runtime, cast: Cast) -> None:
    queue(session, cast.harbour)
    gate = threading.Event()
    renderer = Renderer(gate=gate)
    results: list[Any] = []
    workers = [threading.Thread(target=lambda name=name: results.extend(render(runtime, renderer, name)))
               for name in ("w1", "w2")]
    for worker in workers:
        worker.start()
    gate.set()
    for worker in workers:
        worker.join(10)
    assert renderer.calls == [("harbour", "2026-10")]
    assert [o.done for o in results] == [True]
    assert len(report_emails_sent(session)) == 1


def test_a_failure_is_retried_later_and_after_five_the_owners_see_why(session: Session, runtime: Runtime,
                                                                     cast: Cast, browser: Browser) -> None:
    queue(session, cast.harbour)
    renderer = Renderer(fail=10)
    at = NOW
    render(runtime, renderer, at=at)
    (report,) = reports(session)
    assert (report.status, report.attempts) == ("queued", 1)
    assert report.due_at == at + timedelta(minutes=5) and "ran out of paper" in report.last_error
    assert render(runtime, renderer, at=at + timedelta(minutes=1)) == []      # not before its retry time
    for _ in range(4):
        at = report.due_at
        render(runtime, renderer, at=at)
        (report,) = reports(session)
    assert (report.status, report.attempts) == ("failed", 5)
    assert report_emails_sent(session) == []
    page = text_of(browser.sign_in("alice@harbour.test").get("/reports/"))
    assert "failed" in page and "RuntimeError: the renderer ran out of paper" in page


def test_a_killed_workers_claim_is_taken_over_after_its_lease(session: Session, runtime: Runtime, cast: Cast) -> None:
    queue(session, cast.harbour)
    with runtime.session_factory() as dying:
        assert report_jobs.claim_next(dying, NOW, "dead-worker") is not None     # ... and it never comes back
    renderer = Renderer()
    assert render(runtime, renderer, "w2", at=NOW + timedelta(minutes=1)) == []
    assert [o.done for o in render(runtime, renderer, "w2", at=NOW + report_jobs.LEASE)] == [True]


def test_a_month_made_again_replaces_the_file_and_is_not_emailed_again(session: Session, runtime: Runtime,
                                                                       cast: Cast) -> None:
    queue(session, cast.harbour)
    render(runtime, Renderer())
    report_jobs.request_report(session, NOW, cast.harbour, periods.parse("2026-10", NOW, "Europe/London"), cast.alice)
    session.commit()
    render(runtime, Renderer())
    (report,) = reports(session)
    assert (report.status, report.generation) == ("done", 2)
    assert len(report_emails_sent(session)) == 1


# --- the email ---------------------------------------------------------------------------------------------

def test_the_owners_get_the_real_pdf_attached_through_smtp(session: Session, runtime: Runtime, cast: Cast,
                                                          smtp_server: SmtpServer) -> None:
    answers(session, cast.harbour, cast.acme, "claim", [1, 2, 5, 5, 4], at=utc(2026, 10, 12, 10))
    queue(session, cast.harbour)
    (outcome,) = jobs.render_reports(runtime)
    assert outcome.done, outcome.error
    jobs.send_emails(with_smtp(runtime, smtp_server.url()), datetime.now(UTC))   # render_reports runs on the real clock
    message = smtp_server.wait_for(1)[0].message
    assert message["Subject"] == "Harbour Advice: your partner report for October 2026"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "partnermon-harbour-2026-10.pdf"
    assert attachment.get_content_type() == "application/pdf"
    (report,) = reports(session)
    assert attachment.get_content() == ReportStore(runtime.settings.reports_path).read(report.storage_key)
    assert attachment.get_content().startswith(b"%PDF")
    # Sent: the outbox keeps no second copy of the PDF.
    assert session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.attachment.is_not(None))) == 0


def test_a_report_too_large_to_attach_is_a_signed_link_that_only_opens_that_rendering(
        session: Session, runtime: Runtime, cast: Cast, monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    monkeypatch.setattr(report_emails, "ATTACH_UNDER_BYTES", 10)
    queue(session, cast.harbour)
    render(runtime, Renderer())
    (email,) = report_emails_sent(session)
    assert email.attachment_name is None
    link = next(word for word in email.text_body.split() if "/reports/download/" in word)
    path = link.replace("http://partnermon.test", "")
    response = client.get(path)
    assert response.status_code == 200 and response.data == FAKE_PDF
    assert client.get(path[:-3] + "xyz").status_code == 404                      # tampered
    report_jobs.request_report(session, NOW, cast.harbour, periods.parse("2026-10", NOW, "Europe/London"), None)
    session.commit()
    render(runtime, Renderer())
    assert client.get(path).status_code == 404                                   # an older rendering's link


# --- the page ----------------------------------------------------------------------------------------------

def test_owners_make_a_month_and_everyone_downloads_it_but_not_another_practices(
        session: Session, runtime: Runtime, cast: Cast, browser: Browser, new_browser: Any) -> None:
    alice = browser.sign_in("alice@harbour.test")
    response = alice.post("/reports/", {"month": "2026-10"})
    assert response.status_code == 302
    assert "being made" in text_of(alice.get("/reports/"))
    render(runtime, Renderer())
    vera = new_browser().sign_in("vera@harbour.test")
    assert vera.get("/reports/2026-10.pdf").data == FAKE_PDF
    assert vera.post("/reports/", {"month": "2026-09"}).status_code == 403
    charlie = new_browser().sign_in("charlie@quay.test")
    assert charlie.get("/reports/2026-10.pdf").status_code == 404
    assert "No reports yet" in text_of(charlie.get("/reports/"))


@pytest.mark.parametrize("month, message", [
    ("2026-13", "is not a month: write it as YYYY-MM"),
    ("soon", "is not a month: write it as YYYY-MM"),
    ("2027-02", "has not started yet"),
    ("", "Enter the month"),
])
def test_a_month_that_is_not_one_is_a_field_message_and_nothing_is_queued(
        session: Session, cast: Cast, browser: Browser, month: str, message: str) -> None:
    response = browser.sign_in("alice@harbour.test").post("/reports/", {"month": month})
    assert response.status_code == 422
    assert message in text_of(response)
    assert reports(session) == []


def test_the_preview_is_the_report_as_a_page(session: Session, cast: Cast, browser: Browser) -> None:
    answers(session, cast.harbour, cast.acme, "claim", [1, 2, 5, 5, 4], at=utc(2026, 10, 12, 10))
    response = browser.sign_in("vera@harbour.test").get("/reports/2026-10/preview")
    assert response.status_code == 200
    page = text_of(response)
    assert "Harbour Advice" in page and "October 2026" in page and "Acme Insurance" in page
    assert browser.get("/reports/2027-05/preview").status_code == 404


# --- the command -------------------------------------------------------------------------------------------

@pytest.fixture
def cli(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """conftest's ``cli``, run from a folder of the test's own (``partnermon report`` writes there by default)."""
    monkeypatch.chdir(tmp_path)
    return cli


def test_partnermon_report_writes_the_pdf_with_its_default_name(cli: Callable[..., Result], session: Session,
                                                                cast: Cast, tmp_path: Path) -> None:
    answers(session, cast.harbour, cast.acme, "claim", [1, 2, 5, 5, 4], at=utc(2026, 10, 12, 10))
    result = cli("report", "--practice", "harbour", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    written = tmp_path / "partnermon-harbour-2026-10.pdf"
    assert written.read_bytes().startswith(b"%PDF")
    assert "Wrote partnermon-harbour-2026-10.pdf: Harbour Advice, October 2026" in result.stdout
    assert "gathering" in result.stderr


@pytest.mark.parametrize("month, message", [
    ("2026-13", "--month: “2026-13” is not a month: write it as YYYY-MM"),
    ("2099-01", "--month: January 2099 has not started yet"),
    ("30d", "a report is for a calendar month"),
])
def test_partnermon_report_refuses_a_bad_month_in_one_line(cli: Callable[..., Result], cast: Cast, month: str,
                                                           message: str, tmp_path: Path) -> None:
    result = cli("report", "--practice", "harbour", "--month", month)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.glob("*.pdf")) == []


def test_owners_choose_the_report_day_and_hour_and_a_wrong_one_is_a_field_message(
        session: Session, cast: Cast, browser: Browser) -> None:
    alice = browser.sign_in("alice@harbour.test")
    assert alice.post("/reports/schedule", {"report_day": "3", "report_hour": "9"}).status_code == 302
    session.refresh(cast.harbour)
    assert (cast.harbour.report_day, cast.harbour.report_hour) == (3, 9)
    response = alice.post("/reports/schedule", {"report_day": "31", "report_hour": "nine"})
    assert response.status_code == 422
    page = text_of(response)
    assert "enter a whole number from 1 to 28" in page and "enter a whole number from 0 to 23" in page
    assert 'value="31"' in response.get_data(as_text=True)
    session.refresh(cast.harbour)
    assert (cast.harbour.report_day, cast.harbour.report_hour) == (3, 9)
