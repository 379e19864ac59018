"""``partnermon scorecard --practice SLUG --partner NAME --month YYYY-MM [-o FILE]``: one partner's scorecard
(PDF) for its account manager, rendered here and now. NAME is the partner's name in any case, or its id.
A mistake is one line and exit 1.
"""

from __future__ import annotations


import click

from partnermon.cli.support import OneLineUsage, fail, friendly_errors, open_runtime, output_file, writable_target
from partnermon.errors import ValidationError


@click.command("scorecard", cls=OneLineUsage)
@click.option("--practice", "slug", required=True, help="The practice's slug.")
@click.option("--partner", "partner_name", required=True, metavar="NAME", help="The partner's name (any case) or id.")
@click.option("--month", required=True, metavar="YYYY-MM", help="A month in the practice's time zone.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the PDF; default scorecard-SLUG-PARTNER-YYYY-MM.pdf here.")
@friendly_errors
def scorecard_command(slug: str, partner_name: str, month: str, output: str | None) -> None:
    """Write one partner's scorecard (PDF) for a month: no other partner and no client is named in it."""
    # Imported here: WeasyPrint takes a second or two to load, which every other command would wait for too.
    from partnermon.db import utcnow
    from partnermon.practices import service as practices
    from partnermon.reports import scorecard
    from partnermon.scoring import periods

    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, slug)
        partner = scorecard.find_partner(session, practice.id, partner_name)
        if month.strip() in ("", "30d"):
            fail("--month: a scorecard is for a calendar month; write it as YYYY-MM, e.g. 2026-11.")
        try:
            period = periods.parse(month, now, practice.timezone, field="--month")
        except ValidationError as exc:
            fail(exc.first_line())
        target = writable_target("-o", output or scorecard.file_name(practice.slug, partner, period.key))
        card = scorecard.gather(session, now, practice, partner, period)
        pdf = scorecard.render_scorecard(card)
    with output_file("-o", target, "wb") as handle:
        handle.write(pdf.data)
    click.echo(f"Wrote {target}: {card.partner_name}, {period.label}, {pdf.pages} page{'s' if pdf.pages != 1 else ''}.")
