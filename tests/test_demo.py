"""``partnermon demo``: the demo practice, its history and the stories it must tell, and the command's
behaviour when run again or against a practice of someone's own."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon import demo
from partnermon.accounts import service as accounts
from partnermon.followups import rules
from partnermon.practices import service as practices
from partnermon.practices.business_hours import BusinessHours
from partnermon.models import (
    DailyRollup, FeedbackRequest, FeedbackResponse, FollowUp, FollowUpEvent, HourlyRollup, Incident,
    MomentOfTruth, OutboxEmail, Partner, Practice, Probe, ProbeResult, Touchpoint,
)
from partnermon.monitoring import rollups
from partnermon.monitoring.rollups import Counts, local_day_bounds
from partnermon.runtime import Runtime
from tests.conftest import NOW

DAY = timedelta(days=1)


@pytest.fixture
def made(session: Session) -> demo.DemoResult:
    """Two months of demo history ending at NOW, with ten days of hourly rollups (enough to test them)."""
    result = demo.generate(session, NOW, months=2, hourly_days=10)
    session.commit()
    return result


def count(session: Session, model: Any, *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def the_practice(session: Session) -> Practice:
    return practices.by_slug(session, "demo")


def touchpoint_named(session: Session, partner: str, name: str) -> Touchpoint:
    return session.scalars(select(Touchpoint).join(Partner).where(Partner.name == partner, Touchpoint.name == name)).one()


def password_in(output: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if line.strip().startswith("password:"))


def signs_in(session: Session, email: str, password: str) -> bool:
    try:
        accounts.authenticate(session, NOW, email, password, "127.0.0.1")
    except accounts.SignInRefused:
        return False
    return True


def dissatisfied_share(session: Session, partner_id: int, moment_key: str, start: Any, end: Any) -> tuple[int, int]:
    rows = session.scalars(select(FeedbackResponse.satisfaction).join(MomentOfTruth).where(
        FeedbackResponse.partner_id == partner_id, MomentOfTruth.key == moment_key, FeedbackResponse.verified.is_(True),
        FeedbackResponse.created_at >= start, FeedbackResponse.created_at < end)).all()
    return sum(1 for s in rows if s <= 2), len(rows)


# --- the command ----------------------------------------------------------------------------------------

def test_demo_makes_a_practice_with_partners_and_paused_probes_and_sends_nothing(cli: Callable[..., Result],
                                                                                 session: Session) -> None:
    result = cli("demo", "--months", "2")
    assert result.exit_code == 0, result.output
    assert "rollups: " in result.stderr and "touchpoints" in result.stderr
    practice = the_practice(session)
    assert practice.is_demo and practice.name == "Harbour Demo Advice" and practice.timezone == "Europe/London"
    # Eight partners with 30 touchpoints, and the practice's own booking page and website (issue 20).
    assert count(session, Partner, Partner.practice_id == practice.id, Partner.is_own_practice.is_(False)) == 8
    assert count(session, Touchpoint, Touchpoint.practice_id == practice.id) == 30 + 2
    assert count(session, Probe) > 15 and count(session, Probe, Probe.enabled.is_(True)) == 0
    assert count(session, OutboxEmail) == 0
    assert {t.moment.key for t in session.scalars(select(Touchpoint))} == {m.key for m in practice.moments}
    assert "Sign in at http://partnermon.test/sign-in" in result.stdout
    email = next(line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if "email:" in line)
    assert signs_in(session, email, password_in(result.stdout))
    roles = sorted(u.role for u in practice.users)
    assert roles.count("owner") == 1 and roles.count("adviser") >= 2 and roles.count("viewer") == 1


def test_running_it_again_on_the_demo_prints_a_new_password_that_works(cli: Callable[..., Result],
                                                                       session: Session) -> None:
    first = cli("demo", "--months", "1")
    assert first.exit_code == 0, first.output
    responses = count(session, FeedbackResponse)
    again = cli("demo", "--months", "1")
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout
    email = the_practice(session).users[0].email
    old, new = password_in(first.stdout), password_in(again.stdout)
    assert old != new
    assert signs_in(session, email, new) and not signs_in(session, email, old)
    assert count(session, Practice) == 1 and count(session, FeedbackResponse) == responses


def test_a_practice_of_ones_own_with_that_slug_is_left_alone(cli: Callable[..., Result], session: Session) -> None:
    practices.create_practice(session, NOW, slug="demo", name="Demo Wealth Ltd")
    session.commit()
    result = cli("demo")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "A practice with the slug 'demo' already exists;" in lines[0]
    practice = the_practice(session)
    assert practice.name == "Demo Wealth Ltd" and not practice.is_demo
    assert count(session, Partner) == 0 and count(session, DailyRollup) == 0


@pytest.mark.parametrize("months", ["0", "37", "twelve"])
def test_months_out_of_range_is_one_line_and_nothing_is_made(cli: Callable[..., Result], session: Session,
                                                             months: str) -> None:
    result = cli("demo", "--months", months)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--months" in lines[0], result.output
    assert count(session, Practice) == 0


# --- the history ----------------------------------------------------------------------------------------

def test_the_days_of_the_hourly_window_are_the_sums_of_their_hours(made: demo.DemoResult, session: Session) -> None:
    practice = the_practice(session)
    zone = BusinessHours.of(practice).zone
    today = NOW.astimezone(zone).date()
    hours: dict[tuple[int, Any], Counts] = defaultdict(Counts)
    for rollup in session.scalars(select(HourlyRollup)):
        hours[(rollup.touchpoint_id, rollup.hour.astimezone(zone).date())].add(rollup)
    assert min(day for _, day in hours) == today - 9 * DAY
    checked = 0
    for daily in session.scalars(select(DailyRollup).where(DailyRollup.day >= today - 9 * DAY)):
        assert Counts(**{k: getattr(daily, k) for k in Counts().as_row()}).as_row() == \
            hours[(daily.touchpoint_id, daily.day)].as_row()
        checked += 1
    assert checked == made.probes * 10
    # Every whole day before now has a check every five minutes, split into business hours correctly.
    hours_of_business = BusinessHours.of(practice)
    for daily in session.scalars(select(DailyRollup).where(DailyRollup.day < today)):
        start, end = local_day_bounds(daily.day, zone)
        counts = Counts(**{k: getattr(daily, k) for k in Counts().as_row()})
        assert counts.checks == (end - start).total_seconds() // 300
        assert counts.bh_checks == hours_of_business.seconds_within(start, end) // 300
        assert sum(daily.histogram) == counts.up + counts.degraded
        assert [getattr(daily, f"latency_{i}") for i in range(len(daily.histogram))] == daily.histogram
        assert all(b <= a for a, b in zip(daily.histogram, daily.bh_histogram))


def test_incidents_are_resolved_with_their_business_hours_and_fit_the_down_counts(made: demo.DemoResult,
                                                                                  session: Session) -> None:
    hours = BusinessHours.of(the_practice(session))
    incidents = list(session.scalars(select(Incident)))
    assert len(incidents) == made.incidents > 0
    down_by_day: dict[tuple[int, Any], int] = defaultdict(int)
    for daily in session.scalars(select(DailyRollup)):
        down_by_day[(daily.touchpoint_id, daily.day)] += daily.down
    needed: dict[tuple[int, Any], int] = defaultdict(int)
    for incident in incidents:
        assert incident.kind == "down" and incident.resolved_at is not None and incident.notice_due_at is None
        assert incident.seconds_total == (incident.resolved_at - incident.started_at).total_seconds()
        assert incident.seconds_in_business_hours == hours.seconds_within(incident.started_at, incident.resolved_at)
        at = incident.started_at
        while at < incident.resolved_at:
            needed[(incident.touchpoint_id, at.astimezone(hours.zone).date())] += 1
            at += timedelta(seconds=300)
    assert all(down_by_day[key] >= n for key, n in needed.items())


def test_one_outage_was_at_night_and_another_at_eleven_on_a_weekday(made: demo.DemoResult, session: Session) -> None:
    hours = BusinessHours.of(the_practice(session))
    night = max(session.scalars(select(Incident).where(
        Incident.touchpoint_id == touchpoint_named(session, "Wrapline Platform", "Client login").id)),
        key=lambda i: i.seconds_total or 0)
    assert night.seconds_total > 8 * 3600 and night.seconds_in_business_hours < 0.1 * night.seconds_total
    day = max(session.scalars(select(Incident).where(
        Incident.touchpoint_id == touchpoint_named(session, "Copperfield Building Society", "Online banking").id)),
        key=lambda i: i.seconds_total or 0)
    local = day.started_at.astimezone(hours.zone)
    assert local.weekday() < 5 and local.hour == 11
    assert day.seconds_in_business_hours == day.seconds_total < night.seconds_total


def test_the_claims_portal_gets_slower_and_its_clients_unhappier(session: Session) -> None:
    demo.generate(session, NOW, months=2)
    session.commit()
    claims = touchpoint_named(session, "Northgate Mutual", "Claims portal")
    zone = BusinessHours.of(the_practice(session)).zone
    today = NOW.astimezone(zone).date()
    first, last = Counts(), Counts()
    for daily in session.scalars(select(DailyRollup).where(DailyRollup.touchpoint_id == claims.id)):
        (last if daily.day > today - 30 * DAY else first).add(daily)
    assert last.percentile(0.95) > 3000
    assert last.percentile(0.95) > first.percentile(0.95)
    bad_now, n_now = dissatisfied_share(session, claims.partner_id, "claim", NOW - 30 * DAY, NOW)
    bad_before, n_before = dissatisfied_share(session, claims.partner_id, "claim", NOW - 60 * DAY, NOW - 30 * DAY)
    p_now, p_before = bad_now / n_now, bad_before / n_before
    assert p_now - p_before > 0.15
    pooled = (bad_now + bad_before) / (n_now + n_before)
    z = (p_now - p_before) / math.sqrt(pooled * (1 - pooled) * (1 / n_now + 1 / n_before))
    assert z > 3     # a two-proportion test flags it, even after correcting for many comparisons


def test_the_contact_page_lost_its_phone_number_a_few_weeks_ago(made: demo.DemoResult, session: Session) -> None:
    touchpoint = touchpoint_named(session, "Kestrel Park Investments", "Contact us")
    probe = touchpoint.probe
    assert probe is not None and probe.kind == "content" and probe.options["human_contact"] == "soft"
    assert probe.contact_missing_run >= probe.failure_threshold
    assert NOW - 28 * DAY < probe.contact_missing_since < NOW - 14 * DAY
    said = session.scalars(select(FeedbackResponse.comment).where(
        FeedbackResponse.partner_id == touchpoint.partner_id,
        FeedbackResponse.created_at >= probe.contact_missing_since)).all()
    assert any("number to call" in comment for comment in said)


# --- feedback and follow-ups ----------------------------------------------------------------------------

def test_feedback_is_mostly_answered_requests_with_hashed_tokens_and_a_quiet_partner(made: demo.DemoResult,
                                                                                    session: Session) -> None:
    requests = list(session.scalars(select(FeedbackRequest)))
    assert len(requests) == made.requests
    assert all(len(r.token_hash) == 64 and int(r.token_hash, 16) >= 0 for r in requests)
    assert len({r.token_hash for r in requests}) == len(requests)
    statuses = {r.status for r in requests}
    assert "answered" in statuses and statuses & {"sent", "opened", "expired"}
    assert all(r.client_email.endswith(".example") for r in requests)
    responses = list(session.scalars(select(FeedbackResponse)))
    assert len(responses) == made.responses
    assert all(1 <= r.satisfaction <= 5 and (r.request_id is None) == (not r.verified) for r in responses)
    answered = {r.id for r in requests if r.status == "answered"}
    assert {r.request_id for r in responses if r.verified} == answered
    quiet = session.scalars(select(Partner).where(Partner.name == "Brightwater Home Loans")).one()
    assert 2 <= count(session, FeedbackResponse, FeedbackResponse.partner_id == quiet.id) <= 3


def test_follow_ups_are_opened_exactly_where_the_rules_would_open_them(made: demo.DemoResult, session: Session) -> None:
    practice = the_practice(session)
    opened = {f.response_id: f for f in session.scalars(select(FollowUp))}
    assert len(opened) == made.follow_ups > 0
    for response in session.scalars(select(FeedbackResponse)):
        decision = rules.decide(response, practice, response.moment)
        follow_up = opened.get(response.id)
        assert (follow_up is not None) == decision.opens
        if follow_up is not None:
            assert (follow_up.severity, follow_up.urgent, tuple(follow_up.reasons)) == \
                (decision.severity, decision.urgent, decision.reasons)
            assert follow_up.contact_due_at == rules.due_at(practice, response.created_at, decision.urgent)
    statuses = defaultdict(list)
    for follow_up in opened.values():
        statuses[follow_up.status].append(follow_up)
    assert all(f.outcome and f.resolved_at is not None for f in statuses["resolved"])
    overdue = [f for f in statuses["open"] if f.contact_due_at <= NOW]
    assert len(overdue) == made.overdue_follow_ups > 0 and all(f.escalated_at is not None for f in overdue)
    assert len(statuses["resolved"]) > len(statuses["open"])
    assert count(session, FollowUpEvent, FollowUpEvent.action == "opened") == len(opened)


def test_the_same_seed_and_now_make_the_same_history(session: Session) -> None:
    demo.generate(session, NOW, slug="demo", months=1, hourly_days=2)
    demo.generate(session, NOW, slug="demo-two", months=1, hourly_days=2)
    session.commit()

    def answers(slug: str) -> list[tuple[Any, ...]]:
        practice = practices.by_slug(session, slug)
        return [tuple(row) for row in session.execute(
            select(FeedbackResponse.satisfaction, FeedbackResponse.comment, FeedbackResponse.created_at)
            .where(FeedbackResponse.practice_id == practice.id).order_by(FeedbackResponse.id))]

    assert answers("demo") == answers("demo-two") and answers("demo")


def test_a_demo_practices_follow_ups_falling_overdue_email_nobody(session: Session, cli: Callable[..., Result]) -> None:
    from partnermon.followups.deadlines import check_deadlines
    from partnermon.models import FollowUp, OutboxEmail

    assert cli("demo", "--months", "1").exit_code == 0
    much_later = datetime.now(timezone.utc) + timedelta(days=30)
    assert session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.status == "open",
                                                                           FollowUp.contact_due_at <= much_later))
    check_deadlines(session, much_later, "http://partnermon.test")
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_with_only_the_demo_the_sign_in_page_offers_set_up_and_set_up_still_works(
        cli: Callable[..., Result], client: Any) -> None:
    assert cli("demo", "--months", "1").exit_code == 0
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Set up your own practice" in page
    assert client.get("/setup").status_code == 200


def test_the_last_days_checks_are_raw_results_that_roll_up_to_exactly_its_hourly_rollups(
        made: demo.DemoResult, session: Session) -> None:
    # The touchpoint page lists raw results beside counts from rollups; the demo made the counts only, so the page
    # said "8,448 checks in 30 days" and then "no checks yet". Rolling the raw results up again, as the rollup
    # job would, must give back exactly the hourly rollups the demo wrote for those hours.
    since = NOW - timedelta(hours=24)
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    results = list(session.scalars(select(ProbeResult)))
    assert len(results) == made.probe_results
    # Every probe checks every five minutes: 12 checks an hour, 24 hours.
    assert len(results) == made.probes * 288
    assert min(r.started_at for r in results) >= first_hour
    before = {(h.touchpoint_id, h.hour): Counts(**{k: getattr(h, k) for k in Counts().as_row()}).as_row()
              for h in session.scalars(select(HourlyRollup).where(HourlyRollup.hour >= first_hour))}
    assert len(before) == made.probes * 24      # 10:00 the day before to 09:00 (NOW, 10:00, has no check yet)
    rollups.roll_up(session, NOW)
    session.expire_all()
    after = {(h.touchpoint_id, h.hour): Counts(**{k: getattr(h, k) for k in Counts().as_row()}).as_row()
             for h in session.scalars(select(HourlyRollup).where(HourlyRollup.hour >= first_hour))}
    assert after == before
    # Each probe's last check is its latest result, and a failed check carries the reason.
    latest: dict[int, ProbeResult] = {}
    for result in results:
        if result.touchpoint_id not in latest or result.started_at > latest[result.touchpoint_id].started_at:
            latest[result.touchpoint_id] = result
    for probe in session.scalars(select(Probe)):
        assert latest[probe.touchpoint_id].started_at == probe.last_checked_at
    assert all(r.error for r in results if r.outcome != "up")
    assert all(r.total_ms is None for r in results if r.outcome == "down")


def test_the_demo_has_a_learned_weight_that_differs_and_three_themes_with_one_candidate(session: Session) -> None:
    from partnermon.feedback import themes
    from partnermon.scoring import learned

    demo.generate(session, NOW, hourly_days=1)   # the default year, as `partnermon demo` makes it
    practice = practices.by_slug(session, "demo")
    found = {item.moment.key: item for item in learned.learned_stakes(session, NOW, practice)}
    differing = [key for key, item in found.items() if item.differs]
    assert differing == ["service"]                 # the owner guessed "low"; clients say otherwise
    assert found["service"].stake == "high" and found["claim"].enough and not found["claim"].differs
    # The demo found its themes itself, so the themes page shows them before the daily job first runs.
    made = themes.latest_run(session, practice.id)
    assert made is not None and made.trigger == "demo" and len(themes.themes_of(made)) == 3
    run = themes.run_themes(session, NOW, practice, "test")
    found_themes = themes.themes_of(run)
    assert len(found_themes) == 3
    assert [t for t in found_themes if t.candidate] == [next(t for t in found_themes if "person" in t.words)]
    assert [t.as_json() for t in themes.themes_of(themes.run_themes(session, NOW, practice, "test"))] == \
        [t.as_json() for t in found_themes]
