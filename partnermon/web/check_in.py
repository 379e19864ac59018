"""The client's recovery check-in page (/check-in/<token>): "Did {practice} put things right?"

Nobody signs in; the link's token authorises the answer, as for the feedback form (so the POST carries no
CSRF token, see ``web.security``). A GET records nothing at all — not even that it was opened — because mail
scanners follow links. The page needs no script: three radio buttons, a comment, a button.

Unknown, expired and withdrawn links get the feedback form's "cannot be used" page and status, so a visitor
cannot tell which; unknown tokens count against the same bad-link limit as feedback links.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from partnermon.errors import ValidationError
from partnermon.feedback import rate_limits
from partnermon.followups import recovery
from partnermon.followups.timeline import can_work_follow_ups
from partnermon.models import RecoveryCheckIn
from partnermon.web.context import client_ip, db, now, runtime

bp = Blueprint("check_in", __name__)


def _private(response: Response) -> Response:
    # The URL is the client's key: keep the page out of caches and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _private(make_response(render_template(template, **context), status))


def _find(token: str) -> RecoveryCheckIn | Response:
    """The check-in behind a usable link, or the page to answer with instead (only misses are counted)."""
    session = db()
    found = recovery.find_by_token(session, token)
    if found is None:
        if rate_limits.exceeded(session, now(), "bad_link", client_ip()):
            response = _page("feedback_form/too_many.html", 429, practice=None)
            response.headers["Retry-After"] = "600"
            return response
        rate_limits.note(session, now(), "bad_link", client_ip())
        session.commit()
        return _gone()
    if recovery.state_of(found, now()) == recovery.GONE:
        return _gone()
    return found


def _gone() -> Response:
    return _page("feedback_form/gone.html", 404, practice=None)


def _question(found: RecoveryCheckIn, token: str, *, errors: Mapping[str, str] | None = None,
              form: Mapping[str, Any] | None = None, status: int = 200, notice: str = "") -> Response:
    practice = found.follow_up.practice
    state = recovery.state_of(found, now())
    return _page("check_in/page.html", status, token=token, check_in=found, practice=practice, state=state,
                 logo_url=None, answers=recovery.ANSWER_LABELS, said=recovery.describe(found),
                 adviser=found.assignee if can_work_follow_ups(found.assignee) else None,
                 expires_text=recovery.local_date(found, found.expires_at),  # type: ignore[arg-type]
                 errors=errors or {}, form=form or {}, notice=notice)


@bp.get("/check-in/<token>")
def page(token: str) -> Response:
    found = _find(token)
    if isinstance(found, Response):
        return found
    # A button in the email chooses that answer; only the client's POST records it.
    chosen = request.args.get("answer", "")
    return _question(found, token, form={"answer": chosen} if chosen in recovery.ANSWER_LABELS else None)


@bp.post("/check-in/<token>")
def answer(token: str) -> Response:
    session = db()
    try:
        answered = recovery.answer(session, now(), token, request.form, base_url=runtime().settings.base_url)
    except ValidationError as exc:
        session.rollback()
        found = _find(token)
        return found if isinstance(found, Response) else _question(found, token, errors=exc.errors,
                                                                   form=request.form, status=422)
    except recovery.AlreadyAnswered:
        session.rollback()
        found = _find(token)
        return found if isinstance(found, Response) else _question(
            found, token, status=409, notice="You had already answered, so your first answer stands. If there is "
                                             "more to say, reply to the email or get in touch with us directly.")
    if answered is None:
        session.rollback()
        found = _find(token)
        return found if isinstance(found, Response) else _gone()
    session.commit()
    return _private(redirect(url_for(".page", token=token), 303))
