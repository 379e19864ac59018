"""``partnermon demo``: a demo practice with months of history to explore (DESIGN.md §9).

Run twice, it does not make a second one: a demo practice that exists gets a new owner password, printed
with where to sign in, so ``partnermon demo && partnermon serve`` always works. A practice of someone's own
with that slug is never touched. Progress goes to stderr, the result to stdout.
"""

from __future__ import annotations

import time

import click

from partnermon.cli.support import OneLineUsage, fail, friendly_errors, open_runtime

# demo.DEFAULT_SLUG and demo.MAX_MONTHS, written out: importing partnermon.demo loads every model and service,
# which `partnermon --help` must not wait for (tests/test_cli_startup.py checks that the two agree).
DEFAULT_SLUG = "demo"
MAX_MONTHS = 36


def _progress(message: str) -> None:
    click.echo(f"partnermon demo: {message}", err=True)


@click.command("demo", cls=OneLineUsage)
@click.option("--practice", "slug", default=DEFAULT_SLUG, show_default=True,
              help="The demo practice's slug.")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, MAX_MONTHS),
              help="Months of history, ending now.")
@friendly_errors
def demo_command(slug: str, months: int) -> None:
    """Create a demo practice with invented partners, probe history, feedback and follow-ups.

    Its probes are paused and it sends no email. Prints how to sign in as its owner.
    """
    from partnermon import demo, schema
    from partnermon.db import utcnow

    runtime = open_runtime(require_schema=False)
    # As `serve` does, so that `partnermon demo && partnermon serve` works on a fresh installation too.
    schema.upgrade(runtime.engine)
    sign_in = f"{runtime.settings.base_url}/sign-in"
    now = utcnow()
    with runtime.session_factory() as session:
        found = demo.existing(session, slug)
        if found is not None and not found.is_demo:
            fail(f"A practice with the slug '{found.slug}' already exists; it is not a demo, so it was left alone. "
                 f"Choose another slug with --practice.")
        if found is not None:
            login = demo.reset_owner_password(session, now, found)
            if login is None:
                fail(f"The demo practice '{found.slug}' has no active owner left to sign in as; "
                     f"choose another slug with --practice for a fresh demo.")
            session.commit()
            click.echo(f"The demo practice {found.name} ({found.slug}) already exists; its owner has a new password.")
            _print_sign_in(sign_in, *login)
            return
        started = time.monotonic()
        result = demo.generate(session, now, slug=slug, months=months, progress=_progress)
        session.commit()
        _progress(f"done in {time.monotonic() - started:.1f} s")
    months = f"{result.months} month{'s' if result.months != 1 else ''}"
    click.echo(f"Created the demo practice {result.practice_name} ({result.slug}) with {months} of history:")
    click.echo(f"  {result.partners} partners, {result.touchpoints} touchpoints, {result.probes} probes (all paused: "
               f"the demo makes no outbound requests and sends no email)")
    click.echo(f"  {result.daily_rollups:,} daily and {result.hourly_rollups:,} hourly rollups, "
               f"{result.incidents:,} incidents")
    click.echo(f"  {result.requests:,} feedback requests, {result.responses:,} responses "
               f"({result.open_link_responses:,} through the open link)")
    click.echo(f"  {result.follow_ups:,} follow-ups ({result.unresolved_follow_ups:,} not yet resolved, "
               f"{result.overdue_follow_ups:,} overdue)")
    click.echo(f"  {result.promises} partner promises, and the practice's own booking page and website")
    _print_sign_in(sign_in, result.owner_email, result.owner_password)


def _print_sign_in(url: str, email: str, password: str) -> None:
    click.echo(f"Sign in at {url}")
    click.echo(f"  email:    {email}")
    click.echo(f"  password: {password}")
