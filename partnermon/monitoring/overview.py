"""The Touchpoints page's list: every touchpoint of a practice with its state, last check, availability over the
last 24 hours and 30 days and its p95, filtered by partner, state and probe kind.

Read-only functions of ``(session, now, ...)``. Availability and percentiles come from rollups summed in SQL
(hourly ones for 24 hours, daily ones for 30 days), never from raw results: 300 touchpoints cost three queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import probes
from partnermon.models import DailyRollup, HourlyRollup, Partner, Probe, Touchpoint
from partnermon.models.monitoring import LATENCY_COLUMNS
from partnermon.monitoring.rollups import floor_hour, percentile
from partnermon.monitoring.status import STATE_LABELS, state_of

MONTH_DAYS = 30


@dataclass(frozen=True)
class Filters:
    partner_id: int | None = None
    state: str | None = None
    kind: str | None = None

    @property
    def any(self) -> bool:
        return self.partner_id is not None or self.state is not None or self.kind is not None


@dataclass(frozen=True)
class Availability:
    """Checks counted (outside maintenance) and the share that found the page working (up or degraded)."""

    checks: int = 0
    working: int = 0

    @property
    def share(self) -> float | None:
        return self.working / self.checks if self.checks else None


@dataclass(frozen=True)
class TouchpointRow:
    touchpoint: Touchpoint
    partner: Partner
    state: str                      # a key of STATE_LABELS
    kind: str | None                # the probe's kind, None without a probe
    last_checked_at: datetime | None
    last_error: str | None
    day: Availability               # the last 24 hours
    month: Availability             # the last 30 days (the practice's local days, today included)
    p95_ms: float | None            # over the same 30 days

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def parse_filters(session: Session, practice_id: int, args: Mapping[str, str]) -> tuple[Filters, dict[str, str]]:
    """The filters asked for in a query string, and an error per filter that cannot be used (that filter is then
    not applied). A partner is named by its id, which must be one of this practice's partners."""
    errors: dict[str, str] = {}
    partner_id = state = kind = None
    raw_partner = (args.get("partner") or "").strip()
    if raw_partner:
        found = session.scalar(select(Partner.id).where(Partner.practice_id == practice_id, Partner.id == int(raw_partner))) \
            if raw_partner.isascii() and raw_partner.isdigit() and len(raw_partner) < 12 else None
        if found is None:
            errors["partner"] = "That partner is not one of yours; choose a partner from the list."
        partner_id = found
    raw_state = (args.get("state") or "").strip()
    if raw_state:
        if raw_state in STATE_LABELS:
            state = raw_state
        else:
            errors["state"] = f"“{raw_state[:40]}” is not a state; choose one of: {', '.join(STATE_LABELS.values())}."
    raw_kind = (args.get("kind") or "").strip()
    if raw_kind:
        if raw_kind in probes.KINDS:
            kind = raw_kind
        else:
            labels = ", ".join(k.label for k in probes.KINDS.values())
            errors["kind"] = f"“{raw_kind[:40]}” is not a kind of probe; choose one of: {labels}."
    return Filters(partner_id, state, kind), errors


def touchpoint_rows(session: Session, now: datetime, practice_id: int, timezone: str,
                    filters: Filters = Filters()) -> list[TouchpointRow]:
    """The practice's touchpoints matching ``filters``, worst state first, then by partner and name."""
    query = (select(Touchpoint, Partner, Probe).join(Partner, Partner.id == Touchpoint.partner_id)
             .outerjoin(Probe, Probe.touchpoint_id == Touchpoint.id)
             .where(Touchpoint.practice_id == practice_id))
    if filters.partner_id is not None:
        query = query.where(Touchpoint.partner_id == filters.partner_id)
    if filters.kind is not None:
        query = query.where(Probe.kind == filters.kind)
    listed = [(t, p, probe, state_of(t, probe, now)) for t, p, probe in session.execute(query).all()]
    if filters.state is not None:
        listed = [row for row in listed if row[3] == filters.state]
    if not listed:
        return []
    ids = [t.id for t, *_ in listed]
    day = _hourly(session, practice_id, ids, now)
    month, p95 = _daily(session, practice_id, ids, now, ZoneInfo(timezone))
    order = list(STATE_LABELS)
    listed.sort(key=lambda row: (order.index(row[3]), row[1].name.lower(), row[0].name.lower()))
    return [TouchpointRow(t, partner, state, probe.kind if probe else None,
                          probe.last_checked_at if probe else None, probe.last_error if probe else None,
                          day.get(t.id, Availability()), month.get(t.id, Availability()), p95.get(t.id))
            for t, partner, probe, state in listed]


def _hourly(session: Session, practice_id: int, ids: list[int], now: datetime) -> dict[int, Availability]:
    h = HourlyRollup
    rows = session.execute(
        select(h.touchpoint_id, func.sum(h.up), func.sum(h.degraded), func.sum(h.down))
        .where(h.practice_id == practice_id, h.touchpoint_id.in_(ids),
               h.hour >= floor_hour(now - timedelta(hours=24)), h.hour <= now)
        .group_by(h.touchpoint_id))
    return {tid: Availability(int(up or 0) + int(deg or 0) + int(down or 0), int(up or 0) + int(deg or 0))
            for tid, up, deg, down in rows}


def _daily(session: Session, practice_id: int, ids: list[int], now: datetime, zone: ZoneInfo
           ) -> tuple[dict[int, Availability], dict[int, float | None]]:
    d = DailyRollup
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(d.touchpoint_id, func.sum(d.up), func.sum(d.degraded), func.sum(d.down),
               *(func.sum(getattr(d, name)) for name in LATENCY_COLUMNS))
        .where(d.practice_id == practice_id, d.touchpoint_id.in_(ids),
               d.day > today - timedelta(days=MONTH_DAYS), d.day <= today)
        .group_by(d.touchpoint_id))
    month: dict[int, Availability] = {}
    p95: dict[int, float | None] = {}
    for tid, up, deg, down, *buckets in rows:
        working = int(up or 0) + int(deg or 0)
        month[tid] = Availability(working + int(down or 0), working)
        p95[tid] = percentile([int(b or 0) for b in buckets], 0.95)
    return month, p95


def partner_choices(session: Session, practice_id: int) -> list[tuple[int, str]]:
    return [(pid, name) for pid, name in session.execute(
        select(Partner.id, Partner.name).where(Partner.practice_id == practice_id).order_by(func.lower(Partner.name)))]


def count_touchpoints(session: Session, practice_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.practice_id == practice_id)) or 0
