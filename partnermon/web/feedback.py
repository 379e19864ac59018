"""Feedback pages for practice staff: the requests sent and the responses received (with filters and CSV
downloads) for everyone in the practice; asking a client and revoking a link for owners and advisers;
erasing a client's data for owners.

The client's own form is ``web.feedback_form``; CSV import is ``web.feedback_import``. Views here stay thin:
the lists, lookups and erasure are ``feedback.staff``, the export rows ``feedback.exports``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from partnermon import exports, validators
from partnermon.errors import ValidationError
from partnermon.feedback import exports as feedback_exports
from partnermon.feedback import links
from partnermon.feedback import staff
from partnermon.models import FeedbackRequest, User
from partnermon.models.feedback import REQUEST_STATUSES
from partnermon.partners import service as partner_service
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.forms import rerender
from partnermon.web.security import current_user, login_required, owner_required, role_required

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

ASKERS = ("owner", "adviser")   # viewers read; they do not contact clients
asker_required = role_required(*ASKERS)
STATUS_LABELS = {"queued": "Waiting to be sent", "sent": "Sent", "opened": "Opened", "answered": "Answered",
                 "expired": "Expired", "revoked": "Revoked"}
EFFORT_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Somewhat disagree", 4: "Neither agree nor disagree",
                 5: "Somewhat agree", 6: "Agree", 7: "Strongly agree"}
BRAND_EFFECT_LABELS = {"better": "Better", "same": "No change", "worse": "Worse"}


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _id_arg(name: str) -> int | None:
    # Anything that cannot be an id (letters, "٣", 2147483648) is no filter, not a 500.
    return validators.as_row_id(request.args.get(name))


def _int_arg(name: str) -> int | None:
    return validators.ascii_number(request.args.get(name))


def _request_filters() -> dict[str, Any]:
    status = request.args.get("status", "")
    return {"status": status if status in REQUEST_STATUSES else None,
            "partner_id": _id_arg("partner"), "adviser_id": _id_arg("adviser")}


def _response_filters() -> dict[str, Any]:
    rating = _int_arg("rating")
    return {"partner_id": _id_arg("partner"), "moment_id": _id_arg("moment"),
            "rating": rating if rating in links.RATING_LABELS else None}


def _partner_options() -> list[tuple[int, str]]:
    return [(partner.id, partner.name) for partner in partner_service.list_partners(db(), _me().practice_id)]


def _query_args(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as URL query arguments (for the pager and the CSV link), without the empty ones."""
    names = {"partner_id": "partner", "adviser_id": "adviser", "moment_id": "moment"}
    return {names.get(key, key): value for key, value in filters.items() if value is not None}


# --- requests -----------------------------------------------------------------------------------------

@bp.get("/requests")
@login_required
def list_requests() -> str:
    me, session = _me(), db()
    filters = _request_filters()
    page = staff.list_requests(session, now(), me.practice_id, **filters, page=_int_arg("page") or 1)
    advisers = staff.staff_advisers(session, me.practice_id, active_only=False)
    return render_template(
        "feedback/requests.html", page=page, filters=filters, query=_query_args(filters), status_labels=STATUS_LABELS,
        ratings=links.RATING_LABELS, partner_options=_partner_options(),
        adviser_options=[(a.id, a.display_name + ("" if a.is_active else " (inactive)")) for a in advisers],
        can_ask=me.role in ASKERS)


def _request_form(form: Any, errors: dict[str, str] | None = None, *, held_back: bool = False
                  ) -> str | tuple[str, int]:
    me, session = _me(), db()
    partners = partner_service.list_partners(session, me.practice_id)
    context = dict(partners=partners, partner_options=[(p.id, p.name) for p in partners],
                   moments=partner_service.list_moments(session, me.practice_id, include_retired=False),
                   adviser_options=[(a.id, a.display_name) for a in staff.staff_advisers(session, me.practice_id)],
                   held_back=held_back)
    if errors:
        return rerender("feedback/request_form.html", errors, **context)
    return render_template("feedback/request_form.html", errors={}, form=form, **context)


