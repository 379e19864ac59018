"""What every ``partnermon`` command shares: one-line failures, opening the runtime, logging, signals."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from functools import wraps
from typing import Any, Callable, NoReturn

import click
from flask import Flask

from partnermon import schema
from partnermon.config import ConfigError
from partnermon.db import DatabaseUnreachable, check_database
from partnermon.errors import NotFound, ValidationError
from partnermon.runtime import Runtime


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"partnermon: {message}", err=True)
    sys.exit(code)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors people cause into one line and an exit code, never a traceback."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigError, DatabaseUnreachable, NotFound) as exc:
            fail(str(exc))
        except ValidationError as exc:
            fail(exc.first_line())

    return wrapped


def open_runtime(*, require_schema: bool = True) -> Runtime:
    runtime = Runtime.from_settings()
    context = click.get_current_context(silent=True)
    if context is not None:
        # Runs however the command ends, a clean return or fail()'s exit.
        context.call_on_close(runtime.close)
    check_database(runtime.engine)
    if require_schema and not schema.is_up_to_date(runtime.engine):
        fail("the database schema is missing or out of date. Run `partnermon init-db` first.")
    return runtime


def build_checked_app() -> Flask:
    """For ``wsgi.py``: an app whose database answers and is migrated, or one clear line and exit."""
    from partnermon.app import create_app

    try:
        runtime = open_runtime()
    except (ConfigError, DatabaseUnreachable) as exc:
        fail(str(exc))
    return create_app(runtime=runtime)


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Their INFO lines (every job run, every migration step) drown out what an operator needs to see.
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class OneLineUsage(click.Command):
    """A bad option is one line (``partnermon: …``), like every other mistake, not click's usage block."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message(), code=exc.exit_code)
