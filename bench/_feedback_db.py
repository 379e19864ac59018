"""The feedback benchmark's data: a practice and partner made by the product's services, feedback links
(bulk-inserted rows identical to what ``create_request`` writes, checked against a few it did write), the
answers to post to them, and the checks after a run."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from _bench_db import check_schema, refuse_other_practices
from _readings import log, utcnow

PRACTICE_SLUG = "bench-feedback"
PARTNER_NAME = "Bench partner"
REFERENCE_REQUESTS = 20      # made through the service, never posted: what the bulk-inserted rows are checked against
# Columns that differ between any two requests of one practice, partner and moment by construction.
PER_LINK_COLUMNS = {"id", "token_hash", "client_email", "client_name", "created_at", "expires_at"}


@dataclass
class FeedbackFixture:
    practice_id: int
    partner_id: int
    link_days: int


def prepare(engine: Any, base_url: str, add_missing: bool = False) -> FeedbackFixture:
    """The schema, one practice (default moments of truth) and one partner, made by the product's own
    services (reused if an earlier run left them), and a few reference requests made by ``create_request``."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from partnermon import schema
    from partnermon.feedback.links import create_request
    from partnermon.models import FeedbackRequest, Partner, Practice
    from partnermon.partners.service import create_partner
    from partnermon.practices.service import create_practice

    schema.upgrade(engine)
    check_schema(engine, add_missing)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        refuse_other_practices(session, PRACTICE_SLUG)
        practice = session.scalar(select(Practice).where(Practice.slug == PRACTICE_SLUG))
        if practice is None:
            practice = create_practice(session, now, slug=PRACTICE_SLUG, name="Bench practice", actor="bench")
            create_partner(session, now, practice.id, "bench", {"name": PARTNER_NAME})
            session.flush()
        partner = session.scalar(select(Partner).where(Partner.practice_id == practice.id,
                                                       Partner.name == PARTNER_NAME))
        assert partner is not None
        have = session.scalar(select(func.count()).select_from(FeedbackRequest).where(
            FeedbackRequest.practice_id == practice.id, FeedbackRequest.client_email.like("%@reference.bench.invalid")))
        for i in range(have or 0, REFERENCE_REQUESTS):
            create_request(session, now, practice, {"partner": PARTNER_NAME, "client_email": f"ref{i}@reference.bench.invalid",
                                                    "client_name": f"Reference client {i}"},
                           actor="bench", source="cli", base_url=base_url, override_throttle=True)
        session.commit()
        return FeedbackFixture(practice.id, partner.id, practice.feedback_link_days)


# --- the answers ------------------------------------------------------------------------------------

_WORDS = ("claim handled quickly and the adviser explained every step clearly but the portal kept timing out "
          "so I phoned instead and waited on hold for twenty minutes before someone answered my question about "
          "the policy documents which arrived later than promised").split()


