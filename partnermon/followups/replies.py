"""A personal reply to the client, drafted (issue 19): on the email rung the follow-up page offers a short email
written from what the client said — the partner, the moment, their comment — and a line saying what the practice
will do, which the adviser fills in; they edit it and send it through the outbox, answers going to them.

``draft`` is pure and deterministic (the page shows it, the tests read it). ``send_reply`` queues the email and
records the contact on the timeline in the caller's transaction; the form's one-time key is the email's
dedupe key, so a double submit queues one email and records one contact. Like every step, who may send (not a
viewer) is the caller's check; another practice's follow-up is ``NotFound``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.followups import ladder, service
from partnermon.followups.emails import Client, client_of
from partnermon.followups.timeline import check_actor
from partnermon.mail import outbox
from partnermon.models import User
from partnermon.models.followups import FollowUp

MAX_SUBJECT = 150
MAX_BODY = 5000
# The client's comment is quoted, not repeated: a line or two is enough to show it was read.
QUOTE_LENGTH = 200
# What stands in the draft until the adviser says what the practice will do; a draft still holding it is
# not sent (the client would read the instruction).
TO_DO_MARK = "[Say what we will do"
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lady", "lord", "rev"}
SUBMISSION = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
TEMPLATE = "followup_reply"
# As recovery check-ins (recovery.UNVERIFIED): anyone may type anyone's address on the open link.
UNVERIFIED = ("This address was typed on the open link and has not been confirmed, so partnermon will not write to "
              "it; reply from your own email if you know the client.")


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


@dataclass(frozen=True)
class Offer:
    """What the follow-up page offers its writer: a draft, or why there is none."""

    draft: Draft | None
    reason: str
    reply_to: str


def offer(follow_up: FollowUp, writer: User) -> Offer | None:
    """None when the page offers no email at all (resolved, or a phone call or meeting is called for)."""
    if follow_up.status == "resolved" or follow_up.rung != "email":
        return None
    reason = why_no_reply(follow_up)
    return Offer(None if reason else draft(follow_up, writer), reason, writer.email)


def why_no_reply(follow_up: FollowUp) -> str:
    """Why the page offers no draft ("" when it does): only on the email rung, before it is resolved, to a
    client whose address is known and came with a personal link (not typed, unconfirmed, on the open link)."""
    if follow_up.status == "resolved":
        return "This follow-up is resolved."
    if follow_up.rung != "email":
        return f"This follow-up calls for a {ladder.RUNG_LABELS[follow_up.rung].lower()}, not an email."
    client = client_of(follow_up)
    if not client.email:
        return "The client left no email address, so there is nobody to write to."
    if not client.verified:
        return UNVERIFIED
    return ""


def greeting_name(name: str) -> str:
    """How to greet the client: their first name ("Dana Smith" → "Dana"); with a title, the title and the rest
    ("Dr Ann Lee" stays so); nothing when no name is known."""
    words = name.split()
    if not words:
        return ""
    if words[0].rstrip(".").lower() in TITLES and len(words) > 1:
        return " ".join(words)
    return words[0]


def quote(comment: str, limit: int = QUOTE_LENGTH) -> str:
    """The client's comment on one line, cut to ``limit`` characters: at the end of a sentence if one ends in
    the second half, else at a word, with "…" when cut."""
    text = " ".join(comment.split())
    if len(text) <= limit:
        return text
    head = text[:limit + 1]
    ends = [match.end() for match in re.finditer(r"[.!?](?=\s)", head) if match.end() <= limit]
    if ends and ends[-1] >= limit // 2:
        return head[:ends[-1]] + " …"
    cut = head.rfind(" ")
    return (head[:cut] if cut > limit // 2 else text[:limit]).rstrip(" ,;:-") + "…"


def draft(follow_up: FollowUp, writer: User, *, to_do: str = "") -> Draft:
    """The suggested email from ``writer`` (who will send it) to the follow-up's client. ``to_do``: what the
    practice will do; empty, the draft holds a line (TO_DO_MARK) asking the writer to say it."""
    practice, partner = follow_up.practice, follow_up.partner.name
    name = greeting_name(client_of(follow_up).name)
    about = f" ({follow_up.moment.name.lower()})" if follow_up.moment is not None else ""
    comment = quote(follow_up.response.comment or "")
    lines = [f"Hello {name}," if name else "Hello,", ""]
    if comment:
        lines += [f"Thank you for telling us about your experience with {partner}{about}. You wrote:", "",
                  f"“{comment}”", ""]
    else:
        lines += [f"Thank you for telling us about your experience with {partner}{about}.", ""]
    lines += [f"I am sorry it went that way. {practice.name} recommended {partner} to you, so it matters to us too.",
              "", " ".join(to_do.split()) or f"{TO_DO_MARK}, e.g. raise it with {partner} and let you know.]", "",
              "If you would like to talk it through, just reply to this email.", "", "Kind regards,"]
    lines += [writer.name.strip(), practice.name] if writer.name.strip() else [practice.name]
    return Draft(subject=f"Your experience with {partner}", body="\n".join(lines))


def _check(follow_up: FollowUp, subject: str | None, body: str | None, submission: str | None) -> tuple[str, str]:
    form = v.Form()
    clean_subject = form.check(v.text, "subject", subject, max_length=MAX_SUBJECT, label="The subject")
    # Browsers send line breaks as CRLF; the email's parts are built from "\n".
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    clean_body = form.check(v.text, "body", body, max_length=MAX_BODY, label="The message", multiline=True)
    if clean_body and TO_DO_MARK in clean_body:
        form.add("body", "Replace the line in square brackets with what the practice will do.")
    if not SUBMISSION.match(submission or ""):
        form.add("submission", "This form is out of date. Please write the email again.")
    reason = why_no_reply(follow_up)
    if reason:
        form.add("status", f"{reason} No email was sent.")
    form.raise_if_errors()
    return clean_subject, clean_body


def send_reply(session: Session, now: datetime, follow_up: FollowUp, actor: User, *, subject: str | None,
               body: str | None, submission: str | None, base_url: str) -> bool:
    """Queue the personal email (From: the practice's sender; Reply-To: ``actor``; To: the client) and record the
    contact by email on the timeline. False, and nothing done, when this form (``submission``) was sent
    already: a double click or a retried post."""
    check_actor(follow_up, actor)
    clean_subject, clean_body = _check(follow_up, subject, body, submission)
    client: Client = client_of(follow_up)
    email = outbox.enqueue_first(
        session, now, template=TEMPLATE, to=client.email, dedupe_key=f"followup-reply:{follow_up.id}:{submission}",
        base_url=base_url, practice_id=follow_up.practice_id, reply_to=actor.email,
        context={"practice": follow_up.practice, "subject": clean_subject, "body": clean_body})
    if email is None:
        return False
    service.record_contacted(session, now, follow_up, actor, channel="email", result="reached",
                             note=f"Sent a personal email: {clean_subject}", base_url=base_url)
    return True
