"""Learned stakes (issue 20): per moment, how many more unhappy than happy clients say the practice looks worse,
with Newcombe's interval, mapped to a weight the owner may adopt; the scores then say which weights they used.

Expected numbers are worked out here independently: each Wilson bound as a root of the quadratic
(p̂ − p)² = z² p (1 − p) / n, combined as Newcombe's method 10, and checked against Newcombe's published table.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from partnermon.models import AuditEvent, MomentOfTruth
from partnermon.scoring import learned
from partnermon.scoring.attribution import Harm, MomentScore, score_partner
from partnermon.scoring.measures import FeedbackCounts, Health, ProbeCounts
from partnermon.scoring.stats import newcombe_difference
from tests.conftest import NOW, text_of
from tests.scoring_fixtures import moment, respond, respond_many

Z = 1.959963984540054


def wilson_by_quadratic(k: int, n: int) -> tuple[float, float]:
    """The two roots p of (k/n − p)² = Z² p (1 − p) / n, i.e. (1 + Z²/n) p² − (2k/n + Z²/n) p + (k/n)² = 0."""
    p_hat, c = k / n, Z * Z / n
    a, b, cc = 1 + c, -(2 * p_hat + c), p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * cc)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def newcombe_by_hand(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_by_quadratic(k1, n1)
    l2, u2 = wilson_by_quadratic(k2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@pytest.mark.parametrize(("counts", "published"), [
    # R. G. Newcombe, Statistics in Medicine 17 (1998) 873–890, Table II, method 10.
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
])
def test_newcombes_interval_matches_his_published_examples(counts, published) -> None:  # type: ignore[no-untyped-def]
    found = newcombe_difference(*counts)
    assert found is not None
    assert (round(found.low, 4), round(found.high, 4)) == published
    assert found.value == pytest.approx(newcombe_by_hand(*counts)[0])
    assert (found.low, found.high) == pytest.approx(newcombe_by_hand(*counts)[1:], abs=1e-12)


def test_newcombes_interval_is_none_without_answers_on_either_side() -> None:
    assert newcombe_difference(0, 0, 1, 4) is None and newcombe_difference(1, 4, 0, 0) is None


def test_weights_map_five_per_unit_of_difference_within_half_and_three() -> None:
    assert learned.weight_of(0.2) == pytest.approx(1.0)
    assert learned.weight_of(0.4) == pytest.approx(2.0)
    assert learned.weight_of(0.9) == 3.0       # never above a high stake
    assert learned.weight_of(-0.3) == 0.5      # a bad moment still counts, at half a low stake
    assert [learned.nearest_stake(w) for w in (0.5, 1.4, 1.5, 2.6, 3.0)] == ["low", "low", "medium", "high", "high"]


def _claims_fixture(session, cast) -> None:  # type: ignore[no-untyped-def]
    """Claims: 10 unhappy answers to the brand question, 8 of them "worse"; 20 happy ones, 1 "worse". Around them,
    answers that must not count: a neutral "worse", an unhappy one that skipped the brand question, an open-link
    "worse", one older than a year, one naming no moment, and one at another practice."""
    at = NOW - timedelta(days=30)
    respond_many(session, cast.acme, at, 8, "claim", satisfaction=1, brand_effect="worse")
    respond_many(session, cast.acme, at, 2, "claim", satisfaction=2, brand_effect="same")
    respond_many(session, cast.acme, at, 1, "claim", satisfaction=5, brand_effect="worse")
    respond_many(session, cast.acme, at, 15, "claim", satisfaction=5, brand_effect="same")
    respond_many(session, cast.acme, at, 4, "claim", satisfaction=4, brand_effect="better")
    respond(session, cast.acme, at, "claim", satisfaction=3, brand_effect="worse")
    respond(session, cast.acme, at, "claim", satisfaction=1, brand_effect=None)
    respond(session, cast.acme, at, "claim", satisfaction=1, brand_effect="same", verified=False)
    respond(session, cast.acme, NOW - timedelta(days=400), "claim", satisfaction=1, brand_effect="same")
    respond(session, cast.acme, at, None, satisfaction=1, brand_effect="worse")
    respond(session, cast.zenith, at, "claim", satisfaction=5, brand_effect="worse")
    session.commit()


def test_the_learned_stake_is_the_difference_of_worse_shares_with_its_interval(session, cast) -> None:  # type: ignore[no-untyped-def]
    _claims_fixture(session, cast)
    found = {item.moment.key: item for item in learned.learned_stakes(session, NOW, cast.harbour)}
    claim = found["claim"]
    assert claim.counts == learned.BrandCounts(bad_n=10, bad_worse=8, good_n=20, good_worse=1)
    d, low, high = newcombe_by_hand(8, 10, 1, 20)
    assert d == pytest.approx(0.75)
    assert claim.difference is not None
    assert (claim.difference.value, claim.difference.low, claim.difference.high) == pytest.approx((d, low, high))
    assert (round(low, 4), round(high, 4)) == (0.3886, 0.8991)   # worked out once, kept as a guard
    # 5 × 0.75 = 3.75, kept at 3; the interval 5 × 0.3886 = 1.94 → 1.9 and 3.
    assert claim.weight == 3.0 and claim.weight_bounds == (1.9, 3.0) and claim.stake == "high"
    assert not claim.differs       # the owner's "high" (3) lies inside 1.9–3
    assert claim.n == 30
    assert not found["service"].enough and found["service"].counts == learned.BrandCounts()


def test_below_the_minimum_in_either_group_it_says_so_with_the_n(session, cast, browser) -> None:  # type: ignore[no-untyped-def]
    at = NOW - timedelta(days=3)
    respond_many(session, cast.acme, at, 4, "service", satisfaction=1, brand_effect="worse")
    respond_many(session, cast.acme, at, 20, "service", satisfaction=5, brand_effect="same")
    session.commit()
    service = next(i for i in learned.learned_stakes(session, NOW, cast.harbour) if i.moment.key == "service")
    assert not service.enough and service.weight is None and not service.differs
    assert service.shortfall == "not enough answers yet (n=4 unhappy, 20 happy; 5 of each needed)"
    page = text_of(browser.sign_in("vera@harbour.test").get("/moments/"))
    assert "Not enough answers yet (n=4 unhappy, 20 happy; 5 of each needed)" in page
    cast.harbour.score_min_responses = 4
    session.commit()
    assert next(i for i in learned.learned_stakes(session, NOW, cast.harbour) if i.moment.key == "service").enough


def test_a_learned_weight_that_disagrees_with_the_owner_is_marked(session, cast, browser) -> None:  # type: ignore[no-untyped-def]
    # Everyday service (owner: low, 1): 9 of 10 unhappy say worse, 0 of 20 happy: 0.9, interval far above 1.
    at = NOW - timedelta(days=3)
    respond_many(session, cast.acme, at, 9, "service", satisfaction=1, brand_effect="worse")
    respond_many(session, cast.acme, at, 1, "service", satisfaction=1, brand_effect="same")
    respond_many(session, cast.acme, at, 20, "service", satisfaction=5, brand_effect="same")
    session.commit()
    service = next(i for i in learned.learned_stakes(session, NOW, cast.harbour) if i.moment.key == "service")
    assert service.weight == 3.0 and service.differs and service.stake == "high"
    page = text_of(browser.sign_in("alice@harbour.test").get("/moments/"))
    assert "3 (about high) differs from your low" in page
    assert "n=10" in page and "n=20" in page and "Newcombe" in page


def test_the_owner_adopts_one_learned_weight_and_the_scores_say_so(session, cast, browser, app) -> None:  # type: ignore[no-untyped-def]
    _claims_fixture(session, cast)
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    claim = moment(session, cast.harbour, "claim")
    browser.sign_in("alice@harbour.test")
    response = browser.post(f"/moments/{claim.id}/weights", {"weights": "learned"}, follow_redirects=True)
    assert "Scores use the learned weight 3 for Claims and hardship (learned from 30 answers)." in text_of(response)
    session.expire_all()
    claim = moment(session, cast.harbour, "claim")
    assert (claim.weight_source, claim.learned_weight, claim.learned_n, claim.learned_at) == ("learned", 3.0, 30, NOW)
    assert claim.weight == 3.0
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "moment.weight_learned")).one()
    assert audit.user_id == cast.alice.id and "learned from 30 answers" in audit.summary
    note = "weights: learned for Claims and hardship 3, learned from 30 answers on 23 Nov 2026; the owner's for the rest"
    assert learned.weights_note(cast.harbour.moments, "Europe/London") == note
    assert note in text_of(browser.get("/methodology"))
    assert note in text_of(browser.get("/"))
    # Back to the owner's stake.
    browser.post(f"/moments/{claim.id}/weights", {"weights": "owner"})
    session.expire_all()
    claim = moment(session, cast.harbour, "claim")
    assert claim.weight_source == "owner" and claim.learned_weight is None and claim.weight == 3.0
    assert "weights: the owner's" in text_of(browser.get("/methodology"))


def test_adopting_is_refused_below_the_minimum_and_nothing_changes(session, cast, browser) -> None:  # type: ignore[no-untyped-def]
    service = moment(session, cast.harbour, "service")
    response = browser.sign_in("alice@harbour.test").post(f"/moments/{service.id}/weights", {"weights": "learned"},
                                                           follow_redirects=True)
    assert ("Everyday service has not enough answers yet (n=0 unhappy, 0 happy; 5 of each needed), so there is no "
            "learned weight to use yet") in text_of(response)
    session.expire_all()
    assert moment(session, cast.harbour, "service").weight_source == "owner"
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "moment.weight_learned")).all()


def test_use_every_learned_weight_adopts_those_with_enough_answers(session, cast, browser, app) -> None:  # type: ignore[no-untyped-def]
    _claims_fixture(session, cast)
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    response = browser.sign_in("alice@harbour.test").post("/moments/weights", {"weights": "learned"},
                                                           follow_redirects=True)
    assert "Scores use learned weights for 1 moment; 8 without enough answers keep your stake." in text_of(response)
    session.expire_all()
    sources = {m.key: m.weight_source for m in session.scalars(
        select(MomentOfTruth).where(MomentOfTruth.practice_id == cast.harbour.id))}
    assert sources.pop("claim") == "learned" and set(sources.values()) == {"owner"}
    browser.post("/moments/weights", {"weights": "owner"})
    session.expire_all()
    assert moment(session, cast.harbour, "claim").weight_source == "owner"


def test_a_practice_where_every_moment_is_learned_on_one_day_says_so_in_one_phrase(session, cast) -> None:  # type: ignore[no-untyped-def]
    for m in cast.harbour.moments:
        m.weight_source, m.learned_weight, m.learned_n, m.learned_at = "learned", 2.0, 10, NOW
    assert learned.weights_note(cast.harbour.moments, "Europe/London") == "weights: learned from 90 answers on 23 Nov 2026"


def test_a_partners_score_weighs_its_moments_by_the_adopted_weight(session, cast) -> None:  # type: ignore[no-untyped-def]
    claim, service = moment(session, cast.harbour, "claim"), moment(session, cast.harbour, "service")
    service.weight_source, service.learned_weight, service.learned_n, service.learned_at = "learned", 2.5, 40, NOW

    def scored(m: MomentOfTruth, harm: float) -> MomentScore:
        score = MomentScore(m, FeedbackCounts(), ProbeCounts(), Health(), 5)
        score.harm = Harm(harm, harm, harm)
        return score

    partner = score_partner(cast.acme, [scored(claim, 0.2), scored(service, 0.4)], exposure=120, exposure_assumed=False)
    # (3 × 0.2 + 2.5 × 0.4) ÷ 5.5 = 1.6 ÷ 5.5; with the owner's stakes it would be (0.6 + 0.4) ÷ 4 = 0.25.
    assert partner.harm is not None and partner.harm.value == pytest.approx(1.6 / 5.5)
    assert partner.mean_stake == pytest.approx(2.75)
    assert partner.damage is not None and partner.damage.value == pytest.approx(120 * 2.75 / 3 * 1.6 / 5.5)
