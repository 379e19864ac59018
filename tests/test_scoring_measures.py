"""Measures from the database (partnermon.scoring.measures and board): responses, daily rollups, incidents
and follow-ups with known counts give exactly the hand-computed numbers, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import Incident, Probe, Touchpoint
from partnermon.monitoring import rollups
from partnermon.monitoring.runs import FinishedRun, claim_due, record
from partnermon.partners import probe_settings
from partnermon.partners import service as partners
from partnermon.practices import service as practices
from partnermon.scoring import board, measures, periods
from partnermon.scoring.measures import FeedbackCounts
from probes.spec import Finding, Timings
from tests.conftest import NOW
from tests.factories import Cast
from tests.scoring_fixtures import daily, harbour_november, histogram, incident, moment, respond, utc

A = 1e-4


def approx(*numbers: float | None):  # type: ignore[no-untyped-def]
    return pytest.approx(numbers, abs=A)


def triple(estimate):  # type: ignore[no-untyped-def]
    return (estimate.value, estimate.low, estimate.high)


def test_it_counts_every_feedback_measure_of_a_partner_moment_and_month(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    november = periods.parse("2026-11", NOW, "Europe/London")
    claim = moment(session, cast.harbour, "claim").id
    found = measures.feedback_counts(session, cast.harbour.id, [november.previous(), november])
    # scoring_fixtures.ACME_CLAIMS by hand: satisfied (4–5) rows 0,1,2,3,8,9; dissatisfied (≤2) rows 5,6,7;
    # brand answered by rows 0,2,3,4,6,9 (6), worse rows 4,6; harmful = either = rows 4,5,6,7; recommend given
    # 9 times, promoters (9–10) rows 0,1,2,8, detractors (0–6) rows 5,6,7; effort given 9 times, easy (5–7) rows
    # 0,1,2,8,9; contact rows 6,7.
    assert found[(cast.acme.id, claim, 1)] == FeedbackCounts(
        n=10, satisfied=6, dissatisfied=3, brand_n=6, brand_harm=2, harmful=4, recommend_n=9, promoters=4,
        detractors=3, effort_n=9, easy=5, contact_requests=2)
    # 31 October 23:30 UTC is still October in London (GMT since the 25th)
    assert found[(cast.acme.id, claim, 0)].n == 1
    counts = found[(cast.acme.id, claim, 1)]
    # CSAT Wilson 6/10 = (0.3127, 0.8318); dissatisfaction 3/10 = (0.1078, 0.6032); brand harm among the six who
    # answered the brand question, 2/6: denominator 1 + 3.8415/6 = 1.64025, centre (0.33333 + 0.32013)/1.64025 =
    # 0.39839, half 1.96·√(0.037037 + 0.026677)/1.64025 = 0.30162 → (0.0968, 0.7000) — not 2/10 of all responses;
    # CES 5/9 = (0.2667, 0.8112); NPS 100·(4 − 3)/9 = 11.11, n' 12, P' 4.75/12, D' 3.75/12 → (−39.0512, 55.7179)
    assert triple(counts.csat) == approx(0.6, 0.3127, 0.8318)
    assert triple(counts.dissatisfaction) == approx(0.3, 0.1078, 0.6032)
    assert triple(counts.brand_harm_rate) == approx(1 / 3, 0.0968, 0.7000)
    readings = counts.readings(5)
    assert [(r.key, r.n) for r in (readings.csat, readings.dissatisfaction, readings.brand_harm, readings.nps,
                                   readings.ces)] == [("csat", 10), ("dissatisfaction", 10), ("brand_harm", 6),
                                                      ("nps", 9), ("ces", 9)]
    assert triple(counts.ces) == approx(5 / 9, 0.2667, 0.8112)
    assert triple(counts.nps) == approx(11.1111, -39.0512, 55.7179)


def test_open_link_answers_are_counted_apart_and_never_mixed_in(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    november = periods.parse("2026-11", NOW, "Europe/London")
    claim = moment(session, cast.harbour, "claim").id
    unverified = measures.feedback_counts(session, cast.harbour.id, [november], verified=False)
    assert {key: (c.n, c.dissatisfied) for key, c in unverified.items()} == {(cast.acme.id, claim, 0): (2, 1)}
    scores = board.build(session, NOW, cast.harbour, november)
    assert (scores.unverified[cast.acme.id].n, scores.unverified[cast.acme.id].dissatisfied) == (2, 1)
    assert set(scores.unverified) == {cast.acme.id}
    acme = next(s for s in scores.scores if s.partner.id == cast.acme.id)
    assert acme.feedback.n == 13   # 10 claims + 3 service, verified only


def test_a_response_lands_in_the_month_of_the_practices_own_time_zone(session: Session, cast: Cast) -> None:
    cast.harbour.timezone = "Australia/Sydney"   # AEDT, UTC+11, through October and November
    respond(session, cast.acme, utc(2026, 10, 31, 12, 59, 59))   # 31 Oct 23:59:59 in Sydney: October
    respond(session, cast.acme, utc(2026, 10, 31, 13))           # 1 Nov 00:00: November
    respond(session, cast.acme, utc(2026, 10, 31, 14))           # 1 Nov 01:00: November
    respond(session, cast.acme, utc(2026, 11, 30, 12, 59))       # 30 Nov 23:59: November
    respond(session, cast.acme, utc(2026, 11, 30, 13))           # 1 Dec 00:00: December
    incident(session, cast.acme_claims, utc(2026, 10, 31, 13, 30), seconds=60, bh_seconds=0)   # 1 Nov 00:30
    daily(session, cast.acme_claims, date(2026, 10, 31), up=7)
    daily(session, cast.acme_claims, date(2026, 11, 1), up=11)
    session.commit()
    november = periods.month_of(date(2026, 11, 1), "Australia/Sydney")
    months = [november.previous(), november, periods.month_of(date(2026, 12, 1), "Australia/Sydney")]
    claim = moment(session, cast.harbour, "claim").id
    found = measures.feedback_counts(session, cast.harbour.id, months)
    assert [found[(cast.acme.id, claim, i)].n for i in range(3)] == [1, 3, 1]
    probes = measures.probe_counts(session, cast.harbour.id, months)
    assert (probes[(cast.acme.id, claim, 0)].up, probes[(cast.acme.id, claim, 0)].incidents) == (7, 0)
    assert (probes[(cast.acme.id, claim, 1)].up, probes[(cast.acme.id, claim, 1)].incidents) == (11, 1)


def test_probe_measures_sum_the_daily_rollups_histograms_and_incidents(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    november = periods.parse("2026-11", NOW, "Europe/London")
    claim = moment(session, cast.harbour, "claim").id
    counts = measures.probe_counts(session, cast.harbour.id, [november])[(cast.acme.id, claim, 0)]
    # 2 Nov + 3 Nov: up 520 + 430, degraded 20 + 10, down 10 + 10, maintenance 3 + 2; bh 250 + 200, 10 + 5, 5 + 5
    assert (counts.up, counts.degraded, counts.down, counts.maintenance) == (950, 30, 20, 5)
    assert (counts.bh_up, counts.bh_degraded, counts.bh_down, counts.checks, counts.bh_checks) == (450, 15, 10, 1000, 475)
    summed = histogram({3: 900, 13: 40, 14: 40})
    assert counts.histogram == summed
    # p95 of 980 timed checks: target 931; 900 up to 100 ms, then 40 in (2000, 3000]: 2000 + 1000·31/40 = 2775
    assert counts.p95_ms == pytest.approx(2775.0) == rollups.percentile(summed, 0.95)
    assert counts.slow == 40   # only the (3000, 4000] bucket is slower than 3 s
    # availability Wilson 980/1000 = (0.9693, 0.9870); business hours 465/475 = (0.9617, 0.9885);
    # degraded 30/1000 = (0.0211, 0.0425)
    assert triple(counts.availability) == approx(0.98, 0.9693, 0.9870)
    assert triple(counts.bh_availability) == approx(465 / 475, 0.9617, 0.9885)
    assert triple(counts.degraded_share) == approx(0.03, 0.0211, 0.0425)
    # Down incidents begun in November outside maintenance: the resolved one (30 min, all in business hours)
    # and the open one (no minutes yet); the maintenance, degraded and October ones are left out.
    assert (counts.incidents, counts.incident_seconds, counts.bh_incident_seconds) == (2, 1800, 1800)


def test_health_now_counts_unresolved_and_overdue_follow_ups(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    claim = moment(session, cast.harbour, "claim").id
    health = measures.health_now(session, NOW, cast.harbour.id)
    assert set(health) == {(cast.acme.id, claim)}
    # open overdue + open not due + contacted (unresolved, no longer "overdue"); the resolved one is gone
    assert (health[(cast.acme.id, claim)].open_follow_ups, health[(cast.acme.id, claim)].overdue_follow_ups) == (3, 1)


def test_the_whole_board_matches_the_hand_computed_figures(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    scores = board.build(session, NOW, cast.harbour, periods.parse("2026-11", NOW, "Europe/London"))
    acme, beacon, coral = scores.scores
    assert [s.partner.name for s in scores.scores] == ["Acme Insurance", "Beacon Platform", "Coral Lending"]

    # Acme: claims (high stake) is the only moment with data; its 3 service answers are below the minimum.
    service, claims = acme.moments
    assert (service.name, service.feedback.n, service.feedback_harm, service.harm) == ("Everyday service", 3, None, None)
    # feedback harm (6 brand answers reach the minimum, so they count) Wilson 4/10 = (0.4, 0.1682, 0.6873);
    # business-hours down 10/475 = (0.0211, 0.0115, 0.0383): its two days (5 of 265, 5 of 210) spread less than
    # independent checks would, so the design effect stays 1. Slow: all 40 slow checks fell on 2 November
    # (40 of 540, then 0 of 440): p = 40/980 = 0.040816; Σ(y − p·m)² = (40 − 22.041)² + (0 − 17.959)² = 645.06;
    # cluster variance 2/1 · 645.06/980² = 0.0013433 against p(1 − p)/980 = 0.00003995: design effect 33.626,
    # effective n 980/33.626 = 29.144, Wilson(0.040816, 29.144) = (0.0082, 0.1804); half of it (0.0204, 0.0041,
    # 0.0902). Probes: 1 − 0.978947·0.979592 = 0.0410, 1 − 0.988525·0.995921 = 0.0155,
    # 1 − 0.961685·0.909787 = 0.1251. Either with feedback: 1 − 0.6·0.958969 = 0.4246, 1 − 0.831820·0.984493 =
    # 0.1811, 1 − 0.312674·0.874929 = 0.7264
    assert triple(claims.feedback_harm) == approx(0.4, 0.1682, 0.6873)
    assert claims.feedback_harm_uses_brand
    assert claims.probes.slow_share.design_effect == pytest.approx(33.6257, abs=A)
    assert triple(claims.probe_harm) == approx(0.0410, 0.0155, 0.1251)
    assert triple(acme.harm) == approx(0.4246, 0.1811, 0.7264)
    assert triple(claims.harm) == approx(0.4246, 0.1811, 0.7264)
    # one high-stake moment: mean stake 3; index 100·(1 − harm) with the bounds swapped; damage 120·3/3·harm
    assert acme.mean_stake == 3.0
    assert triple(acme.index) == approx(57.5381, 27.3567, 81.8921)
    assert triple(acme.damage) == approx(50.9542, 21.7295, 87.1719)
    assert acme.basis == "from client feedback and checks"
    assert acme.left_out == [("Everyday service", "3 of 5 answers needed, and nothing else measured")]
    assert (acme.exposure, acme.exposure_assumed, acme.feedback.n, acme.feedback.dissatisfied) == (120, False, 13, 6)
    assert (acme.probes.checks, acme.probes.incidents, acme.probes.p95_ms) == (1000, 2, pytest.approx(2775.0))
    assert (acme.health.open_follow_ups, acme.health.overdue_follow_ups, acme.feedback.contact_requests) == (3, 1, 2)

    # Beacon: service (low, 1) from probes, and answers naming no moment (medium, 2) from feedback.
    portal, unnamed = beacon.moments
    # down 5/500 = (0.01, 0.0043, 0.0232); every answered check slower than 3 s: ½ × Wilson 990/990 =
    # (0.5, 0.49806, 0.5); either → (0.505, 0.5002, 0.5116)
    assert triple(portal.harm) == approx(0.505, 0.5002, 0.5116)
    assert portal.probes.p95_ms == pytest.approx(4950.0)   # 4000 + 1000·(0.95·990)/990
    # 1 of 5 dissatisfied: Wilson (0.2, 0.0362, 0.6245)
    assert (unnamed.name, unnamed.stake) == ("Moment not given", "medium")
    assert triple(unnamed.harm) == approx(0.2, 0.0362, 0.6245)
    # weighted (1·portal + 2·unnamed)/3 = (0.3017, 0.1909, 0.5868); mean stake 3/2; damage 60·1.5/3·harm
    assert triple(beacon.harm) == approx(0.3017, 0.1909, 0.5868)
    assert beacon.mean_stake == 1.5
    assert triple(beacon.index) == approx(69.8333, 41.3158, 80.9112)
    assert triple(beacon.damage) == approx(9.05, 5.7266, 17.6053)

    # Coral: no data, ranked last; its exposure is assumed to be the median of those entered, (120 + 60)/2.
    assert (coral.has_data, coral.index, coral.damage) == (False, None, None)
    assert (coral.exposure, coral.exposure_assumed) == (90, True)

    # The month before: Acme's claims probes (0 of 50 business-hours checks down) → index 100, from checks only;
    # 31 October's one answer is below the minimum. The index fell 42.46 points.
    assert scores.previous[cast.acme.id].index.value == pytest.approx(100.0)
    assert scores.previous[cast.acme.id].basis == ("from checks only: too few answers yet "
                                                   "(1 in all, 5 needed per moment)")
    assert (scores.trend(acme), scores.index_change(acme)) == ("down", pytest.approx(-42.4619, abs=A))
    assert (scores.trend(beacon), scores.trend(coral)) == (None, None)

    # Brand harm is 2 of the 6 who answered the brand question; Beacon's unnamed answers, 1 of 5 dissatisfied,
    # breach the default of 10 %.
    assert [(b.partner.partner.name, b.moment.name, b.measure.key, round(b.value, 4)) for b in scores.breaches] == [
        ("Acme Insurance", "Claims and hardship", "dissatisfaction", 0.3),
        ("Acme Insurance", "Claims and hardship", "brand_harm", 0.3333),
        ("Acme Insurance", "Claims and hardship", "bh_availability", 0.9789),
        ("Beacon Platform", "Everyday service", "bh_availability", 0.99),
        ("Beacon Platform", "Everyday service", "p95_ms", 4950.0),
        ("Beacon Platform", "Moment not given", "dissatisfaction", 0.2),
    ]
    # The only test run: slow checks 0/100 → 40/980 (expected slow count before 100·40/1080 = 3.7 < 5, so Fisher's
    # exact test), but a 4.1-point change is below the 5 points that matter; nothing else has enough data in both
    # months.
    assert scores.warnings == []


def test_harbours_board_never_holds_quays_partners_or_answers(session: Session, cast: Cast) -> None:
    harbour_november(session, cast, NOW)
    november = periods.parse("2026-11", NOW, "Europe/London")
    harbour = board.build(session, NOW, cast.harbour, november)
    assert cast.zenith.id not in {s.partner.id for s in harbour.scores} | set(harbour.previous) | set(harbour.unverified)
    assert sum(s.feedback.n for s in harbour.scores) == 13 + 5
    assert sum(s.probes.incidents for s in harbour.scores) == 2
    # Asking Harbour's board for Quay's partner finds nothing rather than Quay's numbers.
    assert board.build(session, NOW, cast.harbour, november, partner_id=cast.zenith.id).scores == []
    quay = board.build(session, NOW, cast.quay, november)
    assert [(s.partner.name, s.feedback.n, s.probes.down) for s in quay.scores] == [("Zenith Platform", 5, 90)]


# --- business hours across time zones and the clocks changing, through the real recording pipeline ----------

def _probe_and_record(session: Session, touchpoint: Touchpoint, results: list[tuple[datetime, str]]) -> None:
    probe = probe_settings.save_probe(session, NOW, touchpoint, "test", {
        "kind": "http", "interval_seconds": "60", "failure_threshold": "1", "success_threshold": "1"},
        rng=random.Random(1))
    session.commit()
    for at, outcome in results:
        probe = session.get(Probe, probe.id)
        probe.next_due_at = at
        session.commit()
        (claimed,) = claim_due(session, at, worker_id="w1", limit=5)
        finding = Finding(outcome=outcome, status=200 if outcome == "up" else 503,  # type: ignore[arg-type]
                          timings=Timings(total_ms=120.0), error=None if outcome == "up" else "HTTP 503")
        record(session, at, "w1", [FinishedRun(claimed, at, finding)])
    # Done with this one: the next probe's earlier claims must not pick it up again.
    session.get(Probe, probe.id).enabled = False
    session.commit()


def test_business_hours_follow_the_clocks_in_london_and_new_york(session: Session, cast: Cast) -> None:
    # London 09:00–17:30: BST (UTC+1) until Sunday 25 October 2026, GMT after.
    _probe_and_record(session, cast.acme_claims, [
        (utc(2026, 10, 23, 7, 30), "down"),   # Fri 08:30 BST: closed
        (utc(2026, 10, 23, 8, 30), "up"),     # Fri 09:30 BST: open
        (utc(2026, 10, 26, 8, 30), "up"),     # Mon 08:30 GMT: closed
        (utc(2026, 10, 26, 9, 30), "down"),   # Mon 09:30 GMT: open
        (utc(2026, 10, 26, 10, 30), "up"),    # Mon 10:30 GMT: open
    ])
    # New York 09:00–17:30: EDT (UTC−4) until Sunday 1 November 2026, EST (UTC−5) after.
    liberty = practices.create_practice(session, NOW, slug="liberty", name="Liberty Advice", timezone="America/New_York")
    broker = partners.create_partner(session, NOW, liberty.id, "test", {"name": "Hudson Mutual", "exposure": "10"})
    form = partners.create_touchpoint(session, NOW, broker, "test", {"name": "Claims", "moment": "claim",
                                                                     "url": "https://hudson.test/"})
    _probe_and_record(session, form, [
        (utc(2026, 10, 30, 12, 30), "down"),  # Fri 08:30 EDT: closed
        (utc(2026, 10, 30, 13, 30), "up"),    # Fri 09:30 EDT: open
        (utc(2026, 11, 2, 13, 30), "up"),     # Mon 08:30 EST: closed
        (utc(2026, 11, 2, 14, 30), "down"),   # Mon 09:30 EST: open
        (utc(2026, 11, 2, 15, 30), "up"),     # Mon 10:30 EST: open
    ])
    rollups.roll_up(session, NOW)

    london = board.build(session, NOW, cast.harbour, periods.parse("2026-10", NOW, "Europe/London")).scores[0]
    # 5 checks, 2 down; in business hours Fri 09:30 up, Mon 09:30 down, Mon 10:30 up: 2 of 3 working
    assert (london.probes.checks, london.probes.down, london.probes.bh_checks, london.probes.bh_down) == (5, 2, 3, 1)
    assert london.probes.bh_availability.value == pytest.approx(2 / 3)
    # Outages 07:30–08:30 UTC Friday (08:30–09:30 BST: 30 business minutes) and 09:30–10:30 UTC Monday (60)
    assert (london.probes.incidents, london.probes.incident_seconds, london.probes.bh_incident_seconds) == (2, 7200, 5400)

    new_york = periods.parse("2026-10", NOW, "America/New_York")
    october, november = board.score_periods(session, NOW, liberty,
                                            [new_york, periods.parse("2026-11", NOW, "America/New_York")])
    before, after = october[broker.id].probes, november[broker.id].probes
    assert (before.checks, before.bh_checks, before.bh_down, before.bh_incident_seconds) == (2, 1, 0, 1800)
    assert (after.checks, after.bh_checks, after.bh_down, after.bh_incident_seconds) == (3, 2, 1, 3600)
    assert (before.bh_availability.value, after.bh_availability.value) == (1.0, 0.5)
    assert session.scalars(select(Incident).where(Incident.practice_id == liberty.id)).all()[0].seconds_total == 3600
