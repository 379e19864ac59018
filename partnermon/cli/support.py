"""What every ``partnermon`` command shares: one-line failures, opening the runtime, logging, signals.

``friendly_errors`` is the one place that turns what a person can fix (a bad option or setting, a database
that does not answer, a file that cannot be written) into one line and a non-zero exit; wsgi.py goes through
``build_checked_app`` so gunicorn stops rather than booting workers that cannot serve, forever.

Every command module imports this one, so it must stay light: SQLAlchemy, Alembic and the web app are
imported only where a command opens the database or builds the app, which keeps ``partnermon --help`` and
``partnermon probe`` quick to start (tests/test_cli_startup.py).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, NoReturn

import click

from partnermon.config import ConfigError
from partnermon.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from flask import Flask

    from partnermon.runtime import Runtime


# gunicorn's Arbiter.WORKER_BOOT_ERROR: a worker that exits with it makes the master stop with it, where any
# other exit code has the master boot another worker that fails again, about once a second, forever.
WORKER_BOOT_ERROR = 3


class SchemaBehind(RuntimeError):
    """The database answers but its schema is missing or older than this partnermon."""


def fail(message: str, code: int = 1) -> NoReturn:
    # One line whatever the message holds (a driver's error may span several).
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"partnermon: {line}", err=True)
    sys.exit(code)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors people cause into one line and an exit code, never a traceback."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from partnermon.db import (  # see the docstring
            DATABASE_ERRORS, DatabaseUnreachable, database_down_reason, is_database_down,
        )

        try:
            return command(*args, **kwargs)
        except (ConfigError, DatabaseUnreachable, SchemaBehind, NotFound) as exc:
            fail(str(exc))
        except ValidationError as exc:
            fail(exc.first_line())
        except DATABASE_ERRORS as exc:  # it answered at start, then went away (or timed out) during the command
            if not is_database_down(exc):
                raise
            fail(f"{database_down_reason(exc)}. Check that the database is running and try again.")

    return wrapped


def open_runtime(*, require_schema: bool = True) -> Runtime:
    from partnermon import schema
    from partnermon.db import check_database
    from partnermon.runtime import Runtime

    runtime = Runtime.from_settings()
    context = click.get_current_context(silent=True)
    if context is not None:
        # Runs however the command ends, a clean return or fail()'s exit.
        context.call_on_close(runtime.close)
    check_database(runtime.engine)
    if require_schema and not schema.is_up_to_date(runtime.engine):
        raise SchemaBehind("the database schema is missing or out of date. Run `partnermon init-db` first.")
    return runtime


@contextmanager
def output_file(option: str, path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file a command writes, opened, written and closed with any failure as one line naming the option:
    a missing folder, no permission, a name too long, a full disk. A file left half-written is removed (only
    one this opened: a file it could not open is never touched)."""
    target = Path(path)
    try:
        handle = open(target, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"}))
    except OSError as exc:
        fail(_cannot_write(option, target, exc))
    try:
        with handle:
            yield handle
    except OSError as exc:
        try:
            if target.is_file():
                target.unlink()
        except OSError:
            pass  # what was written stays; the line below says it failed
        fail(_cannot_write(option, target, exc))


def writable_target(option: str, path: str | Path) -> Path:
    """``path`` if its folder exists, else one line naming ``option``: checked before the seconds a PDF takes
    to make, so a mistyped folder is not found only at the end."""
    target = Path(path)
    try:
        folder_missing = not target.parent.is_dir()
    except OSError as exc:  # a name too long, say
        fail(f"{option}: cannot write {str(target)[:100]} ({exc.strerror}).")
    if folder_missing:
        fail(f"{option}: the folder {target.parent} does not exist.")
    return target


def _cannot_write(option: str, target: Path, exc: OSError) -> str:
    shown = str(target) if len(str(target)) <= 100 else str(target)[:100] + "…"
    return (f"{option}: cannot write {shown} ({exc.strerror or type(exc).__name__}). Check that its folder exists, "
            f"that you may write there and that the disk has room.")


def _runtime_for_serving() -> Runtime:
    """A runtime whose settings are usable, whose database answers and is migrated; or one line and the exit
    code that makes gunicorn stop (WORKER_BOOT_ERROR) instead of restarting workers forever."""
    from partnermon.db import DATABASE_ERRORS, DatabaseUnreachable, database_down_reason, is_database_down

    try:
        return open_runtime()
    except (ConfigError, DatabaseUnreachable, SchemaBehind) as exc:
        fail(str(exc), code=WORKER_BOOT_ERROR)
    except DATABASE_ERRORS as exc:
        if not is_database_down(exc):
            raise
        fail(f"{database_down_reason(exc)}. Check that the database is running.", code=WORKER_BOOT_ERROR)


def check_before_serving() -> None:
    """For gunicorn.conf.py: the checks once, in gunicorn's master before it listens or forks. Left to the
    workers, two failing at once make gunicorn (27) halt twice and print its own traceback."""
    _runtime_for_serving().close()


def build_checked_app() -> Flask:
    """For ``wsgi.py``: the app, built only once the checks pass (see _runtime_for_serving)."""
    from partnermon.app import create_app

    return create_app(runtime=_runtime_for_serving())


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Their INFO lines (every job run, every migration step, every step of laying out and subsetting a report's
    # PDF and its fonts) drown out what an operator needs to see.
    for chatty in ("apscheduler", "alembic", "weasyprint", "fontTools"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def refuse_unusable_text(args: list[str], code: int) -> None:
    """An argument holding bytes that are not UTF-8 (Python passes them on as lone surrogates), or a NUL (only a
    caller inside Python can pass one), is refused here, before a command stores it where it cannot be encoded
    (the database, an email) or opens it as a path, and fails there."""
    for arg in args:
        if "\x00" in arg or any(0xD800 <= ord(char) <= 0xDFFF for char in arg):
            shown = ascii(arg if len(arg) <= 60 else arg[:60] + "…")
            fail(f"the argument {shown} is not text partnermon can use (it holds a NUL or bytes that are not "
                 f"UTF-8); type it again in UTF-8.", code=code)


class OneLineUsage(click.Command):
    """A bad option is one line (``partnermon: …``), like every other mistake, not click's usage block."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_unusable_text(args, code=click.UsageError.exit_code)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message(), code=exc.exit_code)


class OneLineUsageGroup(click.Group):
    """``partnermon`` itself: an unknown command or option is one line too, and every command defined on it
    (``@main.command``) parses its options as OneLineUsage does."""

    command_class = OneLineUsage

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message(), code=exc.exit_code)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message(), code=exc.exit_code)
