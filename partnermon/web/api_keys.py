"""API keys (owners only): create a key for the practice's own systems, see which are in use, revoke one.

A new key is shown once, in the answer to the POST that created it: it is never put in the session, a
flash message or anywhere else on the server, and the page is sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from partnermon.accounts import service as accounts
from partnermon.errors import ValidationError
from partnermon.feedback import api_keys
from partnermon.models import User
from partnermon.partners import service as partners
from partnermon.web.context import db, now, or_404, runtime
from partnermon.web.security import current_user, owner_required

bp = Blueprint("api_keys", __name__, url_prefix="/settings")


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _example(key: str) -> dict[str, Any]:
    """The curl call shown on the page, with one of the practice's own partners so it works as pasted."""
    first = next(iter(partners.list_partners(db(), _me().practice_id)), None)
    body = {"client_email": "dana@example.com", "client_name": "Dana Client",
            "partner": first.name if first else "Acme Insurance", "touchpoint": "claim",
            "external_ref": "CLM-1001"}
    return {"url": runtime().settings.base_url + url_for("api.create_feedback_request"), "key": key, "body": body}


def _page(status: int = 200, *, errors: dict[str, str] | None = None, form: Any = None,
          new_key: api_keys.NewKey | None = None) -> tuple[str, int]:
    me = _me()
    creators = {user.id: user.display_name for user in accounts.list_users(db(), me.practice_id)}
    return render_template(
        "settings/api_keys.html", keys=api_keys.list_keys(db(), me.practice_id), creators=creators,
        errors=errors or {}, form=form if form is not None else {"scopes": ["write"]}, new_key=new_key,
        scopes=api_keys.SCOPES, docs_url=url_for("api.docs"),
        example=_example(new_key.plaintext if new_key else "$PARTNERMON_API_KEY"),
    ), status


@bp.route("/api-keys", methods=["GET", "POST"])
@owner_required
def index() -> tuple[str, int]:
    if request.method == "GET":
        return _page()
    me = _me()
    try:
        made = api_keys.create_key(db(), now(), me.practice, me, request.form.get("name", ""),
                                   request.form.getlist("scopes"))
    except ValidationError as exc:
        db().rollback()
        return _page(422, errors=exc.errors, form=request.form)
    db().commit()
    # Rendered here rather than after a redirect, so the key exists only in this one response.
    return _page(201, new_key=made)


@bp.post("/api-keys/<int:key_id>/revoke")
@owner_required
def revoke(key_id: int) -> Response:
    me = _me()
    key = or_404(api_keys.get_key, me.practice_id, key_id)
    if api_keys.revoke_key(db(), now(), key, me):
        db().commit()
        flash(f"Revoked “{key.name}”. Calls with that key are refused from now on.", "success")
    else:
        flash(f"“{key.name}” was already revoked.", "success")
    return redirect(url_for("api_keys.index"))
