"""The demo practice's cast: the practice itself, its people, its partners, their touchpoints and probes.

Everything here goes through the product's own services (``practices.create_practice``,
``accounts.create_user``, ``partners.create_partner``/``create_touchpoint``, ``probe_settings.save_probe``),
so the rows are exactly what a person setting up a practice by hand would get. Every probe is saved
paused: the demo must never make an outbound request, and a paused probe also raises no alerts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from partnermon.accounts import service as accounts
from partnermon.demo import catalogue
from partnermon.demo.catalogue import PartnerSpec, TouchpointSpec
from partnermon.models import MomentOfTruth, Partner, Practice, Probe, Touchpoint, User
from partnermon.partners import own, probe_settings
from partnermon.partners import service as partners
from partnermon.practices import service as practices

ACTOR = "demo"
PROBE_INTERVAL = 300
# Probes call a check degraded beyond this (portals are allowed longer). Each is an edge of the rollups'
# latency histogram, so a rollup's degraded count can be read straight off its buckets.
SLOW_AFTER_MS = {"content": 3000, "http": 2000, "tls": 1500}


@dataclass
class DemoTouchpoint:
    """A touchpoint as the history generators need it: ids, how it behaves, and its probe's check times."""

    touchpoint: Touchpoint
    partner: "DemoPartner"
    spec: TouchpointSpec
    moment: MomentOfTruth
    probe: Probe | None
    # Checks run every PROBE_INTERVAL seconds at this many seconds past each five-minute mark.
    offset: int = 0

    @property
    def id(self) -> int:
        return self.touchpoint.id


@dataclass
class DemoPartner:
    partner: Partner
    spec: PartnerSpec
    touchpoints: list[DemoTouchpoint] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.partner.id


@dataclass
class Cast:
    practice: Practice
    owner: User
    staff: list[User]                 # everyone who may send feedback requests and work follow-ups
    users: list[User]
    partners: list[DemoPartner]
    touchpoints: list[DemoTouchpoint]

    @property
    def probed(self) -> list[DemoTouchpoint]:
        return [t for t in self.touchpoints if t.probe is not None]

    def story(self, name: str) -> DemoTouchpoint | None:
        return next((t for t in self.touchpoints if t.spec.story == name), None)


def user_email(person: catalogue.Person, slug: str) -> str:
    # The slug is in the domain: sign-in is by email across all practices, so two demos must not collide.
    return f"{person.local}@{slug}.harbour.example"


def make_practice(session: Session, at: datetime, slug: str, owner_password: str) -> tuple[Practice, list[User]]:
    practice = practices.create_practice(session, at, slug=slug, name=catalogue.PRACTICE_NAME,
                                         timezone="Europe/London", actor=ACTOR)
    practice.is_demo = True
    practice.open_feedback_link = True      # the demo has a few open-link answers to show
    users = []
    for person in catalogue.PEOPLE:
        # Only the owner gets a password: the others are there to be assigned work and to be looked at.
        password = owner_password if person.role == "owner" else None
        users.append(accounts.create_user(session, at, practice, email=user_email(person, slug), role=person.role,
                                          password=password, name=person.name, actor=ACTOR))
    return practice, users


def choose_partners(count: int, rng: random.Random) -> list[PartnerSpec]:
    """The named partners first (they carry the stories), then invented ones with ordinary behaviour."""
    chosen = list(catalogue.NAMED_PARTNERS[:count])
    chosen += [catalogue.generated_partner(i, rng) for i in range(count - len(chosen))]
    return chosen


def choose_touchpoints(specs: list[PartnerSpec], count: int) -> list[list[TouchpointSpec]]:
    """``count`` touchpoints shared out over the partners: their own, taken round-robin so every partner
    (and every story, which comes first in its partner's list) gets one before any gets many; once all are
    taken, more of the kind each partner's category has, round-robin again."""
    chosen: list[list[TouchpointSpec]] = [[] for _ in specs]
    depth = taken = 0
    while taken < count and any(depth < len(spec.touchpoints) for spec in specs):
        for index, spec in enumerate(specs):
            if taken < count and depth < len(spec.touchpoints):
                chosen[index].append(spec.touchpoints[depth])
                taken += 1
        depth += 1
    extra = 0
    while taken < count and specs:
        for index, spec in enumerate(specs):
            if taken < count:
                chosen[index].append(catalogue.extra_touchpoint(spec, extra))
                taken += 1
        extra += 1
    return chosen


