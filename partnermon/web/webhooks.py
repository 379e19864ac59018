"""Settings › Webhooks (owners only): add an endpoint, see its delivery log, turn it off or on, delete it,
send it a test event. A new endpoint's signing secret is shown once, in the answer to the POST that added it
(as for API keys): never put in the session, a flash message or a later page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.models import User, WebhookEndpoint
from partnermon.webhooks import EVENTS, TEST_EVENT, endpoints
from partnermon.webhooks.delivery import DISABLE_AFTER
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.security import current_user, owner_required

bp = Blueprint("webhooks", __name__, url_prefix="/settings/webhooks")


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _page(status: int = 200, *, errors: dict[str, str] | None = None, form: Any = None,
          new: endpoints.NewEndpoint | None = None) -> tuple[str, int]:
    me = _me()
    chosen = form.getlist("events") if form is not None else list(EVENTS)
    return render_template("settings/webhooks.html", endpoints=endpoints.list_endpoints(db(), me.practice_id),
                           events=EVENTS, chosen=chosen, errors=errors or {}, form=form if form is not None else {},
                           new=new), status


@bp.route("/", methods=["GET", "POST"])
@owner_required
def index() -> tuple[str, int]:
    if request.method == "GET":
        return _page()
    me = _me()
    try:
        made = endpoints.add_endpoint(db(), now(), me.practice, me, request.form.get("url"),
                                      request.form.getlist("events"), runtime().webhook_policy)
    except ValidationError as exc:
        db().rollback()
        return _page(422, errors=exc.errors, form=request.form)
    db().commit()
    # Rendered here rather than after a redirect, so the secret exists only in this one response.
    return _page(201, new=made)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return or_404(endpoints.get_endpoint, _me().practice_id, endpoint_id)


@bp.get("/<int:endpoint_id>")
@owner_required
def show(endpoint_id: int) -> str:
    endpoint = _endpoint(endpoint_id)
    return render_template("settings/webhook.html", endpoint=endpoint, events=EVENTS, test_event=TEST_EVENT,
                           deliveries=endpoints.recent_deliveries(db(), endpoint),
                           waiting=endpoints.count_waiting(db(), endpoint), log_length=endpoints.LOG_LENGTH,
                           disable_after=DISABLE_AFTER)


@bp.post("/<int:endpoint_id>/enabled")
@owner_required
def enabled(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    turn_on = request.form.get("enabled") == "1"
    if endpoints.set_enabled(db(), now(), endpoint, _me(), turn_on):
        db().commit()
        flash("Turned the endpoint on: waiting events go out within a minute." if turn_on else
              "Turned the endpoint off: events wait until you turn it on again.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/test")
@owner_required
def test(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    endpoints.send_test(db(), now(), endpoint, _me())
    db().commit()
    flash("Test event queued: it goes out within a minute and shows in the log below." if endpoint.enabled else
          "Test event queued: it goes out once you turn the endpoint on.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/delete")
@owner_required
def delete(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    url = endpoint.url
    endpoints.delete_endpoint(db(), now(), endpoint, _me())
    db().commit()
    flash(f"Deleted the endpoint {url}. Nothing more is sent to it.", "success")
    return redirect(url_for("webhooks.index"))
