"""``partnermon probe``: one check of one address from the command line (DESIGN.md §9).

``partnermon export`` lives in ``cli/exports.py``. A probe needs no database: this module imports neither
SQLAlchemy nor the web app, so a check from the command line starts at once (tests/test_cli_startup.py)."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any

import click

import probes
from partnermon.cli.support import fail, refuse_unusable_text
from partnermon.config import ConfigError, probe_allow_cidrs
from probes.fetch import DEFAULT_USER_AGENT, FetchPolicy
from probes.spec import ProbeSpec

EXIT_BY_OUTCOME = {"up": 0, "degraded": 1, "down": 2}
EXIT_BAD_ARGUMENTS = 64  # EX_USAGE: 2 already means "down"


class _UsageIs64(click.Command):
    """Click reports bad arguments with exit code 2, which for ``probe`` means "down"; use 64, in one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_unusable_text(args, code=EXIT_BAD_ARGUMENTS)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message(), code=EXIT_BAD_ARGUMENTS)


@click.command("probe", cls=_UsageIs64)
@click.argument("url")
@click.option("--kind", default="http", show_default=True, type=click.Choice(list(probes.KINDS)))
@click.option("--check", "checks", multiple=True, metavar="EXPR",
              help='An assertion that must hold, e.g. \'[STATUS] == 200\'. Repeatable.')
@click.option("--soft-check", "soft_checks", multiple=True, metavar="EXPR",
              help="An assertion whose failure makes the result degraded rather than down. Repeatable.")
@click.option("--slow-after", type=click.IntRange(1, 120_000), default=None, metavar="MS",
              help="Degraded when the whole check takes longer than this many milliseconds.")
@click.option("--option", "options", multiple=True, metavar="KEY=JSON",
              help='A kind option, e.g. --option \'record_types=["A","MX"]\' or --option human_contact=\'"hard"\'.')
@click.option("--allow-private", is_flag=True, help="Allow private and loopback addresses (your own network).")
@click.option("--timeout", type=click.FloatRange(0.5, 60), default=10.0, show_default=True, metavar="S",
              help="Give up after this many seconds in all.")
@click.option("--country", default="", metavar="XX",
              help="Read phone numbers without a country code by this country's rules (ISO 3166: NZ, AU, GB…) "
                   "when the page does not name its own.")
def probe_command(url: str, kind: str, checks: tuple[str, ...], soft_checks: tuple[str, ...], slow_after: int | None,
                  options: tuple[str, ...], allow_private: bool, timeout: float, country: str) -> None:
    """Run one probe now and print its result as JSON.

    Exit status: 0 up, 1 degraded, 2 down, 64 bad arguments.
    """
    region = country.strip().upper()
    if region and not re.fullmatch(r"[A-Z]{2}", region):
        fail(f"--country {country[:20]!r}: use a two-letter ISO 3166 code such as NZ, AU or GB.", code=EXIT_BAD_ARGUMENTS)
    spec = ProbeSpec(kind=kind, url=url, checks=checks, soft_checks=soft_checks, timeout_seconds=timeout,
                     degraded_after_ms=slow_after, options=_parse_options(options), region=region)
    problems = probes.check(spec)
    if problems:
        field, message = next(iter(problems.items()))
        fail(f"{field.replace('_', ' ')}: {message}", code=EXIT_BAD_ARGUMENTS)
    try:
        cidrs = probe_allow_cidrs(os.environ)
    except ConfigError as exc:
        fail(str(exc), code=EXIT_BAD_ARGUMENTS)
    policy = FetchPolicy(allow_cidrs=cidrs, allow_private=allow_private, user_agent=DEFAULT_USER_AGENT,
                         total_timeout=timeout, read_timeout=timeout, connect_timeout=min(timeout, 5.0))
    # The clock read here rather than through partnermon.db.utcnow, which would load SQLAlchemy.
    result = probes.run(spec, policy, datetime.now(timezone.utc))
    click.echo(json.dumps({"url": url, "kind": kind, **result.to_dict()}, indent=2, ensure_ascii=False, default=str))
    sys.exit(EXIT_BY_OUTCOME[result.outcome])


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not re.match(r"^[a-z_]{1,40}$", key):
            fail(f"--option {pair[:60]!r}: use KEY=VALUE, e.g. min_days=30.", code=EXIT_BAD_ARGUMENTS)
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw  # a bare word such as hard is taken as text
    return options
