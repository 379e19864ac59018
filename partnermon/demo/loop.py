"""The demo's closing of the loop (issue 19): what became of the clients of its resolved follow-ups, and
their answers to the recovery check-in a week later. Two stories to find:

1. Northgate Mutual, the insurer whose claims portal is getting worse, cost the practice two clients this
   year: the last two of its brand-harm follow-ups resolved this year ended with the client leaving the
   practice, and one more with the client moving to Solent Life Assurance. Every other client stayed, bar a
   few whose outcome is not known.
2. Calls win back more clients than emails: the answers to the check-ins follow fixed patterns by the rung on
   which the client was reached — about three in eight "yes" after an email, three in four after a phone
   call and seven in eight after a meeting — so every seed tells the same story with enough answers to show it.

Deterministic without the random generator (patterns by position), so the rest of the demo's history is what
it was. Only check-ins long finished are made (answered, expired, or skipped for a client who left): none is
scheduled or waiting, so nothing is ever sent for the demo.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.demo.cast import Cast
from partnermon.models import FeedbackRequest
from partnermon.scoring.periods import this_year

LOST_FROM = "Northgate Mutual"
MOVED_TO = "Solent Life Assurance"
LEFT_THIS_YEAR = 2
MOVED_THIS_YEAR = 1
UNKNOWN_EVERY = 13          # one resolved follow-up in this many elsewhere: the adviser could not tell
# A check-in link lasts this long once sent; only check-ins whose link has run out by now are made.
CHECK_IN_OPEN = timedelta(days=14)
# The answers, in turn, to the check-ins of follow-ups resolved on each rung (None: never answered, expired).
ANSWERS: dict[str, tuple[str | None, ...]] = {
    "email": ("yes", "no", "partly", "no", None, "yes", "no", "partly", "yes", "no"),
    "phone": ("yes", "yes", "no", "yes", None, "yes", "partly", "yes", "yes", None),
    "meeting": ("yes", "yes", "yes", "partly", "yes", None, "yes", "yes", "yes", None),
}
NOTES = {
    "left": "The client has moved their business to another adviser after the claim; we could not win them back.",
    "moved": "Moved the client to an alternative provider at their request.",
    "unknown": "Could not reach the client again to find out.",
}


def settle_outcomes(follow_ups: list[dict[str, Any]], cast: Cast, now: datetime) -> None:
    """Set ``outcome_kind`` (and, for those that did not stay, the note) on the resolved follow-ups' fields."""
    by_name = {p.partner.name: p.id for p in cast.partners}
    insurer, other = by_name.get(LOST_FROM), by_name.get(MOVED_TO)
    year = this_year(now, cast.practice.timezone)
    resolved = [f for f in follow_ups if f["status"] == "resolved"]
    for index, fields in enumerate(resolved):
        fields["outcome_kind"] = "unknown" if index % UNKNOWN_EVERY == UNKNOWN_EVERY - 1 else "stayed"
    # The latest of the insurer's resolved this year, the clients who said the practice looked worse first.
    lost = sorted((f for f in resolved if f["partner_id"] == insurer and year.start <= f["resolved_at"] < year.end),
                  key=lambda f: (f["severity"] == "brand", f["resolved_at"]), reverse=True)
    for fields in lost[:LEFT_THIS_YEAR]:
        fields.update(outcome_kind="left", outcome=NOTES["left"])
    if other is not None:
        for fields in lost[LEFT_THIS_YEAR:LEFT_THIS_YEAR + MOVED_THIS_YEAR]:
            fields.update(outcome_kind="moved", moved_to_partner_id=other, outcome=NOTES["moved"])
    for fields in resolved:
        if fields["outcome_kind"] == "unknown":
            fields["outcome"] = NOTES["unknown"]


def check_in_rows(session: Session, follow_ups: list[dict[str, Any]], ids: list[int], cast: Cast, now: datetime
                  ) -> list[dict[str, Any]]:
    """The recovery check-ins of the resolved follow-ups whose link has run out by ``now``."""
    wait = timedelta(days=cast.practice.recovery_check_in_days)
    done = [(f, fid) for f, fid in zip(follow_ups, ids)
            if f["status"] == "resolved" and f["resolved_at"] + wait + CHECK_IN_OPEN <= now]
    request_ids = [f["request_id"] for f, _ in done if f["request_id"] is not None]
    clients = {rid: (name, email) for rid, name, email in session.execute(
        select(FeedbackRequest.id, FeedbackRequest.client_name, FeedbackRequest.client_email)
        .where(FeedbackRequest.id.in_(request_ids)))} if request_ids else {}
    turns = {rung: 0 for rung in ANSWERS}
    rows = []
    for fields, follow_up_id in sorted(done, key=lambda item: (item[0]["resolved_at"], item[1])):
        due = fields["resolved_at"] + wait
        name, email = clients.get(fields["request_id"], ("", ""))
        row: dict[str, Any] = {
            "practice_id": cast.practice.id, "follow_up_id": follow_up_id, "round": 1,
            "partner_id": fields["partner_id"], "reached_rung": fields["rung"], "assignee_id": fields["assignee_id"],
            "client_name": name or "", "client_email": email or "", "token_hash": None, "skipped_reason": "",
            "created_at": fields["resolved_at"], "due_at": due, "sent_at": None, "expires_at": None,
            "opened_at": None, "answered_at": None, "answer": None, "comment": ""}
        if fields["outcome_kind"] == "left":
            row.update(status="skipped", skipped_reason="The client has left the practice.")
        elif not email:
            row.update(status="skipped", skipped_reason="No email address for the client.")
        else:
            pattern = ANSWERS.get(fields["rung"], ANSWERS["email"])
            answer = pattern[turns.get(fields["rung"], 0) % len(pattern)]
            turns[fields["rung"]] = turns.get(fields["rung"], 0) + 1
            row.update(sent_at=due, expires_at=due + CHECK_IN_OPEN)
            if answer is None:
                row["status"] = "expired"
            else:
                answered = due + timedelta(hours=3 + 7 * (follow_up_id % 5))
                row.update(status="answered", answer=answer, opened_at=answered - timedelta(minutes=2),
                           answered_at=answered)
        rows.append(row)
    return rows