def _named(errors: dict[str, str], form: Any) -> dict[str, str]:
    """The form sends ids (the service also takes names, from the API and CSV files); a person reads names. An
    error about a partner or touchpoint chosen from the lists is said again with the names, never the ids."""
    me, session = _me(), db()
    partners = {str(p.id): p for p in partner_service.list_partners(session, me.practice_id)}
    partner = partners.get(str(form.get("partner", "")))
    named = dict(errors)
    if "partner" in errors and validators.looks_like_id(str(form.get("partner", ""))):
        named["partner"] = "The partner you chose is no longer one of your partners (someone removed it). Choose another."
    about = str(form.get("touchpoint", ""))
    if "touchpoint" in errors and partner is not None and validators.looks_like_id(about):
        owner = next((p for p in partners.values() for tp in p.touchpoints if str(tp.id) == about), None)
        touchpoint = next((tp for tp in owner.touchpoints if str(tp.id) == about), None) if owner else None
        if owner is not None and touchpoint is not None:
            named["touchpoint"] = (f"“{touchpoint.name}” is a touchpoint of {owner.name}, not of {partner.name}. "
                                   f"Choose one of {partner.name}'s touchpoints, a moment of truth, or nothing in particular.")
        else:
            named["touchpoint"] = (f"The touchpoint you chose is not one of {partner.name}'s touchpoints (perhaps it was "
                                   "removed). Choose one of them, a moment of truth, or nothing in particular.")
    return named


