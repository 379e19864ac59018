"""The ``partnermon`` command (DESIGN.md §9). Each command is a thin shell around one service.

Problems a person can fix are printed as one line naming the problem, with a non-zero exit.

Each command imports the services it uses inside its function: loading them all (SQLAlchemy, SciPy, Alembic,
WeasyPrint, the web app) would make every command, ``partnermon --help`` included, take seconds to start.
tests/test_cli_startup.py holds that.
"""

from __future__ import annotations

import logging
import os
import threading

import click

import probes
from partnermon.cli.support import (
    OneLineUsageGroup, fail, friendly_errors, open_runtime, setup_logging, stop_on_signals,
)
from partnermon.cli.closures import closure_command
from partnermon.cli.demo import demo_command
from partnermon.cli.exports import export_command
from partnermon.cli.feedback import feedback_link_command
from partnermon.cli.probe import probe_command
from partnermon.cli.report import report_command
from partnermon.cli.scorecard import scorecard_command
from partnermon.config import served_base_url


@click.group(cls=OneLineUsageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="partnermon")
def main() -> None:
    """partnermon: watch how the partners you recommend treat your clients."""


@main.command("init-db")
@friendly_errors
def init_db() -> None:
    """Create the schema, or upgrade an older one to the latest version."""
    from partnermon import schema

    runtime = open_runtime(require_schema=False)
    before = schema.current_revision(runtime.engine)
    schema.upgrade(runtime.engine)
    after = schema.current_revision(runtime.engine)
    where = runtime.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"The database at {where} is already up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database at {where} from {before or 'empty'} to revision {after}.")


@main.command("create-practice")
@click.argument("slug")
@click.option("--name", required=True, help="The practice's name as clients know it.")
@click.option("--timezone", "timezone_", default="Europe/London", show_default=True, help="IANA time zone.")
@click.option("--country", default="", metavar="XX",
              help="ISO 3166 code (NZ, AU, GB…) for reading partners' phone numbers; default: the time zone's.")
@friendly_errors
def create_practice(slug: str, name: str, timezone_: str, country: str) -> None:
    """Create a practice with the default moments of truth."""
    from partnermon.db import utcnow
    from partnermon.practices import service as practices

    runtime = open_runtime()
    with runtime.session_factory() as session:
        practice = practices.create_practice(session, utcnow(), slug=slug, name=name, timezone=timezone_, country=country)
        session.commit()
        click.echo(f"Created practice {practice.name} ({practice.slug}) with {len(practice.moments)} moments of truth.")


@main.command("create-user")
@click.option("--practice", "practice_slug", required=True, help="The practice's slug.")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["owner", "adviser", "viewer"]), required=True)
@click.option("--name", default="", help="The person's name.")
@click.option("--password", default=None, help="Set a password now. Without it, an invitation link is emailed and printed.")
@friendly_errors
def create_user(practice_slug: str, email: str, role: str, name: str, password: str | None) -> None:
    """Add a user to a practice."""
    from partnermon.accounts import service as accounts
    from partnermon.db import utcnow
    from partnermon.practices import service as practices

    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        if password is not None:
            user = accounts.create_user(session, now, practice, email=email, role=role, password=password, name=name)
            session.commit()
            click.echo(f"Created {user.role} {user.email} in {practice.name}. They can sign in at {runtime.settings.base_url}/sign-in")
            return
        invitation = accounts.invite_user(session, now, practice, email=email, role=role, name=name,
                                          actor="cli", base_url=runtime.settings.base_url)
        session.commit()
        click.echo(f"Created {role} {invitation.user.email} in {practice.name} and queued an invitation email.")
        click.echo(f"Invitation link (works once, for 7 days): {invitation.link}")


@main.command("create-partner")
@click.option("--practice", "practice_slug", required=True)
@click.option("--name", required=True)
@click.option("--category", default="other", show_default=True,
              type=click.Choice(["insurer", "fund_manager", "platform", "lender", "other"]))
@click.option("--website", default="")
@click.option("--exposure", default="0", help="How many of the practice's clients deal with this partner.")
@friendly_errors
def create_partner(practice_slug: str, name: str, category: str, website: str, exposure: str) -> None:
    """Add a partner the practice recommends."""
    from partnermon.db import utcnow
    from partnermon.partners import service as partners
    from partnermon.practices import service as practices

    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        partner = partners.create_partner(session, now, practice.id, "cli", {
            "name": name, "category": category, "website": website, "exposure": exposure,
        })
        session.commit()
        click.echo(f"Added partner {partner.name} to {practice.name}.")


