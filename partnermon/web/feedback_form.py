"""The client's feedback pages: a personal link (/f/<token>) and a practice's optional open link.

Nobody signs in here. A personal link is authorised by its token alone (so these forms carry no CSRF
token, see ``web.security``). A GET never records anything, because mail scanners follow links; the
page's small script tells us when a person has it open, and may save the rating chosen in the email
once the page has been visible a few seconds. Without the script the form works the same.

Unknown, expired and revoked links all get the same page and status, so a visitor cannot tell which;
an address that keeps trying unknown tokens is slowed down.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from partnermon.errors import ValidationError
from partnermon.feedback import links, rate_limits, responses
from partnermon.feedback.questions import BRAND_EFFECT_LABELS, OPTIONS
from partnermon.models import FeedbackRequest, MomentOfTruth, Partner, Practice
from partnermon.web.assets import logo_of
from partnermon.web.context import client_ip, db, now, runtime

bp = Blueprint("feedback_form", __name__)

_SUBMISSION = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _private(response: Response) -> Response:
    # The URL is the client's key and the page shows their answers: keep it out of caches and search.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _private(make_response(render_template(template, options=OPTIONS, brand_labels=BRAND_EFFECT_LABELS,
                                                  **context), status))


def _unusable() -> Response:
    return _page("feedback_form/gone.html", 404)


def _too_many() -> Response:
    response = _page("feedback_form/too_many.html", 429)
    response.headers["Retry-After"] = "600"
    return response


def _find(token: str) -> FeedbackRequest | Response:
    """The request behind a live token, or the page to answer with instead.

    A real link always works, so clients sharing an address (an office, a mobile network) are never locked
    out by somebody guessing; only the misses are counted and, past the limit, slowed down. Tokens have
    256 bits, so the limit is about noise, not about guessing succeeding."""
    session = db()
    found = links.find_by_token(session, token)
    if found is None:
        if rate_limits.exceeded(session, now(), "bad_link", client_ip()):
            return _too_many()
        rate_limits.note(session, now(), "bad_link", client_ip())
        session.commit()
        return _unusable()
    # Expired or revoked: the same page as an unknown token, for every route. (A live, unrevoked link is never
    # gone, so the response is read only for expired ones: an answered link stays visible a little longer.)
    if found.revoked_at is not None or (found.expires_at <= now() and responses.link_state(
            found, responses.response_of(session, found), now()) == responses.GONE):
        return _unusable()
    return found


def _local(practice: Practice, moment: datetime) -> str:
    """A date as the client's practice writes it, in its time zone."""
    return moment.astimezone(ZoneInfo(practice.timezone)).strftime("%-d %B %Y")


def _form_page(found: FeedbackRequest, token: str, *, errors: Mapping[str, str] | None = None,
               form: Mapping[str, Any] | None = None, status: int = 200, saved: bool = False) -> Response:
    session = db()
    response = responses.response_of(session, found)
    state = responses.link_state(found, response, now())
    if state == responses.GONE:
        return _unusable()
    practice = session.get(Practice, found.practice_id)
    values: Mapping[str, Any] = form if form is not None else (responses.answered_form(response) if response else {})
    # A rating link from the email chooses that rating; the script may save it once a person has seen it.
    rating = request.args.get("rating", "")
    quick_rating = rating if response is None and form is None and rating in ("1", "2", "3", "4", "5") else ""
    if quick_rating:
        values = {"satisfaction": quick_rating}
    assert practice is not None
    moments = None if found.moment_id else responses.choosable_moments(session, found.practice_id)
    return _page("feedback_form/form.html", status, token=token, request_=found, practice=practice,
                 logo_url=url_for(".link_logo", token=token),
                 expires_text=_local(practice, found.expires_at),
                 answered_text=_local(practice, response.created_at) if response else "",
                 until_text=_local(practice, responses.editable_until(response)) if response else "",
                 partner=found.partner, about=found.touchpoint.name if found.touchpoint else
                 (found.moment.name.lower() if found.moment else ""),
                 moments=moments, ask_duration=asks_duration(found, moments),
                 response=response, state=state, errors=errors or {}, form=values, saved=saved,
                 quick_rating=quick_rating)


def asks_duration(found: FeedbackRequest, moments: list[MomentOfTruth] | None) -> bool:
    """Whether the form asks "How long did it take?": the link's moment asks it, or — a link about no moment —
    one of the moments the client may choose does (the question then says "if it applies")."""
    moment = found.moment or (found.touchpoint.moment if found.touchpoint else None)
    if moment is not None:
        return moment.ask_duration
    return any(m.ask_duration for m in moments or ())


@bp.get("/f/<token>")
def form(token: str) -> Response:
    found = _find(token)
    if isinstance(found, Response):
        return found
    return _form_page(found, token, saved=request.args.get("saved") == "1")


@bp.post("/f/<token>")
def submit(token: str) -> Response:
    if request.form.get("quick") == "1":
        return _quick_rating(token)
    session = db()
    try:
        answered = responses.answer(session, now(), token, request.form, base_url=runtime().settings.base_url)
    except ValidationError as exc:
        session.rollback()   # nothing is kept of a post with mistakes (the link was marked answered)
        return _form_page_again(token, errors=exc.errors, form=request.form, status=422)
    except responses.LinkClosed:
        session.rollback()
        return _form_page_again(token, errors={"form": "The time to change these answers has passed, so they were "
                                                       "not changed."}, status=409)
    if answered is None:
        session.rollback()
        return _no_link(token)
    session.commit()
    return _private(redirect(url_for(".form", token=token, saved=1), 303))