@bp.route("/requests/new", methods=["GET", "POST"])
@asker_required
def new_request() -> Response | str | tuple[str, int]:
    me = _me()
    if request.method == "GET":
        return _request_form({"adviser": str(me.id), "partner": request.args.get("partner", "")})
    try:
        made = staff.ask_client(db(), now(), me.practice, request.form, actor=me,
                                base_url=runtime().settings.base_url,
                                override_throttle=request.form.get("override_throttle") == "1")
    except ValidationError as exc:
        db().rollback()
        # Keep offering "ask anyway" once it was needed, even if this time another field was the problem.
        held_back = isinstance(exc, links.Throttled) or "override_throttle" in request.form
        return _request_form(request.form, _named(exc.errors, request.form), held_back=held_back)
    db().commit()
    asked = made.request
    if not made.created:
        flash(f"A request with the reference {asked.external_ref} already exists, so no new one was made. "
              "This is it.", "success")
        return redirect(url_for("feedback.show_request", request_id=asked.id))
    # The email carries the link; it is shown here once as well, for an adviser who also wants to send it by
    # text message or from their own mailbox. Only its hash is stored, so it cannot be shown again. It is
    # rendered in this response rather than flashed: a flash message rides in the session cookie, which is
    # signed but not encrypted, so the live link would sit in the browser (and any copy of the cookie).
    response = make_response(_request_page(asked, new_link=made.link), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


def _request_page(asked: FeedbackRequest, *, new_link: str | None = None) -> str:
    me, clock = _me(), now()
    return render_template("feedback/request.html", asked=asked, status=staff.status_at(asked, clock),
                           status_labels=STATUS_LABELS, ratings=links.RATING_LABELS,
                           can_revoke=me.role in ASKERS and staff.can_revoke(asked, clock), new_link=new_link)


@bp.get("/requests/<int:request_id>")
@login_required
def show_request(request_id: int) -> str:
    return _request_page(or_404(staff.get_request, _me().practice_id, request_id))


@bp.post("/requests/<int:request_id>/revoke")
@asker_required
def revoke_request(request_id: int) -> Response:
    me = _me()
    asked = or_404(staff.get_request, me.practice_id, request_id)
    if staff.revoke_request(db(), now(), asked, me):
        db().commit()
        flash(f"Revoked the link sent to {asked.client_email}: it no longer opens the feedback form.", "success")
    else:
        status = STATUS_LABELS[staff.status_at(asked, now())].lower()
        flash(f"This link is already {status}, so there was nothing to revoke.", "error")
    return redirect(url_for("feedback.show_request", request_id=request_id))


# --- responses ----------------------------------------------------------------------------------------

@bp.get("/responses")
@login_required
def list_responses() -> str:
    me, session = _me(), db()
    filters = _response_filters()
    page = staff.list_responses(session, me.practice_id, **filters, page=_int_arg("page") or 1)
    ratings = links.RATING_LABELS
    return render_template(
        "feedback/responses.html", page=page, filters=filters, query=_query_args(filters), ratings=ratings,
        partner_options=_partner_options(), rating_options=[(value, f"{value} – {label}") for value, label in ratings.items()],
        moment_options=[(m.id, m.name) for m in partner_service.list_moments(session, me.practice_id)])


@bp.get("/responses/<int:response_id>")
@login_required
def show_response(response_id: int) -> str:
    answer = or_404(staff.get_response, _me().practice_id, response_id)
    asked = answer.request
    # The questions as the client's form put them: about the link's touchpoint or moment, or (when the link
    # named neither) with the moment the client chose asked separately.
    about = (asked.touchpoint.name if asked.touchpoint else asked.moment.name.lower() if asked.moment else ""
             ) if asked else ""
    chosen_moment = answer.moment if asked is None or asked.moment_id is None else None
    client = (asked.client_name or asked.client_email) if asked else (
        answer.client_name or answer.client_email or "A client who gave no name")
    return render_template("feedback/response.html", answer=answer, client=client, about=about,
                           chosen_moment=chosen_moment,
                           ratings=links.RATING_LABELS, effort_labels=EFFORT_LABELS,
                           brand_effects=BRAND_EFFECT_LABELS)


# --- CSV downloads ------------------------------------------------------------------------------------

def _csv_download(rows_of: Callable[[Session], Iterator[dict[str, Any]]], fields: tuple[str, ...],
                  what: str) -> Response:
    practice = _me().practice
    day = now().astimezone(ZoneInfo(practice.timezone)).strftime("%Y-%m-%d")
    session_factory = runtime().session_factory

    def stream() -> Iterator[str]:
        # Streamed: rows are read in batches while the download runs. The request's own session is closed
        # as soon as the view returns, before the first row is read, so the download has a session of its
        # own (closed too when the browser goes away half-way: the server closes this generator). The last
        # chunk is held back until the session is closed, so no transaction waits on a reader that stops there.
        with session_factory() as session:
            chunks = exports.iter_csv(rows_of(session), fields)
            held = next(chunks)
            for chunk in chunks:
                yield held
                held = chunk
        yield held

    return Response(stream(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{practice.slug}-feedback-{what}-{day}.csv"'})


@bp.get("/requests.csv")
@login_required
def export_requests() -> Response:
    clock = now()
    conditions = staff.request_conditions(_me().practice_id, clock, **_request_filters())
    return _csv_download(lambda session: feedback_exports.request_rows(session, clock, conditions, newest_first=True),
                         feedback_exports.REQUEST_FIELDS, "requests")


@bp.get("/responses.csv")
@login_required
def export_responses() -> Response:
    conditions = staff.response_conditions(_me().practice_id, **_response_filters())
    return _csv_download(lambda session: feedback_exports.response_rows(session, conditions, newest_first=True),
                         feedback_exports.RESPONSE_FIELDS, "responses")


# --- erasure ------------------------------------------------------------------------------------------

@bp.route("/erase", methods=["GET", "POST"])
@owner_required
def erase() -> Response | str | tuple[str, int]:
    """Two steps: the address, then a confirmation showing what will go. Only the second POST changes data."""
    if request.method == "GET":
        return render_template("feedback/erase.html", preview=None, errors={}, form={})
    me = _me()
    client_email = request.form.get("client_email", "")
    try:
        if request.form.get("confirm") != "1":
            preview = staff.preview_erasure(db(), me.practice_id, client_email)
            return render_template("feedback/erase.html", preview=preview,
                                   client_email=client_email.strip().lower(), errors={}, form=request.form)
        erased = staff.erase_client(db(), now(), me.practice, me, client_email)
    except ValidationError as exc:
        db().rollback()
        return rerender("feedback/erase.html", exc.errors, preview=None)
    db().commit()
    flash(f"Erased the client's feedback data: {staff.describe(erased)}.", "success")
    return redirect(url_for("feedback.erase"))