def answers_for(rng: random.Random) -> dict[str, str]:
    """One client's form, as a browser posts it: a mix like real answers (most satisfied, some comments,
    a few asking to be contacted). Every value is valid, so each POST should be saved (303)."""
    form: dict[str, str] = {"satisfaction": str(rng.choices((1, 2, 3, 4, 5), (5, 7, 13, 35, 40))[0])}
    if rng.random() < 0.85:
        form["recommend"] = str(rng.randint(0, 10))
    if rng.random() < 0.7:
        form["effort"] = str(rng.randint(1, 7))
    if rng.random() < 0.7:
        form["brand_effect"] = rng.choice(("better", "same", "worse"))
    if rng.random() < 0.6:
        lines = [" ".join(rng.choices(_WORDS, k=rng.randint(4, 40))) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        form["comment"] = "\r\n".join(lines)
    if rng.random() < 0.15:
        form["wants_contact"] = "1"
        form["contact_channel"] = rng.choice(("phone", "email"))
        if form["contact_channel"] == "phone":
            form["contact_phone"] = f"+44 20 7946 {rng.randint(0, 9999):04d}"
    return form


def encode(form: dict[str, str]) -> str:
    return urlencode(form)


# --- the links --------------------------------------------------------------------------------------

@dataclass
class Batch:
    label: str                   # the client emails' domain part: <label>.bench.invalid
    tokens: list[str]
    forms: list[dict[str, str]]
    seconds: float               # how long inserting took

    @property
    def email_domain(self) -> str:
        return f"{self.label}.bench.invalid"


def seed_links(engine: Any, fx: FeedbackFixture, n: int, label: str, seed: int) -> Batch:
    """``n`` new feedback links for the bench's partner, bulk-inserted with the values ``create_request``
    gives a CLI request with the throttle overridden (no touchpoint, moment or adviser; status queued;
    expiring after the practice's link days). No invitation emails or audit rows are written for them:
    the client's POST reads neither."""
    from sqlalchemy import insert, text

    from partnermon.accounts.security import new_token, token_hash
    from partnermon.models import FeedbackRequest

    started = time.monotonic()
    rng = random.Random(seed)
    now = utcnow()
    expires = now + timedelta(days=fx.link_days)
    tokens = [new_token() for _ in range(n)]
    forms = [answers_for(rng) for _ in range(n)]
    domain = f"{label}.bench.invalid"
    rows = [{"practice_id": fx.practice_id, "partner_id": fx.partner_id, "touchpoint_id": None, "moment_id": None,
             "adviser_id": None, "client_name": f"Bench client {i}", "client_email": f"client{i}@{domain}",
             "external_ref": None, "token_hash": token_hash(token), "status": "queued", "source": "cli",
             "created_at": now, "expires_at": expires, "sent_at": None, "opened_at": None, "answered_at": None,
             "revoked_at": None, "throttle_overridden": True} for i, token in enumerate(tokens)]
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(FeedbackRequest), rows[start:start + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE feedback_request, feedback_response"))
    return Batch(label, tokens, forms, time.monotonic() - started)


def compare_with_service(engine: Any, fx: FeedbackFixture, batch: Batch) -> dict[str, Any]:
    """A bulk-inserted row next to one ``create_request`` wrote: every column but the per-link ones must be
    equal, and the link lifetime (expires_at − created_at) too."""
    from sqlalchemy import select

    from partnermon.models import FeedbackRequest

    table = FeedbackRequest.__table__
    with engine.connect() as conn:
        ref = conn.execute(select(table).where(table.c.practice_id == fx.practice_id,
                                               table.c.client_email.like("%@reference.bench.invalid"))
                           .order_by(table.c.id).limit(1)).mappings().one()
        ours = conn.execute(select(table).where(table.c.client_email == f"client0@{batch.email_domain}")
                            ).mappings().one()
    differing = sorted(c for c in ref.keys() if c not in PER_LINK_COLUMNS and ref[c] != ours[c])
    same_lifetime = (ref["expires_at"] - ref["created_at"]) == (ours["expires_at"] - ours["created_at"])
    return {"columns_compared": sorted(c for c in ref.keys() if c not in PER_LINK_COLUMNS),
            "differing": differing, "same_link_lifetime": same_lifetime,
            "identical": not differing and same_lifetime}


# --- after a run ------------------------------------------------------------------------------------

ANSWER_FIELDS = ("satisfaction", "recommend", "effort", "brand_effect", "comment", "wants_contact",
                 "contact_channel", "contact_phone")


def _expected(form: dict[str, str]) -> tuple[Any, ...]:
    wants = form.get("wants_contact") == "1"
    return (int(form["satisfaction"]),
            int(form["recommend"]) if "recommend" in form else None,
            int(form["effort"]) if "effort" in form else None,
            form.get("brand_effect"),
            form.get("comment", "").strip(),
            wants,
            form.get("contact_channel") if wants else None,
            form.get("contact_phone", "") if wants else "")


def verify(engine: Any, batch: Batch, saved_posts: int, unknown_outcome: int, sent: int) -> dict[str, Any]:
    """The database after a run: one response per 303, never two for one link, answers stored as posted."""
    from sqlalchemy import func, select

    from partnermon.accounts.security import token_hash
    from partnermon.models import FeedbackRequest, FeedbackResponse

    expected = {token_hash(t): _expected(f) for t, f in zip(batch.tokens, batch.forms)}
    in_batch = FeedbackRequest.client_email.like(f"%@{batch.email_domain}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(FeedbackRequest.token_hash, FeedbackRequest.status,
                   *(getattr(FeedbackResponse, f) for f in ANSWER_FIELDS))
            .join(FeedbackResponse, FeedbackResponse.request_id == FeedbackRequest.id).where(in_batch)).all()
        answered = conn.scalar(select(func.count()).select_from(FeedbackRequest)
                               .where(in_batch, FeedbackRequest.status == "answered"))
        doubled = conn.scalar(select(func.count()).select_from(
            select(FeedbackResponse.request_id).where(FeedbackResponse.request_id.is_not(None))
            .group_by(FeedbackResponse.request_id).having(func.count() > 1).subquery()))
    mismatched = sum(1 for row in rows if expected.get(row[0]) != tuple(row[2:]))
    responses = len(rows)
    return {
        "links_posted": sent,
        "saved_posts_303": saved_posts,
        "posts_with_unknown_outcome": unknown_outcome,
        "feedback_response_rows": responses,
        "requests_marked_answered": answered,
        "links_with_two_responses": doubled,
        "responses_not_matching_what_was_posted": mismatched,
        # A POST whose answer never arrived (timeout) may or may not have been saved; none is expected.
        "ok": (saved_posts <= responses <= saved_posts + unknown_outcome) and doubled == 0 and mismatched == 0
              and answered == responses,
    }


def log_seed(batch: Batch) -> None:
    log(f"seeded {len(batch.tokens)} links ({batch.label}) in {batch.seconds:.1f} s")
