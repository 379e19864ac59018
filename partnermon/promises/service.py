"""Adding, changing and removing a partner's promises, and listing them with this month's verdicts.

Every lookup takes the practice id: another practice's promise, partner, touchpoint or moment is not found.
A target that cannot be promised — 101 % availability, a negative or zero time, a p95 longer than a probe
waits — is a field message, and nothing is saved.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import PROMISE_KINDS, PROMISE_MEASURES, MomentOfTruth, Partner, Promise, Touchpoint, User
from partnermon.partners.probe_settings import MAX_TIMEOUT
from partnermon.promises import durations

MAX_QUOTE = 2000
MAX_SOURCE = 500
# A p95 cannot be measured above the longest a probe waits for an answer.
MAX_P95_MS = MAX_TIMEOUT * 1000


def list_promises(session: Session, partner: Partner) -> list[Promise]:
    return list(session.scalars(
        select(Promise).where(Promise.practice_id == partner.practice_id, Promise.partner_id == partner.id)
        .options(joinedload(Promise.touchpoint), joinedload(Promise.moment)).order_by(Promise.id)))


def practice_promises(session: Session, practice_id: int) -> list[Promise]:
    return list(session.scalars(
        select(Promise).where(Promise.practice_id == practice_id)
        .options(joinedload(Promise.partner), joinedload(Promise.touchpoint), joinedload(Promise.moment))
        .order_by(Promise.partner_id, Promise.id)))


def get_promise(session: Session, partner: Partner, promise_id: int) -> Promise:
    promise = session.scalar(select(Promise).where(Promise.id == promise_id, Promise.partner_id == partner.id,
                                                   Promise.practice_id == partner.practice_id))
    if promise is None:
        raise NotFound("No such promise.")
    return promise


def parse_target(measure: str, raw: str | None) -> float:
    """The target for ``measure`` from what was typed, or ValidationError on ``target`` saying what is possible."""
    text = (raw or "").strip().replace("%", "").replace(",", "").strip() if measure != "duration" else (raw or "")
    if measure == "duration":
        seconds = durations.parse("target", text, label="Target")
        if seconds is None:
            raise ValidationError({"target": 'Enter how long the partner allows, e.g. "2 days" or "4 hours".'})
        return float(seconds)
    if measure == "p95_ms":
        text = text.lower().removesuffix("ms").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not text or not math.isfinite(value):
        example = {"availability": "99.5", "satisfaction": "80", "p95_ms": "2000"}[measure]
        raise ValidationError({"target": f"Enter the target as a number, e.g. {example}."})
    if measure in ("availability", "satisfaction"):
        if not 0 < value <= 100:
            what = "availability" if measure == "availability" else "share of satisfied clients"
            raise ValidationError({"target": f"A {what} is a percentage above 0 and at most 100: "
                                             f"{raw.strip() if raw else value} cannot be promised."})
        return value
    if not 0 < value <= MAX_P95_MS:
        raise ValidationError({"target": f"A p95 response time must be more than 0 ms and at most {MAX_P95_MS:,} ms "
                                         f"(the longest a probe waits for an answer)."})
    return value


def _scope(session: Session, partner: Partner, raw: str | None, form: v.Form) -> tuple[Touchpoint | None, MomentOfTruth | None]:
    """"touchpoint:12", "moment:3" or empty (the whole partner)."""
    value = (raw or "").strip()
    if not value:
        return None, None
    kind, _, ref = value.partition(":")
    row_id = v.as_row_id(ref)
    if kind == "touchpoint" and row_id is not None:
        touchpoint = session.scalar(select(Touchpoint).where(Touchpoint.id == row_id, Touchpoint.partner_id == partner.id,
                                                             Touchpoint.practice_id == partner.practice_id))
        if touchpoint is not None:
            return touchpoint, None
    if kind == "moment" and row_id is not None:
        moment = session.scalar(select(MomentOfTruth).where(MomentOfTruth.id == row_id,
                                                           MomentOfTruth.practice_id == partner.practice_id))
        if moment is not None:
            return None, moment
    form.add("scope", "Choose one of this partner's touchpoints, a moment of truth, or all touchpoints.")
    return None, None


def _fields(session: Session, partner: Partner, data: Mapping[str, str]) -> dict[str, object]:
    form = v.Form()
    kind = form.check(v.choice, "kind", data.get("kind"), PROMISE_KINDS, "Kind")
    measure = form.check(v.choice, "measure", data.get("measure"), PROMISE_MEASURES, "Measure")
    touchpoint, moment = _scope(session, partner, data.get("scope"), form)
    quote = form.check(v.text, "quote", data.get("quote"), required=False, max_length=MAX_QUOTE, multiline=True,
                       label="Quote") or ""
    source = form.check(v.text, "source", data.get("source"), required=False, max_length=MAX_SOURCE,
                        label="Where it was stated") or ""
    if kind == "explicit":
        if not quote:
            form.add("quote", "Quote what the partner said, e.g. “Claims acknowledged within 2 business days”.")
        if not source:
            form.add("source", "Say where they said it: a web address, their service terms, an email of theirs.")
    target = form.check(parse_target, measure, data.get("target")) if measure else None
    if measure in ("availability", "p95_ms") and touchpoint is None and moment is None and not partner.touchpoints:
        form.add("scope", "This partner has no touchpoints to probe yet: add one first.")
    form.raise_if_errors()
    return {"kind": kind, "measure": measure, "touchpoint": touchpoint, "moment": moment, "quote": quote,
            "source": source, "target": target}


def create_promise(session: Session, now: datetime, partner: Partner, actor: User | str, data: Mapping[str, str]) -> Promise:
    fields = _fields(session, partner, data)
    promise = Promise(practice_id=partner.practice_id, partner_id=partner.id, created_at=now, updated_at=now, **fields)
    session.add(promise)
    session.flush()
    audit.record(session, now, partner.practice_id, actor, "promise.created", "promise", promise.id,
                 f"Added a promise for {partner.name}: {promise.measure_label}")
    return promise


def update_promise(session: Session, now: datetime, promise: Promise, actor: User, data: Mapping[str, str]) -> Promise:
    fields = _fields(session, promise.partner, data)
    changed_what = (fields["measure"], fields["target"]) != (promise.measure, promise.target)
    for name, value in fields.items():
        setattr(promise, name, value)
    promise.updated_at = now
    if changed_what:
        promise.told_for = None    # a different promise: breaking it is news again
    audit.record(session, now, promise.practice_id, actor, "promise.updated", "promise", promise.id,
                 f"Changed a promise of {promise.partner.name}")
    return promise


def delete_promise(session: Session, now: datetime, promise: Promise, actor: User) -> None:
    audit.record(session, now, promise.practice_id, actor, "promise.deleted", "promise", promise.id,
                 f"Removed a promise of {promise.partner.name}: {promise.measure_label}")
    session.delete(promise)


def form_values(promise: Promise) -> dict[str, str]:
    scope = (f"touchpoint:{promise.touchpoint_id}" if promise.touchpoint_id else
             f"moment:{promise.moment_id}" if promise.moment_id else "")
    target = (durations.describe(promise.target) if promise.measure == "duration"
              else f"{promise.target:g}")
    return {"kind": promise.kind, "measure": promise.measure, "scope": scope, "quote": promise.quote,
            "source": promise.source, "target": target}
