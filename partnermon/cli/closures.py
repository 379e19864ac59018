"""``partnermon closure add|list|remove``: the practice's closure days from a terminal (issue 19).

Closure days are outside business hours, like public holidays. The same service and the same checks as the
settings page: a date in the past, a malformed one or one already closed is one line naming ``--date``, and
exit code 1, with nothing saved.
"""

from __future__ import annotations

from typing import NoReturn

import click

from partnermon.cli.support import OneLineUsageGroup, fail, friendly_errors, open_runtime
from partnermon.errors import ValidationError

# The service names fields as the form does; a person at a terminal knows them by their options.
OPTION_OF = {"day": "--date", "note": "--note"}


def _fail_on(exc: ValidationError) -> NoReturn:
    field, message = next(iter(exc.errors.items()))
    fail(f"{OPTION_OF.get(field, field)}: {message}")


@click.group("closure", cls=OneLineUsageGroup)
def closure_command() -> None:
    """The days the practice is closed: outside business hours, like public holidays."""


@closure_command.command("add")
@click.option("--practice", "practice_slug", required=True, help="The practice's slug.")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD", help="The day, today or later (the practice's own calendar).")
@click.option("--note", default="", help="Why, e.g. “Staff training” (at most 200 characters).")
@friendly_errors
def add(practice_slug: str, day: str, note: str) -> None:
    """Close the practice on one day."""
    # Imported here, not at the top, so that `partnermon --help` starts without the models and services.
    from partnermon.db import utcnow
    from partnermon.practices import closures, service as practices

    runtime = open_runtime()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        try:
            closure = closures.add_closure(session, utcnow(), practice, "cli", day=day, note=note)
        except ValidationError as exc:
            _fail_on(exc)
        session.commit()
        click.echo(f"{practice.name} is closed on {closure.day:%A %d %B %Y}.")


@closure_command.command("list")
@click.option("--practice", "practice_slug", required=True, help="The practice's slug.")
@click.option("--all", "everything", is_flag=True, help="Past closure days too, not only today's and later ones.")
@friendly_errors
def list_(practice_slug: str, everything: bool) -> None:
    """Print the closure days, one a line: date, tab, note."""
    from partnermon.db import utcnow
    from partnermon.practices import closures, service as practices

    runtime = open_runtime()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        since = None if everything else closures.local_today(practice, utcnow())
        for closure in closures.list_closures(session, practice.id, since=since):
            click.echo(f"{closure.day.isoformat()}\t{closure.note}".rstrip("\t"))


@closure_command.command("remove")
@click.option("--practice", "practice_slug", required=True, help="The practice's slug.")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD", help="The closure day to open again.")
@friendly_errors
def remove(practice_slug: str, day: str) -> None:
    """Open the practice again on a closure day still to come."""
    from partnermon.db import utcnow
    from partnermon.practices import closures, service as practices

    runtime = open_runtime()
    with runtime.session_factory() as session:
        practice = practices.by_slug(session, practice_slug)
        try:
            closure = closures.closure_on(session, practice, day)
            closures.remove_closure(session, utcnow(), closure, "cli")
        except ValidationError as exc:
            _fail_on(exc)
        session.commit()
        click.echo(f"{practice.name} is open again on {closure.day:%A %d %B %Y}.")