def _probe_settings(spec: TouchpointSpec) -> dict[str, object]:
    checks = ["[STATUS] == 200"] if spec.kind != "tls" else ["[CERTIFICATE_EXPIRATION] > 7d"]
    data: dict[str, object] = {"kind": spec.kind, "checks": checks, "interval_seconds": str(PROBE_INTERVAL),
                               "degraded_after_ms": str(SLOW_AFTER_MS[spec.kind]), "enabled": "0"}
    if spec.kind == "content":
        data["human_contact"] = "soft"
        if spec.story == catalogue.CLAIMS_DECLINE:
            data["expect_text"] = "Start a claim"
    return data


def make_partners(session: Session, at: datetime, practice: Practice, partner_count: int, touchpoint_count: int,
                  rng: random.Random) -> tuple[list[DemoPartner], list[DemoTouchpoint]]:
    moments = {m.key: m for m in practice.moments}
    specs = choose_partners(partner_count, rng)
    made: list[DemoPartner] = []
    everything: list[DemoTouchpoint] = []
    for spec, touchpoint_specs in zip(specs, choose_touchpoints(specs, touchpoint_count)):
        partner = partners.create_partner(session, at, practice.id, ACTOR, {
            "name": spec.name, "category": spec.category, "website": spec.website, "exposure": str(spec.exposure),
            "notes": spec.notes, "account_manager_name": spec.manager, "account_manager_email": spec.manager_email,
            "account_manager_phone": f"020 7946 0{rng.randint(0, 999):03d}"})
        demo_partner = DemoPartner(partner, spec)
        for tp_spec in touchpoint_specs:
            url = None if tp_spec.path is None else f"https://www.{spec.domain}.example{tp_spec.path}"
            touchpoint = partners.create_touchpoint(session, at, partner, ACTOR, {
                "name": tp_spec.name, "moment": tp_spec.moment, "url": url or ""})
            probe = None
            if url is not None:
                probe = probe_settings.save_probe(session, at, touchpoint, ACTOR, _probe_settings(tp_spec), rng=rng)
            demo = DemoTouchpoint(touchpoint, demo_partner, tp_spec, moments[tp_spec.moment], probe,
                                  offset=rng.randrange(PROBE_INTERVAL))
            demo_partner.touchpoints.append(demo)
            everything.append(demo)
        made.append(demo_partner)
    return made, everything


def make_own(session: Session, at: datetime, practice: Practice, rng: random.Random) -> DemoPartner:
    """The practice's own booking page and website (partners.own): in the cast like a partner, so their
    history and their clients' answers are made the same way; every ranking leaves them out."""
    moments = {m.key: m for m in practice.moments}
    spec = catalogue.OWN_PRACTICE
    demo_partner = DemoPartner(own.ensure_own_partner(session, at, practice, ACTOR), spec)
    for tp_spec in spec.touchpoints:
        url = f"https://www.{spec.domain}.example{tp_spec.path}"
        touchpoint = partners.create_touchpoint(session, at, demo_partner.partner, ACTOR, {
            "name": tp_spec.name, "moment": tp_spec.moment, "url": url})
        probe = probe_settings.save_probe(session, at, touchpoint, ACTOR, _probe_settings(tp_spec), rng=rng)
        demo_partner.touchpoints.append(DemoTouchpoint(touchpoint, demo_partner, tp_spec, moments[tp_spec.moment],
                                                       probe, offset=rng.randrange(PROBE_INTERVAL)))
    return demo_partner


def make_cast(session: Session, at: datetime, *, slug: str, owner_password: str, partner_count: int,
              touchpoint_count: int, rng: random.Random) -> Cast:
    practice, users = make_practice(session, at, slug, owner_password)
    made, touchpoints = make_partners(session, at, practice, partner_count, touchpoint_count, rng)
    ours = make_own(session, at, practice, random.Random(rng.random()))
    made.append(ours)
    touchpoints.extend(ours.touchpoints)
    session.flush()
    owner = next(u for u in users if u.role == "owner")
    staff = [u for u in users if u.role in ("owner", "adviser")]
    return Cast(practice, owner, staff, users, made, touchpoints)
