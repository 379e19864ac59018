"""The demo's promises (issue 20): Northgate Mutual's own words about its claims portal ("loads in under 2
seconds"), which its slow last months clearly break; a tacit availability promise at Solent Life that holds;
and what the practice expects of its own booking page. Written through the promise service, so they are what
an owner would have typed. Nothing is told: the demo practice's alerts never run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from partnermon.demo.cast import ACTOR, Cast
from partnermon.promises import service

# (partner, touchpoint, kind, measure, target, quote, source)
PROMISES = (
    ("Northgate Mutual", "Claims portal", "explicit", "p95_ms", "2000",
     "Our online claims portal loads in under 2 seconds.", "https://www.northgate-mutual.example/service-standards"),
    ("Solent Life Assurance", "Claims form", "tacit", "availability", "99", "", ""),
    (None, "Booking page", "tacit", "satisfaction", "80", "", ""),
)


def write_promises(session: Session, at: datetime, cast: Cast) -> int:
    made = 0
    for partner_name, touchpoint_name, kind, measure, target, quote, source in PROMISES:
        demo = next((p for p in cast.partners if (p.partner.is_own_practice if partner_name is None
                                                  else p.partner.name == partner_name)), None)
        touchpoint = next((t for t in demo.touchpoints if t.touchpoint.name == touchpoint_name), None) if demo else None
        if demo is None or touchpoint is None:
            continue    # a smaller demo (fewer partners or touchpoints) lacks it
        service.create_promise(session, at, demo.partner, ACTOR, {
            "kind": kind, "measure": measure, "target": target, "quote": quote, "source": source,
            "scope": f"touchpoint:{touchpoint.id}"})
        made += 1
    return made
