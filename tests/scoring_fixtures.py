"""Rows for the scoring tests, written directly so each test states exactly what the database holds: responses,
daily rollups, incidents and follow-ups with known counts. The numbers the scores should give are worked out
by hand in the tests themselves, never by calling the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.models import (DailyRollup, FeedbackResponse, FollowUp, Incident, MomentOfTruth, Partner, Practice,
                               Touchpoint)
from partnermon.models.monitoring import HISTOGRAM_SIZE, latency_columns
from tests import factories
from tests.factories import Cast


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def moment(session: Session, practice: Practice, key: str) -> MomentOfTruth:
    return session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id,
                                                       MomentOfTruth.key == key)).one()


def respond(session: Session, partner: Partner, at: datetime, moment_key: str | None = "claim", *,
            satisfaction: int = 5, recommend: int | None = None, effort: int | None = None,
            brand_effect: str | None = None, wants_contact: bool = False, verified: bool = True) -> FeedbackResponse:
    practice = session.get(Practice, partner.practice_id)
    assert practice is not None
    response = FeedbackResponse(
        practice_id=partner.practice_id, partner_id=partner.id,
        moment_id=moment(session, practice, moment_key).id if moment_key else None,
        satisfaction=satisfaction, recommend=recommend, effort=effort, brand_effect=brand_effect,
        wants_contact=wants_contact, contact_channel="email" if wants_contact else None, verified=verified,
        created_at=at, updated_at=at)
    session.add(response)
    session.flush()
    return response


def respond_many(session: Session, partner: Partner, at: datetime, count: int, moment_key: str | None = "claim",
                 **answers: object) -> None:
    """``count`` identical answers, a minute apart from ``at``."""
    for i in range(count):
        respond(session, partner, at + timedelta(minutes=i), moment_key, **answers)  # type: ignore[arg-type]


def histogram(buckets: dict[int, int]) -> list[int]:
    counts = [0] * HISTOGRAM_SIZE
    for index, count in buckets.items():
        counts[index] = count
    return counts


def daily(session: Session, touchpoint: Touchpoint, day: date, *, up: int = 0, degraded: int = 0, down: int = 0,
          maintenance: int = 0, bh_up: int = 0, bh_degraded: int = 0, bh_down: int = 0,
          buckets: dict[int, int] | None = None) -> DailyRollup:
    counts = histogram(buckets or {})
    # Written as rollups.roll_up writes them: the list and its bucket columns, which scores sum in SQL.
    row = DailyRollup(practice_id=touchpoint.practice_id, touchpoint_id=touchpoint.id, day=day, up=up,
                      degraded=degraded, down=down, maintenance=maintenance, bh_up=bh_up, bh_degraded=bh_degraded,
                      bh_down=bh_down, histogram=counts, bh_histogram=histogram({}), **latency_columns(counts))
    session.add(row)
    return row


def incident(session: Session, touchpoint: Touchpoint, started_at: datetime, *, seconds: int | None = None,
             bh_seconds: int | None = None, kind: str = "down", maintenance: bool = False) -> Incident:
    row = Incident(practice_id=touchpoint.practice_id, touchpoint_id=touchpoint.id, kind=kind, started_at=started_at,
                   resolved_at=started_at + timedelta(seconds=seconds) if seconds is not None else None,
                   in_maintenance=maintenance, seconds_total=seconds, seconds_in_business_hours=bh_seconds)
    session.add(row)
    return row


def follow_up(session: Session, response: FeedbackResponse, status: str, due_at: datetime) -> FollowUp:
    row = FollowUp(practice_id=response.practice_id, response_id=response.id, partner_id=response.partner_id,
                   moment_id=response.moment_id, severity="normal", reasons=["dissatisfied"], status=status,
                   opened_at=response.created_at, contact_due_at=due_at)
    session.add(row)
    return row


# --- one month at Harbour Advice, every number worked out by hand in test_scoring_measures ------------------

@dataclass
class HarbourNovember:
    acme: Partner        # insurer, exposure 120: claims feedback and probes, and a few "service" answers
    beacon: Partner      # platform, exposure 60: a slow portal, and answers that named no moment
    coral: Partner       # lender, no exposure entered and no data at all
    portal: Touchpoint   # Beacon's, moment "service"


# (satisfaction, recommend, effort, brand effect, wants contact) of Acme's ten claims answers in November
ACME_CLAIMS = [
    (5, 10, 7, "better", False), (5, 9, 6, None, False), (4, 9, 5, "same", False), (4, 8, 4, "same", False),
    (3, 7, None, "worse", False), (2, 6, 2, None, False), (1, 0, 1, "worse", True), (1, 3, 3, None, True),
    (5, 10, 6, None, False), (4, None, 5, "better", False),
]


def harbour_november(session: Session, cast: Cast, now: datetime) -> HarbourNovember:
    beacon = factories.partner(session, now, cast.harbour, "Beacon Platform", category="platform", exposure="60")
    coral = factories.partner(session, now, cast.harbour, "Coral Lending", category="lender")
    portal = factories.touchpoint(session, now, beacon, "Portal login", "service", "https://portal.beacon.test/")
    acme, claims = cast.acme, cast.acme_claims

    # Acme, claims: the first answer at the first instant of November (London is on GMT), the last just before now.
    answers = []
    for i, (satisfaction, recommend, effort, brand, contact) in enumerate(ACME_CLAIMS):
        at = utc(2026, 11, 1) + timedelta(days=2 * i)
        answers.append(respond(session, acme, at, "claim", satisfaction=satisfaction, recommend=recommend,
                               effort=effort, brand_effect=brand, wants_contact=contact))
    answers[-1].created_at = answers[-1].updated_at = now - timedelta(minutes=1)
    follow_up(session, answers[5], "open", now - timedelta(hours=1))        # overdue
    follow_up(session, answers[6], "open", now + timedelta(hours=1))        # open, not yet due
    follow_up(session, answers[7], "contacted", now - timedelta(hours=2))   # unresolved, but contacted in time
    follow_up(session, answers[4], "resolved", now - timedelta(days=3))     # closed: not counted
    respond_many(session, acme, utc(2026, 11, 10), 3, "service", satisfaction=1)   # below the minimum of 5
    respond(session, acme, utc(2026, 10, 31, 23, 30), "claim", satisfaction=1)     # 31 October in London
    respond(session, acme, utc(2026, 11, 5), "claim", satisfaction=1, verified=False)   # open link
    respond(session, acme, utc(2026, 11, 5, 1), "claim", satisfaction=5, verified=False)
    for satisfaction in (5, 5, 5, 4, 1):
        respond(session, beacon, utc(2026, 11, 12), None, satisfaction=satisfaction)

    daily(session, claims, date(2026, 11, 2), up=520, degraded=20, down=10, maintenance=3, bh_up=250, bh_degraded=10,
          bh_down=5, buckets={3: 500, 14: 40})
    daily(session, claims, date(2026, 11, 3), up=430, degraded=10, down=10, maintenance=2, bh_up=200, bh_degraded=5,
          bh_down=5, buckets={3: 400, 13: 40})
    daily(session, claims, date(2026, 10, 31), up=100, bh_up=50, buckets={3: 100})
    daily(session, portal, date(2026, 11, 10), up=990, down=10, bh_up=495, bh_down=5, buckets={15: 990})
    incident(session, claims, utc(2026, 11, 2, 14), seconds=1800, bh_seconds=1800)
    incident(session, claims, utc(2026, 11, 3, 2))                                   # still open
    incident(session, claims, utc(2026, 11, 3, 5), seconds=600, bh_seconds=0, maintenance=True)
    incident(session, claims, utc(2026, 11, 3, 6), seconds=900, bh_seconds=900, kind="degraded")
    incident(session, claims, utc(2026, 10, 20, 10), seconds=1200, bh_seconds=1200)

    # Quay's data, which Harbour must never see.
    zenith_portal = factories.touchpoint(session, now, cast.zenith, "Zenith portal", "service", "https://zenith.test/")
    respond_many(session, cast.zenith, utc(2026, 11, 4), 5, "claim", satisfaction=1, brand_effect="worse")
    daily(session, zenith_portal, date(2026, 11, 2), up=10, down=90, bh_down=90, buckets={3: 10})
    incident(session, zenith_portal, utc(2026, 11, 2, 9), seconds=3600, bh_seconds=3600)
    session.commit()
    return HarbourNovember(acme, beacon, coral, portal)
