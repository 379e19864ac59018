"""One-click unsubscribe from a kind of alert, by the signed link in the email (no sign-in).

A GET only shows what the link would do, with a button: mail scanners follow links, and must not turn
anyone's alerts off. A POST turns that alert type off for that user — from the page's button, or from the
mail client itself (RFC 8058 ``List-Unsubscribe-Post``), which posts without a session and so without a
CSRF token: the signed token is the authority. A token we did not sign is a 404, like any unknown page.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from partnermon.alerts import delivery
from partnermon.models import User
from partnermon.web.context import db, now, runtime

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


def _target(token: str) -> tuple[User, str]:
    found = delivery.read_unsubscribe_token(runtime().settings.secret_key, token)
    user = db().get(User, found[0]) if found else None
    if found is None or user is None:
        abort(404)
    return user, found[1]


@bp.get("/<token>")
def page(token: str) -> str:
    user, kind = _target(token)
    return render_template("unsubscribe/page.html", user=user, label=delivery.OPTIONAL_LABELS[kind],
                           mode=delivery.mode_for(db(), user, kind), done=False)


@bp.post("/<token>")
def confirm(token: str) -> Response | str:
    user, kind = _target(token)
    delivery.set_mode(db(), now(), user, kind, "off")
    db().commit()
    return render_template("unsubscribe/page.html", user=user, label=delivery.OPTIONAL_LABELS[kind],
                           mode="off", done=True)
