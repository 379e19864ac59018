"""``partnermon report --practice SLUG --month YYYY-MM [-o FILE]``: one practice's monthly report as a PDF,
rendered here and now (the scheduled reports are made by workers: partnermon.reports.jobs). Progress goes to
stderr; a mistake is one line and exit 1.
"""

from __future__ import annotations

import time

import click

from partnermon.cli.support import OneLineUsage, fail, friendly_errors, open_runtime, output_file, writable_target
from partnermon.errors import ValidationError


@click.command("report", cls=OneLineUsage)
@click.option("--practice", "slug", required=True, help="The practice's slug.")
@click.option("--month", required=True, metavar="YYYY-MM", help="A month in the practice's time zone.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the PDF; default partnermon-SLUG-YYYY-MM.pdf here.")
@friendly_errors
def report_command(slug: str, month: str, output: str | None) -> None:
    """Write one practice's monthly report (PDF) for a month."""
    # Imported here: WeasyPrint takes a second or two to load, which every other command would wait for too.
    from partnermon.db import utcnow
    from partnermon.practices import service as practices
    from partnermon.reports.make import make_pdf
    from partnermon.reports.storage import file_name
    from partnermon.scoring import periods

    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, slug)
        try:
            period = periods.parse(month, now, practice.timezone, field="--month")
        except ValidationError as exc:
            fail(exc.first_line())
        if month.strip() in ("", "30d"):
            fail("--month: a report is for a calendar month; write it as YYYY-MM, e.g. 2026-11.")
        target = writable_target("-o", output or file_name(practice.slug, period.key))
        started = time.perf_counter()
        pdf, pages = make_pdf(session, now, practice, period,
                              progress=lambda message: click.echo(f"partnermon report: {message}", err=True))
    with output_file("-o", target, "wb") as handle:
        handle.write(pdf)
    click.echo(f"Wrote {target}: {practice.name}, {period.label}, {pages} pages, {len(pdf) / 1024:.0f} KB "
               f"in {time.perf_counter() - started:.1f} s.")
