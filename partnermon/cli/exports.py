"""``partnermon export``: one month of a practice's data as CSV or JSON (DESIGN.md §9).

Rows come from generators that read in batches and are written as they come, so a big month never sits
in memory. CSV cells a person typed are neutralised against formula injection (``partnermon.exports``).
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterator, TextIO
from zoneinfo import ZoneInfo

import click

from partnermon.cli.support import OneLineUsage, fail, friendly_errors, open_runtime, output_file
from partnermon.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from partnermon.models import Practice

    Rows = Callable[[Session, datetime, int, datetime, datetime], Iterator[dict[str, Any]]]

# The services are imported inside the functions below: they load SQLAlchemy and SciPy, which
# `partnermon --help` must not wait for (tests/test_cli_startup.py).
WHAT = ("requests", "responses", "followups", "results", "incidents", "scores")


def _exports() -> dict[str, tuple[Rows, tuple[str, ...]]]:
    """What --what names: the rows of [start, end) and their CSV columns."""
    from partnermon.feedback import exports as feedback_exports
    from partnermon.followups import exports as followup_exports
    from partnermon.monitoring.exports import INCIDENT_FIELDS, RESULT_FIELDS
    from partnermon.scoring.exports import SCORE_FIELDS

    return {
        "requests": (_requests, feedback_exports.REQUEST_FIELDS),
        "responses": (_responses, feedback_exports.RESPONSE_FIELDS),
        "followups": (_followups, followup_exports.FOLLOW_UP_FIELDS),
        "results": (_results, RESULT_FIELDS),
        "incidents": (_incidents, INCIDENT_FIELDS),
        "scores": (_scores, SCORE_FIELDS),
    }


def _requests(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
              ) -> Iterator[dict[str, Any]]:
    from partnermon.feedback import exports as feedback_exports
    from partnermon.feedback import staff

    conditions = staff.request_conditions(practice_id, now, since=start, until=end)
    return feedback_exports.request_rows(session, now, conditions)


def _responses(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
               ) -> Iterator[dict[str, Any]]:
    from partnermon.feedback import exports as feedback_exports
    from partnermon.feedback import staff

    return feedback_exports.response_rows(session, staff.response_conditions(practice_id, since=start, until=end))


def _followups(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
               ) -> Iterator[dict[str, Any]]:
    from partnermon.followups import exports as followup_exports

    return followup_exports.follow_up_rows(session, now, practice_id, start, end)


def _results(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
             ) -> Iterator[dict[str, Any]]:
    from partnermon.monitoring.exports import probe_results

    return probe_results(session, practice_id, start, end)


def _incidents(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
               ) -> Iterator[dict[str, Any]]:
    from partnermon.monitoring.exports import incidents

    return incidents(session, practice_id, start, end)


def _scores(session: Session, now: datetime, practice_id: int, start: datetime, end: datetime
            ) -> Iterator[dict[str, Any]]:
    from zoneinfo import ZoneInfo

    from partnermon.models import Practice
    from partnermon.scoring import periods
    from partnermon.scoring.exports import score_rows

    practice = session.get(Practice, practice_id)
    assert practice is not None
    return score_rows(session, now, practice, periods.month_of(start.astimezone(ZoneInfo(practice.timezone)).date(),
                                                               practice.timezone))


def month_bounds(month: str | None, practice: Practice, now: datetime) -> tuple[datetime, datetime, str]:
    """[start, end) in UTC of a YYYY-MM month in the practice's time zone (default: the current month)."""
    zone = ZoneInfo(practice.timezone)
    if month:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    else:
        local = now.astimezone(zone)
        first = date(local.year, local.month, 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first, time(0), zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(following, time(0), zone).astimezone(ZoneInfo("UTC"))
    return start, end, first.strftime("%Y-%m")


@click.command("export", cls=OneLineUsage)
@click.option("--practice", "practice_slug", required=True)
@click.option("--what", type=click.Choice(WHAT), required=True,
              help="Feedback requests or responses (by when they were made), follow-ups (by when they were opened), "
                   "probe results, incidents, or scores (partner × moment of truth for the month).")
@click.option("--format", "format_", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--month", default=None, metavar="YYYY-MM", help="A month in the practice's time zone; default this month.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@friendly_errors
def export_command(practice_slug: str, what: str, format_: str, month: str | None, output: str | None) -> None:
    """Export one month of a practice's feedback requests or responses, follow-ups, probe results, incidents or scores."""
    from partnermon import validators
    from partnermon.db import utcnow
    from partnermon.exports import write_csv, write_json
    from partnermon.practices import service as practices

    if month is not None:
        try:
            validators.month("--month", month)
        except ValidationError as exc:
            fail(exc.first_line())
        month = month.strip()
    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        try:
            start, end, label = month_bounds(month, practice, now)
        except (ValueError, OverflowError):  # year 0, or a month whose end falls off the calendar
            fail(f"--month {month!r} is not a month that can be exported.")
        make_rows, fields = _exports()[what]
        rows = make_rows(session, now, practice.id, start, end)

        def progress(count: int) -> None:
            click.echo(f"… {count:,} rows", err=True)

        def write(out: TextIO) -> int:
            if format_ == "csv":
                return write_csv(rows, fields, out, progress if output else None)
            return write_json(rows, out, progress if output else None)

        if output:
            with output_file("-o", output) as handle:
                count = write(handle)
            click.echo(f"Wrote {count:,} {what} of {practice.name} for {label} to {output}.", err=True)
        else:
            write(sys.stdout)
