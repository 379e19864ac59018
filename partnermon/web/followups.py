"""Follow-up pages for practice staff: the queue (mine, all open, overdue, resolved), one follow-up with
everything the adviser needs and its history, and the steps: record contact, resolve, reopen, reassign.

Everyone in the practice reads; owners and advisers take the steps; only owners reassign. The alert emails
link to /follow-ups/<id>, so that URL must keep working. Views stay thin: the steps are ``followups.service``,
the lists and counts ``followups.queue``, the summary of the client's answers is the alert's own.
The owners' settings for the rules are in ``web.practice_settings``.
"""

from __future__ import annotations

import secrets
from typing import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon import validators
from partnermon.errors import ValidationError
from partnermon.followups import emails, ladder, queue, recovery, replies, rules, service, timeline
from partnermon.models import User
from partnermon.models.followups import FOLLOW_UP_CHANNELS, FollowUp
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.security import current_user, login_required, owner_required, role_required

bp = Blueprint("followups", __name__, url_prefix="/follow-ups")

worker_required = role_required(*timeline.WORKING_ROLES)   # viewers read; they do not contact clients

TAB_LABELS = {"mine": "Mine", "all": "All open", "overdue": "Overdue", "resolved": "Resolved"}
STATUS_LABELS = {"open": "Open", "contacted": "Contacted", "resolved": "Resolved"}
SEVERITY_LABELS = {"mild": "Mild", "serious": "Serious", "brand": "Brand at risk"}
CHANNEL_LABELS = {"phone": "Phone", "email": "Email", "meeting": "Meeting", "other": "Other"}
CHANNEL_PHRASES = {"phone": " by phone", "email": " by email", "meeting": " in a meeting", "other": ""}
ACTION_LABELS = {"opened": "Opened", "updated": "The client changed their answers", "contacted": "Contacted the client",
                 "resolved": "Resolved", "reopened": "Reopened", "reassigned": "Reassigned",
                 "escalated": "Overdue: the owners were told", "reminded": "Reminder sent",
                 "attempted": "Tried to contact the client", "stepped_up": "Stepped up the ladder",
                 "stepped_down": "Stepped down the ladder", "top_told": "Top rung: the owners were told",
                 "checked_in": "The client answered the recovery check-in"}
# One page holds four forms, so each names its fields apart; a service's field names map to the form's.
# "status" (the step no longer applies, e.g. already resolved) belongs to no field.
FORM_FIELDS = {
    "contacted": {"channel": "contacted_channel", "note": "contacted_note", "result": "contacted_result"},
    "resolve": {"note": "outcome", "channel": "outcome_channel", "outcome_kind": "outcome_kind",
                "moved_to": "moved_to"},
    "step": {"direction": "step_direction", "note": "step_reason"},
    "reopen": {"note": "reopen_note"},
    "reassign": {"assignee": "assignee", "note": "reassign_note"},
    "reply": {"subject": "reply_subject", "body": "reply_body"},
}


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _int(raw: str | None) -> int | None:
    return validators.ascii_number(raw)


@bp.get("/")
@login_required
def index() -> str:
    me, session, clock = _me(), db(), now()
    works = timeline.can_work_follow_ups(me)
    tabs = [tab for tab in queue.TABS if works or tab != "mine"]   # a viewer is never given one
    tab = request.args.get("tab", "")
    if tab not in tabs:
        tab = tabs[0]
    page = queue.queue(session, clock, me.practice_id, tab, me.id, page=_int(request.args.get("page")) or 1)
    return render_template("followups/index.html", tab=tab, tabs=tabs, tab_labels=TAB_LABELS, page=page,
                           counts=queue.counts(session, clock, me.practice_id, me.id), works=works,
                           status_labels=STATUS_LABELS, severity_labels=SEVERITY_LABELS,
                           reason_labels=rules.REASON_LABELS, rung_labels=ladder.RUNG_LABELS)


def _show(follow_up: FollowUp, errors: dict[str, str] | None = None) -> str:
    me, clock = _me(), now()
    assignees = queue.assignable(db(), me.practice_id) if me.is_owner else []
    partners = service.moved_to_options(db(), follow_up)
    # What the alert email told the assignee, so the page and the email never disagree.
    about = emails.alert_context(db(), follow_up, runtime().settings.base_url)
    works = timeline.can_work_follow_ups(me)
    return render_template(
        "followups/show.html", follow_up=follow_up, about=about,
        overdue=queue.is_overdue(follow_up, clock), deadline=queue.deadline_note(follow_up, clock),
        works=works, can_reassign=me.is_owner, reply=replies.offer(follow_up, me) if works else None,
        reply_submission=_submission(request.form.get("submission")),
        assignee_options=[(user.id, f"{user.display_name} ({user.role})") for user in assignees],
        channel_options=[(channel, CHANNEL_LABELS[channel]) for channel in FOLLOW_UP_CHANNELS],
        result_options=list(service.ATTEMPT_LABELS.items()), outcome_options=list(service.OUTCOME_LABELS.items()),
        outcome_labels=service.OUTCOME_LABELS,
        partner_options=[(partner.id, partner.name) for partner in partners], rung_labels=ladder.RUNG_LABELS,
        at_top=follow_up.rung == ladder.TOP, at_bottom=follow_up.rung == ladder.RUNGS[0],
        status_labels=STATUS_LABELS, severity_labels=SEVERITY_LABELS, channel_labels=CHANNEL_LABELS,
        action_labels=ACTION_LABELS, errors=errors or {}, form=request.form if errors else {},
        check_ins=recovery.check_ins_of(db(), follow_up), describe_check_in=recovery.describe)


