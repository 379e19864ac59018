"""Suggested actions: what a practice could do about a partner's breaches and warnings, in the words an
owner would use with the partner's account manager. Shared by the partner page and the monthly report.
"""

from __future__ import annotations

from partnermon.scoring.attribution import PartnerScore
from partnermon.scoring.thresholds import Breach
from partnermon.scoring.warnings import Change


def suggested_actions(score: PartnerScore, breaches: list[Breach], changes: list[Change]) -> list[str]:
    """At most one sentence per moment and kind of problem, most serious first; empty when all is well."""
    said: set[tuple[str, str]] = set()
    actions: list[str] = []

    def add(moment: str, kind: str, sentence: str) -> None:
        if (moment, kind) not in said:
            said.add((moment, kind))
            actions.append(sentence)

    name = score.partner.name
    for moment in score.moments:
        if moment.health.contact_missing:
            add(moment.name, "contact", f"Ask {name} to put a way to reach a person (a phone number, email or chat) "
                                        f"back on their {moment.name.lower()} pages.")
    for breach in breaches:
        moment = breach.moment.name
        key = breach.measure.key
        if key == "bh_availability":
            add(moment, "outage", f"Raise the {moment.lower()} outages in business hours with the account manager "
                                  f"and ask what is being done about them.")
        elif key == "p95_ms":
            add(moment, "slow", f"Tell {name} their {moment.lower()} pages are slow for your clients "
                                f"(p95 {breach.measure.describe(breach.value)}).")
        elif key in ("dissatisfaction", "brand_harm"):
            add(moment, "feedback", f"Go through the {moment.lower()} comments with the account manager: "
                                    f"{breach.describe().lower()}.")
    for change in changes:
        if change.direction == "worse":
            before, after = change.shares
            add(change.moment.name, "change", f"Ask {name} what changed at “{change.moment.name}”: "
                                              f"{change.rate.label.lower()} rose from {before} to {after}.")
    for moment in score.moments:
        if moment.health.certificates_expiring:
            add(moment.name, "certificate", f"Remind {name} that a certificate on their {moment.name.lower()} "
                                            f"pages expires within 14 days.")
        if moment.health.overdue_follow_ups:
            add(moment.name, "followups", f"Contact the clients whose {moment.name.lower()} follow-ups are overdue.")
    return actions
