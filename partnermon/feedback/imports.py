"""CSV import of feedback requests: read a file, preview every row, import only on confirmation.

A practice uploads ``client_name, client_email, partner, touchpoint or moment, adviser_email, external_ref``.
``preview`` says for each line whether the row is ready to send or why not, and writes nothing.
``import_rows`` checks the file again (the data may have changed since the preview) and creates a request
for each good row or, in all-or-nothing mode, none unless every row is good. Rows are checked by the same
code that creates a single request (``links.check_request``), so a preview and an import agree.

Plain functions of (session, now, ...): no Flask, and no commit. The caller commits once, so an import is
one transaction; an exception means the caller must roll back, and nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from partnermon.accounts import audit
from partnermon.errors import ValidationError
from partnermon.feedback import links
from partnermon.feedback.lookups import Lookups
from partnermon.models import FeedbackRequest, Partner, Practice, User

COLUMNS = ("client_name", "client_email", "partner", "touchpoint", "adviser_email", "external_ref")
REQUIRED_COLUMNS = ("client_email", "partner")
LABELS = {"client_name": "Client name", "client_email": "Client email", "partner": "Partner",
          "touchpoint": "Touchpoint or moment", "adviser_email": "Adviser email",
          "external_ref": "External reference", "row": "Line"}
# A file is checked with a few queries and created with three INSERTs (see _check_rows, import_rows): 10,000
# rows take seconds (bench/csv_import.py), well within a web worker's timeout. Bigger lists are split.
MAX_ROWS = 10_000
# Room for 10,000 rows of 150 characters, and still under the app's request limit (MAX_CONTENT_LENGTH, 2 MiB),
# because the preview page sends the text back.
MAX_BYTES = 1_500_000
MODES = ("good-only", "all-or-nothing")
READY, PROBLEM, EXISTING = "ready", "problem", "existing"

# Header names as people write them, folded to lowercase words joined by "_" (see _header_key).
_HEADERS = {**{name: name for name in COLUMNS},
            "touchpoint_or_moment": "touchpoint", "moment": "touchpoint", "touchpoint_moment": "touchpoint",
            "moment_of_truth": "touchpoint", "advisor_email": "adviser_email", "external_reference": "external_ref"}
_COLUMN_LIST = ", ".join(COLUMNS)
_EXCEL_HINT = "In Excel or Numbers, save it as “CSV UTF-8” and upload that file."


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": message})


@dataclass(frozen=True)
class CsvRow:
    """One record of the file: the line it starts on (the header is line 1) and its values by column."""

    line: int
    values: dict[str, str]
    overflow: bool = False   # values beyond the named columns: an unquoted comma, most likely


@dataclass
class RowCheck:
    """A row as the preview shows it: ready to send, a problem (with reasons), or already imported."""

    line: int
    values: dict[str, str]
    status: str
    reasons: list[tuple[str, str]] = field(default_factory=list)   # (column label, sentence)
    partner: str = ""     # the partner's name as stored when the row resolved, else as typed
    about: str = ""       # the touchpoint or moment, likewise
    existing: FeedbackRequest | None = None
    checked: links.CheckedRequest | None = None   # what a ready row creates


@dataclass
class Preview:
    rows: list[RowCheck]

    def _with(self, status: str) -> list[RowCheck]:
        return [row for row in self.rows if row.status == status]

    @property
    def ready(self) -> list[RowCheck]:
        return self._with(READY)

    @property
    def problems(self) -> list[RowCheck]:
        return self._with(PROBLEM)

    @property
    def existing(self) -> list[RowCheck]:
        return self._with(EXISTING)


@dataclass
class ImportSummary:
    mode: str
    preview: Preview                 # every row as checked at confirmation
    imported: bool                   # False: all-or-nothing found a bad row, so nothing was created
    created: list[RowCheck]
    existing: list[RowCheck]         # rows whose external reference was imported before
    skipped: list[RowCheck]          # bad rows, with their reasons


# --- reading the file -------------------------------------------------------------------------------

def decode(data: bytes) -> str:
    """An uploaded file's text: UTF-8 with or without a byte-order mark, or ValidationError saying why not."""
    if not data.strip():
        raise _file_error("The file is empty. Choose a CSV file with a header row and one line per client.")
    if len(data) > MAX_BYTES:
        raise _file_error(f"The file is larger than {MAX_BYTES / 1_000_000:g} MB. "
                          f"Split it into files of at most {MAX_ROWS:,} rows.")
    if data.startswith(b"PK\x03\x04"):
        raise _file_error(f"This looks like an Excel workbook, not a CSV file. {_EXCEL_HINT}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(f"The file is saved as UTF-16 text. {_EXCEL_HINT}")
    if b"\x00" in data:
        raise _file_error("This is not a text file. Upload a CSV file (comma-separated values).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise _file_error(f"The file is not UTF-8 text (line {line} has a character that is not). {_EXCEL_HINT}"
                          ) from None


def _delimiter(text: str) -> str:
    """Comma, semicolon (European spreadsheets) or tab (pasted from a spreadsheet), judged on the header."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", ";", "\t"), key=first.count) if any(d in first for d in ";\t") else ","


def _header_key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", cell.strip().lower()).strip("_")


def _columns(header: list[str]) -> list[str | None]:
    """The column each position holds (None for a blank header cell), or ValidationError naming the fix."""
    names: list[str | None] = []
    unknown: list[str] = []
    for cell in header:
        key = _header_key(cell)
        column = _HEADERS.get(key) if key else None
        if key and column is None:
            unknown.append(cell.strip()[:40])
        if column is not None and column in names:
            raise _file_error(f"The header row names the {column} column twice. Keep one of them.")
        names.append(column)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing and any("@" in cell for cell in header):
        raise _file_error(f"The first line must be a header row naming the columns ({_COLUMN_LIST}); "
                          "it looks like a client's details. Add a header row, or start from the example file.")
    problems = []
    if missing:
        problems.append("has no " + " and no ".join(missing) + " column")
    if unknown:
        problems.append("has columns partnermon does not know: " + ", ".join(f"“{u}”" for u in unknown))
    if problems:
        raise _file_error(f"The header row {' and '.join(problems)}. "
                          f"Name the columns {_COLUMN_LIST} (client_email and partner are required).")
    return names


def parse(text: str) -> list[CsvRow]:
    """The file's rows with the line each starts on, or ValidationError (field ``file``) for the whole file.

    Quoted values may hold commas and line breaks, so a row's line is where it starts, not its index.
    Blank lines are skipped."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _file_error(f"The file is larger than {MAX_BYTES / 1_000_000:g} MB. "
                          f"Split it into files of at most {MAX_ROWS:,} rows.")
    if "\x00" in text:
        raise _file_error("This is not a text file. Upload a CSV file (comma-separated values).")
    if not text.strip():
        raise _file_error("The file is empty. Choose a CSV file with a header row and one line per client.")
    # strict: an unclosed quote is an error rather than silently swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    names: list[str | None] | None = None
    rows: list[CsvRow] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if names is None:
                names = _columns(record)
                continue
            if len(rows) == MAX_ROWS:
                raise _file_error(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
            values = {name: cell for name, cell in zip(names, record) if name is not None}
            leftover = [cell for name, cell in zip(names, record) if name is None] + record[len(names):]
            rows.append(CsvRow(line, values, overflow=any(cell.strip() for cell in leftover)))
    except csv.Error as exc:
        raise _file_error(f"Line {start} could not be read ({exc}). "
                          "A value may be missing its closing quote (\").") from None
    if not rows:
        raise _file_error("The file has a header row but no clients in it. Add one line per client below it.")
    return rows


# --- checking and importing --------------------------------------------------------------------------

def _about(checked: links.CheckedRequest) -> str:
    if checked.touchpoint is not None:
        return checked.touchpoint.name
    return checked.moment.name if checked.moment is not None else ""


def _check_rows(session: Session, now: datetime, practice: Practice, rows: list[CsvRow]) -> Preview:
    first_ref: dict[str, int] = {}      # external reference -> the line that has it first
    first_email: dict[str, int] = {}    # client email -> the first line that is ready to send to it
    checks: list[RowCheck] = []
    # The practice's partners, touchpoints, moments and advisers read once, and the earlier requests the rows
    # may meet in a few queries: not five queries a row. The keys are the values as the checks will clean them
    # (a value cleaned otherwise is simply looked up on its own).
    lookups = Lookups(session, practice, now)
    lookups.expect(refs=(" ".join(row.values.get("external_ref", "").split()) for row in rows),
                   emails=(row.values.get("client_email", "").strip().lower() for row in rows))
    for row in rows:
        check = RowCheck(row.line, row.values, READY, partner=row.values.get("partner", "").strip(),
                         about=row.values.get("touchpoint", "").strip())
        checks.append(check)
        if row.overflow:
            check.reasons.append((LABELS["row"], "This line has more values than the header has columns. "
                                                 "A value with a comma in it needs quotes around it."))
        try:
            checked = links.check_request(session, now, practice, row.values, lookups=lookups)
        except ValidationError as exc:
            check.reasons.extend((LABELS.get(name, name), message) for name, message in exc.errors.items())
            checked = None
        if checked is not None and checked.existing is not None and not check.reasons:
            check.status, check.existing = EXISTING, checked.existing
            continue
        if checked is not None and checked.partner is not None:
            check.partner, check.about = checked.partner.name, _about(checked) or check.about
        ref = " ".join(row.values.get("external_ref", "").split())
        if ref and ref in first_ref:
            check.reasons.append((LABELS["external_ref"], f"The external reference {ref} is also on line "
                                  f"{first_ref[ref]}; each interaction needs a reference of its own."))
        if ref:
            first_ref.setdefault(ref, row.line)
        # Two rows for one client would be two emails in a day; the practice's throttle says one.
        email = checked.client_email if checked is not None else ""
        if not check.reasons and email in first_email and practice.feedback_throttle_days > 0:
            check.reasons.append((LABELS["client_email"], (
                f"{email} is also on line {first_email[email]}; {practice.name} waits "
                f"{practice.feedback_throttle_days} days between requests to one client, so only that line is sent.")))
        if check.reasons:
            check.status = PROBLEM
        else:
            first_email[email] = row.line
            check.checked = checked
    return Preview(checks)


def preview(session: Session, now: datetime, practice: Practice, text: str) -> Preview:
    """Every row of the file, ready or with its reasons; writes nothing. ValidationError for a bad file."""
    return _check_rows(session, now, practice, parse(text))


def import_rows(session: Session, now: datetime, practice: Practice, text: str, *, actor: User,
                base_url: str, mode: str = "good-only") -> ImportSummary:
    """Check the file again and create a request (and its invitation email) per good row.

    ``good-only`` creates the good rows and skips the bad ones; ``all-or-nothing`` creates nothing unless
    every row is good (``imported`` says which happened). A row whose external reference was imported
    before is neither created again nor counted as bad. Raises ValidationError for a bad file, and
    IntegrityError when another import of the same external references committed first: the caller must
    roll back."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    checked = preview(session, now, practice, text)
    summary = ImportSummary(mode, checked, imported=False, created=[], existing=checked.existing,
                            skipped=checked.problems)
    if mode == "all-or-nothing" and summary.skipped:
        return summary
    summary.created = checked.ready
    asks = [row.checked for row in summary.created]
    assert all(asks)   # a row is ready only once it passed check_request
    # No second check: this transaction checked the rows just now, and an import of the same references
    # committed meanwhile makes these INSERTs fail on the unique reference (the caller rolls back).
    links.create_checked(session, now, practice, asks, actor=actor, source="csv",  # type: ignore[arg-type]
                            base_url=base_url, adviser=actor)
    summary.imported = True
    summary.skipped.sort(key=lambda row: row.line)
    if summary.created:
        audit.record(session, now, practice.id, actor, "feedback.imported", "feedback_request", None,
                     f"Imported {len(summary.created)} feedback request{'s' if len(summary.created) != 1 else ''} "
                     f"from a CSV file; {len(summary.skipped)} skipped, {len(summary.existing)} imported before")
    return summary


# --- the example file ----------------------------------------------------------------------------------

def _spreadsheet_safe(value: str) -> bool:
    # A name a spreadsheet would run as a formula is left out of the example (DESIGN.md §8).
    return not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def example_csv(practice_partners: list[Partner], adviser_email: str) -> str:
    """An example file in the practice's own terms where it can be (its first partner and touchpoint)."""
    partner = next((p for p in practice_partners if _spreadsheet_safe(p.name)), None)
    partner_name = partner.name if partner is not None else "Acme Insurance"
    touchpoint = next((t.name for t in (partner.touchpoints if partner is not None else [])
                       if _spreadsheet_safe(t.name)), "claim")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(["Dana Whitfield", "dana@example.com", partner_name, touchpoint, adviser_email, "CRM-1001"])
    writer.writerow(["Sam O'Neill", "sam@example.com", partner_name, "service", "", ""])
    return out.getvalue()
