"""Closing the loop (issue 19): clients moved away and lost per partner and period, the recovery rate by rung
and by adviser — against hand-counted fixtures, with the Wilson bounds computed here by scipy (not by the
product's own function) — and the same figures on the experience page, the home page, the monthly report
and the exports; the demo's story.

Harbour Advice in November 2026 (Europe/London), about Acme Insurance:
- follow-ups resolved in November: 5 stayed, 2 moved, 1 left, 1 "unknown" and 1 resolved before outcomes
  were recorded (None) → resolved 10, n = 8 (known outcomes), moved 2 of 8, left 1 of 8;
  plus one still open and one resolved in October, which do not count in November;
- check-ins answered in November: by email yes 1, partly 1, no 3 (5: 20 %), by phone yes 4, no 1 (5: 80 %),
  at a meeting yes 2 (2: below the minimum of 5); all: yes 7, partly 1, no 4 of 12 → 7/12;
  plus one sent, one expired, one skipped and one answered in December, which do not count.
Bob worked the email and meeting ones, Alice the phone ones.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from typing import Any, Callable

import pytest
from click.testing import Result
from flask import Flask
from pypdf import PdfReader
from scipy.stats import binomtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon import demo
from partnermon.followups import measures
from partnermon.models import FollowUp, Partner, Practice, RecoveryCheckIn, User
from partnermon.reports import content, render
from partnermon.scoring.periods import month_of, this_year, year_of
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast
from tests.scoring_fixtures import respond, utc

NOVEMBER = date(2026, 11, 1)


def wilson_bounds(k: int, n: int) -> tuple[float, float]:
    interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.low, interval.high


def resolved(session: Session, partner: Partner, at: datetime, outcome: str | None, *, status: str = "resolved",
             assignee: User | None = None, rung: str = "email") -> FollowUp:
    response = respond(session, partner, at - timedelta(days=2), satisfaction=1)
    row = FollowUp(practice_id=partner.practice_id, response_id=response.id, partner_id=partner.id,
                   moment_id=response.moment_id, severity="serious", reasons=["dissatisfied"], status=status,
                   opened_at=response.created_at, contact_due_at=response.created_at + timedelta(days=1),
                   resolved_at=at if status == "resolved" else None, outcome_kind=outcome, rung=rung,
                   assignee_id=assignee.id if assignee else None)
    session.add(row)
    session.flush()
    return row


def check_in(session: Session, follow_up: FollowUp, rung: str, status: str, answer: str | None, at: datetime,
             assignee: User | None) -> RecoveryCheckIn:
    row = RecoveryCheckIn(practice_id=follow_up.practice_id, follow_up_id=follow_up.id, round=1,
                          partner_id=follow_up.partner_id, reached_rung=rung,
                          assignee_id=assignee.id if assignee else None, status=status, created_at=at - timedelta(days=8),
                          due_at=at - timedelta(days=1), sent_at=at - timedelta(days=1),
                          answered_at=at if status == "answered" else None, answer=answer)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def november(session: Session, cast: Cast) -> Cast:
    acme, bob, alice = cast.acme, cast.bob, cast.alice
    day = utc(2026, 11, 10, 12)
    for outcome in ["stayed"] * 5 + ["moved"] * 2 + ["left", "unknown", None]:
        resolved(session, acme, day, outcome)
    resolved(session, acme, day, None, status="open")
    resolved(session, acme, utc(2026, 10, 20, 12), "left")
    answers = ([("email", "yes", bob), ("email", "partly", bob)] + [("email", "no", bob)] * 3
               + [("phone", "yes", alice)] * 4 + [("phone", "no", alice)] + [("meeting", "yes", bob)] * 2)
    for rung, answer, who in answers:
        check_in(session, resolved(session, acme, utc(2026, 10, 30), "stayed", rung=rung), rung, "answered", answer,
                 utc(2026, 11, 12, 9), who)
    for status in ("sent", "expired", "skipped"):
        check_in(session, resolved(session, acme, utc(2026, 10, 30), "stayed"), "email", status, None,
                 utc(2026, 11, 12, 9), bob)
    check_in(session, resolved(session, acme, utc(2026, 10, 30), "stayed"), "email", "answered", "yes",
             utc(2026, 12, 1, 9), bob)
    # Quay's: another practice, never counted at Harbour.
    for _ in range(3):
        follow_up = resolved(session, cast.zenith, day, "left", assignee=cast.charlie)
        check_in(session, follow_up, "email", "answered", "no", utc(2026, 11, 12, 9), cast.charlie)
    session.commit()
    return cast


def nov(practice: Practice):  # type: ignore[no-untyped-def]
    return month_of(NOVEMBER, practice.timezone)


# --- the measures ------------------------------------------------------------------------------------------

def test_moved_and_left_are_counted_out_of_known_outcomes_with_wilson_intervals(session: Session, november: Cast) -> None:
    loop = measures.measure(session, november.harbour, nov(november.harbour))
    acme = loop.outcomes_of(november.acme.id)
    # Only the ten resolved in November about Acme's bad moments count there (the check-ins' follow-ups were
    # resolved in October): 5 stayed, 2 moved, 1 left, 2 without a known outcome.
    assert (acme.stayed, acme.moved, acme.left, acme.unknown) == (5, 2, 1, 2)
    assert (acme.n, acme.resolved) == (8, 10)
    # n = 8 ≥ 5: both shares are shown, with Wilson intervals.
    assert acme.moved_share.shown and acme.left_share.shown
    assert acme.moved_share.value == pytest.approx(2 / 8)
    assert (acme.moved_share.estimate.low, acme.moved_share.estimate.high) == pytest.approx(wilson_bounds(2, 8))
    assert (acme.left_share.estimate.low, acme.left_share.estimate.high) == pytest.approx(wilson_bounds(1, 8))
    assert measures.loss_sentence(acme, loop.period, "Acme Insurance") == (
        "In November 2026, 1 client left the practice after a bad moment with Acme Insurance and 2 moved to another "
        "partner, of 8 follow-ups resolved with a known outcome (2 more with the outcome not known).")


def test_recovery_is_yes_among_answered_check_ins_by_rung_with_wilson_intervals(session: Session, november: Cast) -> None:
    loop = measures.measure(session, november.harbour, nov(november.harbour))
    total = loop.recovery_of(november.acme.id)
    assert (total.yes, total.partly, total.no, total.n) == (7, 1, 4, 12)
    assert total.rate.value == pytest.approx(7 / 12)
    assert (total.rate.estimate.low, total.rate.estimate.high) == pytest.approx(wilson_bounds(7, 12))
    by_rung = dict(loop.by_rung)
    assert list(by_rung) == ["email", "phone", "meeting"]
    assert (by_rung["email"].yes, by_rung["email"].partly, by_rung["email"].n) == (1, 1, 5)
    assert by_rung["email"].rate.value == pytest.approx(0.2)
    assert (by_rung["email"].rate.estimate.low, by_rung["email"].rate.estimate.high) == pytest.approx(wilson_bounds(1, 5))
    assert by_rung["phone"].rate.value == pytest.approx(0.8)
    assert (by_rung["phone"].rate.estimate.low, by_rung["phone"].rate.estimate.high) == pytest.approx(wilson_bounds(4, 5))
    # Below the minimum: no number, and the n.
    meeting = by_rung["meeting"]
    assert meeting.n == 2 and not meeting.shown and meeting.rate.value is None
    assert meeting.rate.not_enough() == "not enough answers yet (2 of 5)"
    assert measures.recovery_sentence(total, loop.period) == (
        "In November 2026, 58 % (32–81 %) of the 12 clients who answered a check-in said the practice put things right.")
    assert [round(b * 100) for b in wilson_bounds(7, 12)] == [32, 81]


def test_below_the_minimum_shares_are_hidden_but_counts_stay(session: Session, november: Cast) -> None:
    november.harbour.score_min_responses = 9
    session.commit()
    loop = measures.measure(session, november.harbour, nov(november.harbour))
    acme = loop.outcomes_of(november.acme.id)
    assert (acme.left, acme.n) == (1, 8)
    assert not acme.left_share.shown and acme.left_share.value is None
    assert acme.left_share.not_enough() == "too few for a share yet (8 of 9)"
    assert not dict(loop.by_rung)["phone"].shown


def test_by_adviser_only_when_asked_and_names_each_adviser(session: Session, november: Cast) -> None:
    period = nov(november.harbour)
    assert measures.measure(session, november.harbour, period).by_adviser is None
    rows = measures.measure(session, november.harbour, period, with_advisers=True).by_adviser
    assert rows is not None
    found = {(row.name, row.recovery.yes, row.recovery.n) for row in rows}
    assert found == {("alice@harbour.test", 4, 5), ("bob@harbour.test", 3, 7)}


def test_another_practices_follow_ups_and_check_ins_never_count(session: Session, november: Cast) -> None:
    harbour = measures.measure(session, november.harbour, nov(november.harbour), with_advisers=True)
    assert november.zenith.id not in harbour.outcomes and november.zenith.id not in harbour.recovery_by_partner
    assert harbour.recovery.n == 12
    assert measures.measure(session, november.harbour, nov(november.harbour), partner_id=november.zenith.id).anything is False
    quay = measures.measure(session, november.quay, nov(november.quay))
    assert (quay.outcomes_of(november.zenith.id).left, quay.recovery.n) == (3, 3)


def test_periods_are_the_practices_own_months_and_year(session: Session, cast: Cast) -> None:
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST): June's, not May's.
    resolved(session, cast.acme, datetime.fromisoformat("2026-05-31T23:30:00+00:00"), "left")
    # 23:30 UTC on 31 December 2025 is still 2025 in London (GMT).
    resolved(session, cast.acme, datetime.fromisoformat("2025-12-31T23:30:00+00:00"), "left")
    session.commit()
    zone = cast.harbour.timezone
    left_in = lambda period: measures.measure(session, cast.harbour, period).outcomes_of(cast.acme.id).left  # noqa: E731
    assert (left_in(month_of(date(2026, 5, 1), zone)), left_in(month_of(date(2026, 6, 1), zone))) == (0, 1)
    assert (left_in(year_of(date(2025, 1, 1), zone)), left_in(this_year(NOW, zone))) == (1, 1)
    assert this_year(NOW, zone).label == "2026"


# --- where they appear -------------------------------------------------------------------------------------

@pytest.fixture
def at_now(app: Flask) -> Flask:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    return app


def test_the_experience_page_shows_closing_the_loop_and_owners_alone_see_advisers(
        at_now: Flask, november: Cast, new_browser: Callable[[], Browser]) -> None:
    url = f"/partners/{november.acme.id}/experience?period=2026-11"
    alice = text_of(new_browser().sign_in("alice@harbour.test").get(url))
    assert "Closing the loop" in alice
    assert "Moved to another partner 2 of 8 · 25 %" in alice
    assert "Said you put things right 58 %" in alice
    assert "Meeting not enough answers yet (2 of 5)" in alice
    assert "Won back, by adviser" in alice
    for who in ("bob@harbour.test", "vera@harbour.test"):
        page = text_of(new_browser().sign_in(who).get(url))
        assert "Closing the loop" in page and "Won back, by adviser" not in page
    assert new_browser().sign_in("charlie@quay.test").get(url).status_code == 404


def test_the_home_page_says_what_was_lost_and_won_back_this_year(at_now: Flask, november: Cast,
                                                                 browser: Browser) -> None:
    page = text_of(browser.sign_in("vera@harbour.test").get("/"))
    # This year: November's ten, October's one who left and the 16 whose check-ins are in the fixture (stayed):
    # 21 stayed, 2 moved, 2 left of 25 known; all 13 answered check-ins (December's is after NOW but in 2026).
    assert ("In 2026, 2 clients left the practice after a bad moment with a partner and 2 moved to another partner, "
            "of 25 follow-ups resolved with a known outcome (2 more with the outcome not known).") in page
    assert "Clients lost: Acme Insurance 2." in page
    low, high = wilson_bounds(8, 13)
    assert (f"In 2026, 62 % ({round(low * 100)}–{round(high * 100)} %) of the 13 clients who answered a check-in "
            f"said the practice put things right.") in page


def test_the_monthly_report_has_a_closing_the_loop_section(session: Session, november: Cast) -> None:
    report = content.gather(session, NOW, november.harbour, nov(november.harbour))
    pdf = render.render_report(report)
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Closing the loop" in text
    assert ("In November 2026, 1 client left the practice after a bad moment with a partner and 2 moved to another "
            "partner, of 8 follow-ups resolved with a known outcome") in text
    assert "In January to November 2026, 2 clients left the practice" in text
    assert "Phone call 80 %" in text and "Meeting not enough answers yet (2 of 5)" in text
    assert "Zenith" not in text


def test_the_exports_carry_outcomes_check_ins_and_the_loop_measures(november: Cast, cli: Callable[..., Result]) -> None:
    result = cli("export", "--practice", "harbour", "--what", "followups", "--format", "json", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    answered = [r for r in rows if r["check_in_status"] == "answered"]
    assert {r["check_in_answer"] for r in answered} <= {"yes", "partly", "no"}
    assert {r["outcome_kind"] for r in rows if r["resolved_at"] and r["resolved_at"] >= "2026-11"} >= {"moved", "left"}
    result = cli("export", "--practice", "harbour", "--what", "followups", "--format", "csv", "--month", "2026-10")
    header = next(csv.reader(io.StringIO(result.output)))
    assert header[-6:] == ["check_in_round", "check_in_status", "check_in_due_at", "check_in_reached_rung",
                           "check_in_answer", "check_in_answered_at"]
    result = cli("export", "--practice", "harbour", "--what", "scores", "--format", "csv", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    [acme] = [r for r in csv.DictReader(io.StringIO(result.output)) if r["moment"] == "All moments"]
    assert (acme["follow_ups_resolved"], acme["outcome_n"], acme["moved"], acme["left"]) == ("10", "8", "2", "1")
    assert float(acme["left_share"]) == pytest.approx(1 / 8, abs=1e-6)
    assert float(acme["left_low"]) == pytest.approx(wilson_bounds(1, 8)[0], abs=1e-6)
    assert (acme["recovery_n"], acme["recovery_yes"], acme["recovery_partly"]) == ("12", "7", "1")
    assert float(acme["recovery_high"]) == pytest.approx(wilson_bounds(7, 12)[1], abs=1e-6)


# --- the demo ----------------------------------------------------------------------------------------------

def test_the_demo_insurer_cost_two_clients_this_year_and_calls_won_back_more_than_emails(session: Session) -> None:
    demo.generate(session, NOW, months=12, hourly_days=2)
    session.commit()
    practice = session.scalars(select(Practice).where(Practice.slug == "demo")).one()
    loop = measures.measure(session, practice, this_year(NOW, practice.timezone), with_advisers=True)
    names = measures.partner_names(session, practice, loop.outcomes)
    lost = {names[pid]: left for pid, left in loop.lost}
    assert lost == {"Northgate Mutual": 2}
    northgate = next(pid for pid, name in names.items() if name == "Northgate Mutual")
    assert loop.outcomes_of(northgate).moved == 1
    by_rung = dict(loop.by_rung)
    email, phone, meeting = by_rung["email"], by_rung["phone"], by_rung["meeting"]
    assert email.shown and phone.shown and meeting.shown
    # Clearly higher: the phone's interval lies wholly above the email's.
    assert phone.rate.estimate.low > email.rate.estimate.high
    assert meeting.rate.value > email.rate.value   # type: ignore[operator]
    # Nothing waits to be sent: every demo check-in is finished.
    statuses = set(session.scalars(select(RecoveryCheckIn.status)).all())
    assert statuses <= {"answered", "expired", "skipped"}


# --- the practice's own row is not a partner ---------------------------------------------------------------

@pytest.fixture
def with_own(session: Session, november: Cast) -> Partner:
    """Harbour's own row, with 2 clients lost and 1 stayed in November and one check-in answered yes by phone."""
    from partnermon.partners.own import ensure_own_partner

    own = ensure_own_partner(session, NOW, november.harbour, november.alice)
    day = utc(2026, 11, 10, 12)
    resolved(session, own, day, "left")
    resolved(session, own, day, "left")
    check_in(session, resolved(session, own, day, "stayed", rung="phone"), "phone", "answered", "yes",
             utc(2026, 11, 12, 9), november.alice)
    session.commit()
    return own


