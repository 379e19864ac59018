"""Importing feedback requests from a CSV file, for owners and advisers (viewers only read).

Upload or paste a file, see every row checked, then confirm. Nothing is stored before the confirmation: the
preview page carries the file's text in a hidden field, and the confirmation checks it all again
(``partnermon.feedback.imports``). A bad file is the form again with a message (422), never an error page.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from partnermon.errors import ValidationError
from partnermon.feedback import imports
from partnermon.models import Practice, User
from partnermon.partners import service as partners
from partnermon.web.context import db, now, runtime
from partnermon.web.errors import EXPLANATIONS, TITLES
from partnermon.web.security import current_user, role_required

bp = Blueprint("feedback_import", __name__, url_prefix="/feedback/import")

IMPORTERS = ("owner", "adviser")
# A file may have 10,000 rows: the preview page lists this many in its tables (bad rows first, as they need
# fixing), and the rest of the bad rows by their line numbers, so the page stays quick to load and to read.
PROBLEMS_LISTED = 500
OTHERS_LISTED = 100
import_required = role_required(*IMPORTERS)


def _user() -> User:
    user = current_user()
    assert user is not None
    return user


def _practice() -> Practice:
    return _user().practice


def _form_page(errors: dict[str, str], pasted: str = "", status: int = 200) -> tuple[str, int]:
    practice = _practice()
    return render_template(
        "feedback/import.html", errors=errors, form={"csv": pasted}, labels=imports.LABELS,
        partners=partners.list_partners(db(), practice.id),
        moments=partners.list_moments(db(), practice.id, include_retired=False),
        max_rows=imports.MAX_ROWS, max_mb=f"{imports.MAX_BYTES / 1_000_000:g}"), status


def _preview_page(preview: imports.Preview, text: str, *, refusal: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("feedback/import_preview.html", preview=preview, csv_text=text, refusal=refusal,
                           labels=imports.LABELS, problems_listed=PROBLEMS_LISTED, others_listed=OTHERS_LISTED), status


@bp.route("", methods=["GET", "POST"])
@import_required
def upload() -> str | tuple[str, int]:
    if request.method == "GET":
        return _form_page({})
    chosen = request.files.get("file")
    pasted = request.form.get("csv", "")
    field = "file" if chosen is not None and chosen.filename else "csv"
    try:
        if field == "file":
            assert chosen is not None
            # One byte over the limit is enough to say it is too large; the rest is never read.
            text = imports.decode(chosen.read(imports.MAX_BYTES + 1))
        elif pasted.strip():
            text = pasted
        else:
            raise ValidationError({"file": "Choose a CSV file to upload, or paste the rows into the box below."})
        preview = imports.preview(db(), now(), _practice(), text)
    except ValidationError as exc:
        where = "file" if field == "file" or not pasted.strip() else "csv"
        return _form_page({where: " ".join(exc.errors.values())}, pasted, 422)
    return _preview_page(preview, text)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _lines(rows: list[imports.RowCheck]) -> str:
    shown = ", ".join(str(row.line) for row in rows[:10])
    return f"line{'s' if len(rows) != 1 else ''} {shown}{', …' if len(rows) > 10 else ''}"


def _summary(summary: imports.ImportSummary) -> str:
    parts = [f"Sent {_plural(len(summary.created), 'feedback request')}."]
    if summary.skipped:
        parts.append(f"Skipped {_plural(len(summary.skipped), 'row')} with problems ({_lines(summary.skipped)}).")
    if summary.existing:
        parts.append(f"{_plural(len(summary.existing), 'row')} had been imported before and "
                     f"{'was' if len(summary.existing) == 1 else 'were'} not sent again.")
    return " ".join(parts)


def _after_import() -> str:
    # The staff list of requests (web/feedback.py, built alongside this), or the home page without it.
    endpoint = next((name for name in ("feedback.list_requests", "feedback.requests")
                     if name in current_app.view_functions), "home.index")
    return url_for(endpoint)


@bp.post("/confirm")
@import_required
def confirm() -> Response | tuple[str, int]:
    text = request.form.get("csv", "")
    mode = request.form.get("mode", "")
    if mode not in imports.MODES:
        mode = "all-or-nothing"   # a form without a choice must not import more than was asked for
    session = db()
    try:
        summary = imports.import_rows(session, now(), _practice(), text, actor=_user(),
                                      base_url=runtime().settings.base_url, mode=mode)
        refusal = ""
        if not summary.imported:
            refusal = (f"Nothing was imported: you asked to import only if every row is good, and "
                       f"{_plural(len(summary.skipped), 'row')} {'has' if len(summary.skipped) == 1 else 'have'} "
                       f"problems ({_lines(summary.skipped)}). Fix them in the file and upload it again, "
                       "or import the good rows only.")
        elif not summary.created and summary.skipped:
            refusal = "Nothing was imported: no row is ready to send. Fix the file and upload it again."
        if refusal:
            session.rollback()
            return _preview_page(summary.preview, text, refusal=refusal, status=422)
        session.commit()
    except ValidationError as exc:
        session.rollback()
        return _form_page({"csv": " ".join(exc.errors.values())}, text, 422)
    except IntegrityError:
        # Another import of the same external references committed first (a double click, say).
        session.rollback()
        return _form_page({"csv": "Another import of the same rows finished while this one ran, so nothing from "
                                  "this one was imported. Check the file again to see what is left to send."},
                          text, 409)
    flash(_summary(summary), "success")
    return redirect(_after_import())


@bp.get("/example.csv")
@import_required
def example() -> Response:
    practice = _practice()
    text = imports.example_csv(partners.list_partners(db(), practice.id), _user().email)
    # The byte-order mark makes Excel read the file as UTF-8; the import accepts it.
    response = current_app.response_class("\ufeff" + text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="feedback-requests-example.csv"'
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    # Flask refuses the body before any view runs (and before the CSRF check could read it). Someone who
    # may import gets the form back with the reason; anyone else the usual error page. Nothing was read.
    user = current_user()
    if user is None or user.role not in IMPORTERS:
        return render_template("error.html", code=413, title=TITLES[413], detail=EXPLANATIONS[413]), 413
    return _form_page({"file": "That is more than partnermon accepts in one upload. "
                               f"Split the file into files of at most {imports.MAX_ROWS:,} rows."}, status=422)