@main.command("add-touchpoint")
@click.option("--practice", "practice_slug", required=True)
@click.option("--partner", "partner_name", required=True)
@click.option("--name", required=True)
@click.option("--moment", required=True, help="A moment-of-truth key, e.g. claim, service, opening.")
@click.option("--url", default="", help="The page's address; leave out for an offline touchpoint.")
@click.option("--kind", default=None, help=f"Probe it: {', '.join(probes.KINDS)} (needs --url).")
@click.option("--check", "checks", multiple=True, metavar="EXPR", help="A probe assertion, e.g. '[STATUS] == 200'. Repeatable.")
@click.option("--interval", default=None, type=int, metavar="SECONDS", help="Seconds between checks (30 or more; default 300).")
@friendly_errors
def add_touchpoint(practice_slug: str, partner_name: str, name: str, moment: str, url: str, kind: str | None,
                   checks: tuple[str, ...], interval: int | None) -> None:
    """Add a touchpoint (where clients meet a partner) tagged with a moment of truth, and optionally its probe."""
    from partnermon.db import utcnow
    from partnermon.partners import probe_settings
    from partnermon.partners import service as partners
    from partnermon.practices import service as practices

    runtime = open_runtime()
    now = utcnow()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        partner = partners.partner_by_name(session, practice.id, partner_name)
        touchpoint = partners.create_touchpoint(session, now, partner, "cli", {"name": name, "moment": moment, "url": url})
        probe = None
        if kind or checks or interval is not None:
            probe = probe_settings.save_probe(session, now, touchpoint, "cli", {
                "kind": kind or "http", "checks": list(checks),
                "interval_seconds": "" if interval is None else str(interval)})
        session.commit()
        click.echo(f"Added touchpoint {touchpoint.name} ({touchpoint.moment.name}) to {partner.name}.")
        if probe is not None:
            click.echo(f"Probing it with {'an' if probe.kind[0] in 'aeiouh' else 'a'} {probe.kind} probe {probe_settings.describe_interval(probe.interval_seconds)}.")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Web server threads.")
@click.option("--no-scheduler", is_flag=True,
              help="Serve pages only; run `partnermon scheduler` and `partnermon worker` elsewhere.")
@click.option("--probe-threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Threads running probes.")
@friendly_errors
def serve(host: str, port: int, threads: int, no_scheduler: bool, probe_threads: int) -> None:
    """Run the web app, scheduler, probe worker and email sender in one process (the embedded default)."""
    import waitress

    from partnermon import jobs, schema
    from partnermon.app import create_app
    from partnermon.practices import service as practices
    from partnermon.scheduler import build_scheduler

    setup_logging()
    runtime = open_runtime(require_schema=False)
    runtime.settings = runtime.settings.with_overrides(base_url=served_base_url(os.environ, host, port))
    # One process owns this database, so bringing the schema up to date here is safe and saves a step.
    schema.upgrade(runtime.engine)
    app = create_app(runtime=runtime)
    scheduler = None if no_scheduler else build_scheduler(runtime)
    stop_probes = threading.Event()
    if scheduler is not None:
        scheduler.start()
        worker = jobs.probe_worker(runtime, threads=probe_threads)
        threading.Thread(target=worker.run, args=(stop_probes,), name="probe-worker", daemon=True).start()
    with runtime.session_factory() as session:
        first_run = not practices.any_practice_exists(session)
        demo_only = not first_run and not practices.any_practice_exists(session, counting_demos=False)
    address = served_base_url({}, host, port)
    click.echo(f"partnermon is running at {address}" + (" — open it to set up your practice." if first_run else ""))
    if demo_only:
        click.echo(f"Sign in with the demo practice's login, or set up your own practice at {address}/setup.")
    click.echo(f"Database: {runtime.engine.url.render_as_string(hide_password=True)}")
    if not runtime.settings.smtp_url:
        click.echo("PARTNERMON_SMTP_URL is not set: emails stay queued in the outbox and are written to this log.")
    click.echo("Press Ctrl+C to stop.")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="partnermon", _quiet=True)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror}). Is another program using that port? Try --port.")
    finally:
        stop_probes.set()
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@main.command("scheduler")
@friendly_errors
def scheduler_command() -> None:
    """Run the one scheduler (production). A second copy waits as a standby."""
    from partnermon.scheduler import SchedulerLockLost, run_forever

    setup_logging()
    runtime = open_runtime()
    try:
        run_forever(runtime, stop_on_signals())
    except SchedulerLockLost as exc:
        fail(str(exc))


@main.command("worker")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Threads running probes.")
@click.option("--poll", default=5.0, show_default=True, type=click.FloatRange(0.5, 300), help="Seconds between looks for due work.")
@friendly_errors
def worker_command(threads: int, poll: float) -> None:
    """Claim and run due work (production); run as many as you like, on any machines."""
    from partnermon import jobs
    from partnermon.db import database_down_reason, is_database_down, utcnow

    setup_logging()
    runtime = open_runtime()
    stop = stop_on_signals()
    name = jobs.worker_id("worker")
    probe_worker = jobs.probe_worker(runtime, threads=threads, worker=name)
    probe_thread = threading.Thread(target=probe_worker.run, args=(stop,), name="probe-worker")
    probe_thread.start()
    click.echo(f"partnermon worker {name} started with {threads} probe threads; Ctrl+C to stop.")
    while not stop.is_set():
        try:
            jobs.send_emails(runtime, utcnow(), worker=name, clock=utcnow)
            jobs.render_reports(runtime, worker=name)
            jobs.deliver_webhooks(runtime, utcnow(), worker=name)
        except Exception as exc:  # nothing may end the worker: a bug is logged with its traceback
            if is_database_down(exc):  # a database blip: one line, and look again shortly
                logging.getLogger(__name__).warning("worker pass skipped: %s",
                                                    database_down_reason(exc, runtime.engine.url))
            else:
                logging.getLogger(__name__).exception("worker pass failed")
        stop.wait(poll)
    probe_thread.join()


main.add_command(probe_command)
main.add_command(export_command)
main.add_command(feedback_link_command)
main.add_command(demo_command)
main.add_command(report_command)
main.add_command(scorecard_command)
main.add_command(closure_command)


if __name__ == "__main__":  # pragma: no cover
    main()
