"""Done-when of issue 14: every exported score is recomputed from the exported raw responses of the same month,
through ``partnermon export`` in both formats, and agrees exactly — per partner × moment and per partner,
each feedback measure's n, rate and interval (or its absence below the minimum).

The recomputation is written here from the textbook formulas (Wilson; adjusted Wald for NPS, Rocks 2016),
independently of partnermon.scoring, and rounded as the export documents (shares to 6 places, NPS to 4).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import timedelta
from typing import Any, Callable

import pytest
from click.testing import Result
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import NOW
from tests.factories import Cast
from tests.scoring_fixtures import respond, utc

Z = 1.959963984540054
MINIMUM = 5
MOMENTS = ["claim", "service", "renewal", None]


def wilson(k: int, n: int) -> tuple[float, float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def adjusted_wald(promoters: int, detractors: int, n: int) -> tuple[float, float, float]:
    m = n + 3
    pro, det = (promoters + 0.75) / m, (detractors + 0.75) / m
    centre = pro - det
    half = Z * math.sqrt(max((pro + det - centre * centre) / m, 0.0))
    return 100 * (promoters - detractors) / n, max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


def expected_measures(responses: list[dict[str, Any]]) -> dict[str, Any]:
    """Each measure's n, and its value and interval from the minimum, from raw response rows."""
    def number(value: Any) -> int | None:
        return None if value in (None, "") else int(value)

    sat = [number(r["satisfaction"]) for r in responses]
    rec = [x for x in (number(r["recommend"]) for r in responses) if x is not None]
    eff = [x for x in (number(r["effort"]) for r in responses) if x is not None]
    brand = [r["brand_effect"] for r in responses if r["brand_effect"]]
    out: dict[str, Any] = {}
    shares = {"csat": (sum(1 for s in sat if s is not None and s >= 4), len(sat)),
              "dissatisfaction": (sum(1 for s in sat if s is not None and s <= 2), len(sat)),
              "brand_harm": (brand.count("worse"), len(brand)),
              "ces": (sum(1 for e in eff if e >= 5), len(eff))}
    for key, (k, n) in shares.items():
        out[f"{key}_n"] = n
        values = [round(x, 6) for x in wilson(k, n)] if n >= MINIMUM else [None, None, None]
        out |= dict(zip((key, f"{key}_low", f"{key}_high"), values))
    out["nps_n"] = len(rec)
    values = ([round(x, 4) for x in adjusted_wald(sum(1 for x in rec if x >= 9), sum(1 for x in rec if x <= 6), len(rec))]
              if len(rec) >= MINIMUM else [None, None, None])
    out |= dict(zip(("nps", "nps_low", "nps_high"), values))
    out["responses"] = len(responses)
    return out


def parse(output: str, format_: str) -> list[dict[str, Any]]:
    if format_ == "json":
        return json.loads(output)
    rows = list(csv.DictReader(io.StringIO(output)))
    for row in rows:
        for key, value in row.items():
            if value == "":
                row[key] = None
            elif key.endswith("_n") or key in ("responses", "satisfaction", "recommend", "effort"):
                row[key] = int(value)
            elif key in SHARE_COLUMNS:
                row[key] = float(value)
    return rows


SHARE_COLUMNS = {f"{m}{s}" for m in ("csat", "dissatisfaction", "brand_harm", "ces", "nps") for s in ("", "_low", "_high")}


def a_month_of_answers(session: Session, cast: Cast, seed: int) -> None:
    """Three partners, answers spread over moments (some under the minimum), questions skipped at random,
    open-link answers that must not count, and answers of October and December that must not either."""
    rng = random.Random(seed)
    beacon = factories.partner(session, NOW, cast.harbour, "Beacon Platform", category="platform", exposure="60")
    coral = factories.partner(session, NOW, cast.harbour, "Coral Lending", category="lender")
    for partner, count in ((cast.acme, 60), (beacon, 23), (coral, 4)):
        for i in range(count):
            at = utc(2026, 11, 1) + timedelta(hours=rng.randrange(0, 29 * 24))
            respond(session, partner, at, rng.choice(MOMENTS), satisfaction=rng.randint(1, 5),
                    recommend=rng.choice([None, *range(11)]), effort=rng.choice([None, None, *range(1, 8)]),
                    brand_effect=rng.choice([None, None, "better", "same", "worse"]),
                    verified=rng.random() > 0.1)
    respond(session, cast.acme, utc(2026, 10, 31, 12), "claim", satisfaction=1)   # October
    respond(session, cast.acme, utc(2026, 12, 1, 1), "claim", satisfaction=1)     # December
    session.commit()


@pytest.mark.parametrize("format_", ["csv", "json"])
def test_every_exported_score_is_recomputed_exactly_from_the_exported_responses(
        session: Session, cast: Cast, cli: Callable[..., Result], format_: str) -> None:
    a_month_of_answers(session, cast, seed=14)
    common = ("export", "--practice", "harbour", "--format", format_, "--month", "2026-11")
    responses_out = cli(*common, "--what", "responses")
    scores_out = cli(*common, "--what", "scores")
    assert responses_out.exit_code == 0 and scores_out.exit_code == 0, responses_out.output + scores_out.output
    responses = [r for r in parse(responses_out.output, format_) if r["verified"] in (True, "True")]
    scores = parse(scores_out.output, format_)

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in responses:
        groups.setdefault((r["partner"], r["moment"] or "Moment not given"), []).append(r)
        groups.setdefault((r["partner"], "All moments"), []).append(r)
    checked = 0
    for row in scores:
        if row["responses"] == 0 and (row["partner"], row["moment"]) not in groups:
            continue   # a moment with checks only
        expected = expected_measures(groups[(row["partner"], row["moment"])])
        assert {k: row[k] for k in expected} == expected, (row["partner"], row["moment"])
        checked += 1
    # Every group of answers has its row: per partner × moment and per partner.
    assert checked == len(groups) and len(groups) > 10
    # Some measures were below the minimum and some above, so both branches were compared.
    assert any(r["brand_harm"] is None and r["brand_harm_n"] for r in scores)
    assert any(r["nps"] is not None for r in scores)