def _no_link(token: str) -> Response:
    """The page for a post to a link that takes no answers (unknown, expired or revoked), told apart as on
    every route."""
    found = _find(token)
    return found if isinstance(found, Response) else _unusable()


def _form_page_again(token: str, **page: Any) -> Response:
    """The form once more, saying what went wrong, after the post was rolled back. The link is read again:
    whatever the post had of it said it was answered."""
    found = _find(token)
    return found if isinstance(found, Response) else _form_page(found, token, **page)


def _quick_rating(token: str) -> Response:
    """The script saving the rating chosen in the email: a start, never an overwrite."""
    rating = request.form.get("satisfaction", "")
    if rating not in ("1", "2", "3", "4", "5"):
        found = _find(token)
        return found if isinstance(found, Response) else _private(make_response("", 204))
    session = db()
    rated = responses.rate(session, now(), token, int(rating), base_url=runtime().settings.base_url)
    if rated is None or not rated.created:
        session.rollback()   # nothing to keep: the client had answered already, or the link takes no answers
        return _private(make_response("", 204)) if rated else _no_link(token)
    session.commit()
    return _private(make_response("", 204))


@bp.post("/f/<token>/seen")
def seen(token: str) -> Response:
    found = _find(token)
    if isinstance(found, Response):
        return found
    if responses.mark_opened(db(), now(), found):
        db().commit()
    return _private(make_response("", 204))


@bp.get("/f/<token>/logo")
def link_logo(token: str) -> Response:
    found = _find(token)
    if isinstance(found, Response):
        return found
    return logo_of(found.practice_id)


# --- the practice's open link -------------------------------------------------------------------------

def _open_practice(slug: str) -> Practice:
    practice = db().scalar(select(Practice).where(Practice.slug == slug))
    if practice is None or not practice.open_feedback_link:
        abort(404)
    return practice


def _partners(practice: Practice) -> list[Partner]:
    return list(db().scalars(select(Partner).where(Partner.practice_id == practice.id).order_by(Partner.name)))


def _open_page(practice: Practice, *, errors: Mapping[str, str] | None = None, form: Mapping[str, Any] | None = None,
               status: int = 200) -> Response:
    # A one-time key per filled-in form (kept when the form comes back with errors), so a double click
    # or a retried post stores one answer.
    submission = (form or {}).get("submission") or secrets.token_urlsafe(24)
    moments = responses.choosable_moments(db(), practice.id)
    return _page("feedback_form/open.html", status, practice=practice, partners=_partners(practice),
                 logo_url=url_for(".open_logo", slug=practice.slug), submission=submission,
                 moments=moments, ask_duration=any(m.ask_duration for m in moments), errors=errors or {},
                 form=form or {})


@bp.get("/p/<slug>/feedback")
def open_form(slug: str) -> Response:
    return _open_page(_open_practice(slug))


@bp.post("/p/<slug>/feedback")
def open_submit(slug: str) -> Response:
    practice = _open_practice(slug)
    session = db()
    thanks = _private(redirect(url_for(".open_thanks", slug=slug), 303))
    if request.form.get("website"):
        # The honeypot: a field people cannot see, so only a robot fills it. It is told all went well.
        return thanks
    submission = request.form.get("submission", "")
    if not _SUBMISSION.match(submission):
        return _open_page(practice, errors={"form": "This form is out of date. Please fill it in again."}, status=400)
    if responses.open_submission_seen(session, practice.id, submission):
        return thanks   # the same form again: already stored once
    if rate_limits.exceeded(session, now(), "open_link", client_ip()):
        return _open_page(practice, errors={"form": "We have had several answers from your connection in the last "
                                                    "hour. Please try again later."}, form=request.form, status=429)
    partner_ref = request.form.get("partner", "")
    partner = next((p for p in _partners(practice) if str(p.id) == partner_ref), None)
    errors = {} if partner else {"partner": "Choose the company your feedback is about."}
    try:
        answers = responses.parse_answers(request.form, responses.choosable_moments(session, practice.id),
                                          open_link=True)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors or partner is None:
        return _open_page(practice, errors=errors, form=request.form, status=422)
    try:
        responses.record_open_response(session, now(), practice, partner, answers, submission,
                                       base_url=runtime().settings.base_url)
    except IntegrityError:
        session.rollback()
        if responses.open_submission_seen(session, practice.id, submission):
            return thanks    # the same form posted twice at once: the other post stored it
        raise                # any other conflict is a fault, not a duplicate: nothing was stored
    rate_limits.note(session, now(), "open_link", client_ip())
    session.commit()
    return thanks


@bp.get("/p/<slug>/feedback/thanks")
def open_thanks(slug: str) -> Response:
    practice = _open_practice(slug)
    return _page("feedback_form/open_thanks.html", practice=practice, logo_url=url_for(".open_logo", slug=slug))


@bp.get("/p/<slug>/logo")
def open_logo(slug: str) -> Response:
    return logo_of(_open_practice(slug).id)
