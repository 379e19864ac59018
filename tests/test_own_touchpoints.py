"""The practice's own touchpoints (issue 20): its website and booking page are probed, scored and alerted
like a partner's, shown in "Our own moments", and never ranked among partners — not on the board, not in
early warnings, not in the report's league table or its outage count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon import jobs
from partnermon.models import OutboxEmail, Partner, Probe
from partnermon.monitoring.runs import FinishedRun, claim_due as claim_probes, record
from partnermon.partners import own, probe_settings
from partnermon.reports import content
from partnermon.runtime import Runtime
from partnermon.scoring import board as board_, periods
from probes.spec import Finding, Timings
from tests import factories
from tests.conftest import NOW, sessions_waiting_on_a_lock, text_of
from tests.factories import Cast
from tests.scoring_fixtures import daily, incident, respond_many

MINUTE = timedelta(minutes=1)


@pytest.fixture
def ours(session: Session, cast: Cast) -> Partner:
    """Harbour's own booking page: 20 answers, 15 of them unhappy (worse than Acme's), and an outage."""
    partner = own.ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    booking = factories.touchpoint(session, NOW, partner, "Booking page", "opening", "https://book.harbour.test/")
    respond_many(session, partner, NOW - timedelta(days=3), 15, "opening", satisfaction=1, brand_effect="worse")
    respond_many(session, partner, NOW - timedelta(days=3, hours=1), 5, "opening", satisfaction=5)
    respond_many(session, cast.acme, NOW - timedelta(days=3), 10, "claim", satisfaction=4)
    for offset in range(10):
        daily(session, booking, (NOW - timedelta(days=offset)).date(), up=80, down=20, bh_up=80, bh_down=20,
              buckets={5: 80})
    incident(session, booking, NOW - timedelta(days=2), seconds=3600, bh_seconds=3600)
    session.commit()
    return partner


def test_the_practices_own_row_is_made_once_and_named_after_it(session: Session, cast: Cast) -> None:
    first = own.ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    again = own.ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    assert first.id == again.id and first.is_own_practice and first.name == "Harbour Advice"
    # Quay's own row is Quay's: a practice never sees another's.
    theirs = own.ensure_own_partner(session, NOW, cast.quay, cast.charlie)
    assert theirs.id != first.id and own.own_partner(session, cast.harbour.id).id == first.id


def test_own_touchpoints_are_scored_but_never_ranked_among_partners(session: Session, cast: Cast, ours: Partner) -> None:
    period = periods.rolling(NOW, cast.harbour.timezone)
    board = board_.build(session, NOW, cast.harbour, period)
    assert [s.partner.name for s in board.scores] == ["Acme Insurance"]
    assert board_.build(session, NOW, cast.harbour, period, category="other").scores == []
    # Acme's exposure (120) is its own; the practice's row, with none entered, changes nobody's.
    assert board.scores[0].exposure == 120
    scored = own.own_score(session, NOW, cast.harbour, period)
    assert scored is not None and scored.partner.id == ours.id
    # 15 of 20 unhappy, and 20 % of business-hours checks down, measured as for any partner.
    assert scored.feedback.n == 20 and scored.feedback.dissatisfied == 15
    assert scored.probes.bh_checks == 1000 and scored.probes.bh_down == 200


def test_a_worsening_of_our_own_moment_is_no_early_warning_among_partners(session: Session, cast: Cast,
                                                                         ours: Partner) -> None:
    # Before: 20 happy answers about the booking page in the 30 days before. Now: 15 of 20 unhappy.
    respond_many(session, ours, NOW - timedelta(days=40), 20, "opening", satisfaction=5)
    session.commit()
    period = periods.rolling(NOW, cast.harbour.timezone)
    assert board_.build(session, NOW, cast.harbour, period).warnings == []
    own_board = board_.build(session, NOW, cast.harbour, period, partner_id=ours.id)
    assert [w.rate.key for w in own_board.warnings if w.direction == "worse"][:1] == ["dissatisfaction"]


def test_the_monthly_report_ranks_partners_only_and_shows_our_own_moments_apart(
        session: Session, cast: Cast, ours: Partner) -> None:
    month = periods.month_of(date(2026, 11, 1), cast.harbour.timezone)
    report = content.gather(session, NOW, cast.harbour, month)
    assert [s.score.partner.name for s in report.sections] == ["Acme Insurance"]
    assert report.incidents.outages == 0          # the booking page's outage is ours, not a partner's
    assert report.own is not None and report.own.partner.id == ours.id
    from partnermon.reports.render import render_html
    html = render_html(report)
    assert "Our own moments" in html and "Booking page" not in html.split('id="league"')[1].split("</section>")[0]


def test_our_own_outage_alerts_our_subscribers_like_a_partners(session: Session, runtime: Runtime, cast: Cast) -> None:
    partner = own.ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    booking = factories.touchpoint(session, NOW, partner, "Booking page", "opening", "https://book.harbour.test/")
    probe_settings.save_probe(session, NOW, booking, cast.alice, {"kind": "http", "interval_seconds": "60"})
    session.commit()
    for at in (NOW, NOW + MINUTE):
        probe = session.scalars(select(Probe)).one()
        probe.next_due_at = at
        session.commit()
        (claim,) = claim_probes(session, at, worker_id="w1", limit=10)
        finding = Finding(outcome="down", error="The page answered HTTP 503", status=503, timings=Timings(total_ms=90.0))
        record(session, at, "w1", [FinishedRun(claim, at, finding)])
    report = jobs.incident_alerts(runtime, NOW + 2 * MINUTE)
    assert (report.opened, report.emails) == (1, 1)
    sent = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "incident_opened")).one()
    assert sent.to_addr == "alice@harbour.test" and "Booking page" in sent.subject


def test_the_partners_page_lists_our_own_moments_in_their_own_section(browser, session, cast, ours) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    page = browser.get("/partners/").get_data(as_text=True)
    table, section = page.split('id="own-moments"')
    assert f'/partners/{cast.acme.id}"' in table and f'/partners/{ours.id}"' not in table
    assert "Booking page" in section and "Booking page" not in table
    assert browser.get(f"/partners/{ours.id}/experience").status_code == 200
    home = browser.get("/").get_data(as_text=True)
    assert "Acme Insurance" in home and "Booking page" not in home


def test_add_our_own_touchpoint_starts_the_row_once_and_opens_its_touchpoint_form(browser, session, cast) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    first = browser.post("/partners/own")
    second = browser.post("/partners/own")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith("/touchpoints/new")
    assert session.scalar(select(func.count()).select_from(Partner).where(Partner.is_own_practice.is_(True))) == 1
    # Advisers cannot start it.
    browser.post("/sign-out")
    assert browser.sign_in("bob@harbour.test").post("/partners/own").status_code == 403


def test_the_demo_shows_a_broken_explicit_promise_and_the_practices_own_booking_page(browser, session) -> None:  # type: ignore[no-untyped-def]
    from partnermon import demo
    from partnermon.promises import service as promise_service, verdicts
    from tests.conftest import PASSWORD

    made = demo.generate(session, NOW, months=2)
    practice = demo.existing(session, made.slug)
    assert practice is not None and made.promises == 3
    owner = session.scalars(select(Partner).where(Partner.practice_id == practice.id,
                                                  Partner.is_own_practice.is_(True))).one()
    northgate = session.scalars(select(Partner).where(Partner.name == "Northgate Mutual")).one()
    november = periods.month_of(date(2026, 11, 1), practice.timezone)
    (promised,) = promise_service.list_promises(session, northgate)
    found = verdicts.verdict(session, practice, promised, november)
    assert promised.kind == "explicit" and found.state == "broken" and found.estimate.low > 2000
    # The booking page is probed and answered about, and on no ranking.
    board = board_.build(session, NOW, practice, november)
    assert owner.id not in {s.partner.id for s in board.scores} and len(board.scores) == 8
    scored = own.own_score(session, NOW, practice, november)
    assert scored is not None and scored.probes.checks > 0
    assert {t.name for t in owner.touchpoints} == {"Booking page", "Our website"}
    # The owner sees both on the pages.
    from partnermon.accounts.security import hash_password
    demo_owner = practice.users[0] if practice.users[0].role == "owner" else next(u for u in practice.users if u.role == "owner")
    demo_owner.password_hash = hash_password(PASSWORD)
    session.commit()
    browser.sign_in(demo_owner.email)
    partner_page = text_of(browser.get(f"/partners/{northgate.id}"))
    assert "Our online claims portal loads in under 2 seconds." in partner_page and "Broken" in partner_page
    assert "Booking page" in browser.get("/partners/").get_data(as_text=True).split('id="own-moments"')[1]


# --- one own row per practice, even under concurrent clicks ------------------------------------------------------

def test_the_database_refuses_a_second_own_row_for_a_practice_but_not_for_another(session: Session, cast: Cast) -> None:
    from sqlalchemy.exc import IntegrityError

    first = own.ensure_own_partner(session, NOW, cast.harbour, cast.alice)
    session.commit()
    session.add(Partner(practice_id=cast.harbour.id, name="Harbour Advice again", category="other",
                        is_own_practice=True, created_at=NOW))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    quay = own.ensure_own_partner(session, NOW, cast.quay, cast.charlie)
    session.add(Partner(practice_id=cast.harbour.id, name="Beacon", category="other", created_at=NOW))
    session.commit()
    assert quay.id != first.id and own.own_partner(session, cast.harbour.id).id == first.id


def test_two_owners_adding_the_first_own_touchpoint_at_once_share_one_row(session: Session, cast: Cast,
                                                                            runtime: Runtime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from partnermon.models import Practice, User

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two posts cannot race here")

    def ensure(into: Session) -> Partner:
        return own.ensure_own_partner(into, NOW, into.get_one(Practice, cast.harbour.id), into.get_one(User, cast.alice.id))

    with runtime.session_factory() as first:
        made = ensure(first).id   # not committed yet

        def second() -> int:
            with runtime.session_factory() as other:
                found = ensure(other).id   # its insert waits for the first, then finds the first one's row
                other.commit()
                return found

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(second)
            waiting = sessions_waiting_on_a_lock(runtime.engine, future)
            first.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waiting == 1, "the second click never waited on the first one"
            assert future.result(timeout=10) == made
    assert session.scalar(select(func.count()).select_from(Partner).where(
        Partner.practice_id == cast.harbour.id, Partner.is_own_practice.is_(True))) == 1