def _submission(sent: str | None) -> str:
    """The reply form's one-time key: the one sent back with errors, else a new one."""
    return sent if sent and replies.SUBMISSION.match(sent) else secrets.token_urlsafe(24)


@bp.get("/<int:follow_up_id>")
@login_required
def show(follow_up_id: int) -> str:
    return _show(or_404(service.get_follow_up, _me().practice_id, follow_up_id))


def _step(follow_up_id: int, action: str, take: Callable[[User, FollowUp], str]) -> Response | tuple[str, int]:
    """Take one step; on bad input the same page again with what was typed and a message per field (422)."""
    me = _me()
    follow_up = or_404(service.get_follow_up, me.practice_id, follow_up_id)
    try:
        message = take(me, follow_up)
    except ValidationError as exc:
        db().rollback()
        names = FORM_FIELDS[action]
        return _show(follow_up, {names.get(key, "form"): text for key, text in exc.errors.items()}), 422
    db().commit()
    flash(message, "success")
    return redirect(url_for("followups.show", follow_up_id=follow_up_id))


def _client(follow_up: FollowUp) -> str:
    return emails.client_of(follow_up).label


@bp.post("/<int:follow_up_id>/contacted")
@worker_required
def contacted(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        channel = request.form.get("contacted_channel", "")
        result = request.form.get("contacted_result", "reached")
        rung = follow_up.rung
        service.record_contacted(db(), now(), follow_up, me, channel=channel, result=result,
                                 note=request.form.get("contacted_note", ""), base_url=runtime().settings.base_url)
        if result != "reached":
            moved = f" It is now on the {follow_up.rung} rung." if follow_up.rung != rung else ""
            return f"Recorded your attempt to reach {_client(follow_up)}.{moved}"
        return f"Recorded your contact with {_client(follow_up)}{CHANNEL_PHRASES.get(channel.strip(), '')}."

    return _step(follow_up_id, "contacted", take)


@bp.post("/<int:follow_up_id>/resolve")
@worker_required
def resolve(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        service.record_resolved(db(), now(), follow_up, me, outcome=request.form.get("outcome_kind", ""),
                                note=request.form.get("outcome", ""), channel=request.form.get("outcome_channel", ""),
                                moved_to=request.form.get("moved_to", ""))
        return f"Resolved the follow-up for {_client(follow_up)}."

    return _step(follow_up_id, "resolve", take)


@bp.post("/<int:follow_up_id>/reopen")
@worker_required
def reopen(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        service.reopen(db(), now(), follow_up, me, note=request.form.get("reopen_note", ""))
        return (f"Reopened the follow-up for {_client(follow_up)}: contact them by "
                f"{emails.local_time(follow_up.practice, follow_up.contact_due_at)}.")

    return _step(follow_up_id, "reopen", take)


@bp.post("/<int:follow_up_id>/step")
@owner_required
def step(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        ladder.owner_step(db(), now(), follow_up, me, direction=request.form.get("step_direction", ""),
                          reason=request.form.get("step_reason", ""), base_url=runtime().settings.base_url)
        return (f"Moved the follow-up to the {ladder.RUNG_LABELS[follow_up.rung].lower()} rung: contact "
                f"{_client(follow_up)} by {emails.local_time(follow_up.practice, follow_up.contact_due_at)}.")

    return _step(follow_up_id, "step", take)


@bp.post("/<int:follow_up_id>/reassign")
@owner_required
def reassign(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        before = follow_up.assignee_id
        service.reassign(db(), now(), follow_up, me, validators.as_row_id(request.form.get("assignee")) or 0,
                         runtime().settings.base_url, note=request.form.get("reassign_note", ""))
        assignee = follow_up.assignee
        assert assignee is not None
        if follow_up.assignee_id == before:
            return f"It is already {assignee.display_name}'s follow-up: nothing changed."
        emailed = "" if follow_up.status == "resolved" else "; they have been emailed the details"
        return f"Gave the follow-up to {assignee.display_name}{emailed}."

    return _step(follow_up_id, "reassign", take)


@bp.post("/<int:follow_up_id>/reply")
@worker_required
def reply(follow_up_id: int) -> Response | tuple[str, int]:
    def take(me: User, follow_up: FollowUp) -> str:
        sent = replies.send_reply(db(), now(), follow_up, me, subject=request.form.get("reply_subject"),
                                  body=request.form.get("reply_body"), submission=request.form.get("submission"),
                                  base_url=runtime().settings.base_url)
        if not sent:
            return f"Your email to {_client(follow_up)} was sent already; it was not sent again."
        return (f"Your email to {_client(follow_up)} is on its way; their answer will come to {me.email}. "
                "Recorded as a contact by email.")

    return _step(follow_up_id, "reply", take)