def test_the_own_row_is_left_out_of_partner_figures_and_totals(session: Session, november: Cast,
                                                               with_own: Partner) -> None:
    loop = measures.measure(session, november.harbour, nov(november.harbour), with_advisers=True)
    assert with_own.id not in loop.outcomes and with_own.id not in loop.recovery_by_partner
    assert loop.lost == [(november.acme.id, 1)]
    # The totals are Acme's alone: 1 left of 8 known; 12 check-ins, 4 of 5 by phone (as without the own row).
    assert (loop.total.left, loop.total.n, loop.recovery.n) == (1, 8, 12)
    assert (dict(loop.by_rung)["phone"].yes, dict(loop.by_rung)["phone"].n) == (4, 5)
    assert sum(row.recovery.n for row in loop.by_adviser or []) == 12


def test_the_own_row_asked_for_by_id_still_has_its_own_figures(session: Session, november: Cast,
                                                               with_own: Partner) -> None:
    loop = measures.measure(session, november.harbour, nov(november.harbour), partner_id=with_own.id)
    assert (loop.outcomes_of(with_own.id).left, loop.outcomes_of(with_own.id).n) == (2, 3)
    assert (loop.recovery_of(with_own.id).yes, dict(loop.by_rung)["phone"].n) == (1, 1)


def test_the_home_page_does_not_rank_the_practice_among_partners_it_lost_clients_to(
        at_now: Flask, november: Cast, with_own: Partner, browser: Browser) -> None:
    page = text_of(browser.sign_in("vera@harbour.test").get("/"))
    lost = page[page.index("Clients lost:"):].split(".")[0]
    assert lost == "Clients lost: Acme Insurance 2"


def test_the_reports_partner_rows_add_up_to_its_totals(session: Session, november: Cast, with_own: Partner) -> None:
    report = content.gather(session, NOW, november.harbour, nov(november.harbour))
    rows = report.closing_rows()
    assert [name for name, *_ in rows] == ["Acme Insurance"]
    for which, loop in ((1, report.closing), (2, report.closing_year)):
        assert sum(row[which].left for row in rows) == loop.total.left
        assert sum(row[which].resolved for row in rows) == loop.total.resolved
        assert sum(row[which + 2].n for row in rows) == loop.recovery.n
        assert sum(r.n for _rung, r in loop.by_rung) == loop.recovery.n
    assert (report.closing.total.left, report.closing_year.total.left) == (1, 2)
