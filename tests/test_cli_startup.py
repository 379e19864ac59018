"""``partnermon --help`` and ``partnermon probe`` start without loading what they do not use (issue 17).

WeasyPrint, the web app, SciPy and SQLAlchemy each take a good part of a second to import; a person typing
``partnermon --help`` or running one probe should not wait for them. Each case runs the command in a fresh
interpreter, as a person would, and lists the modules it loaded. A test of behaviour, not of timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Loaded only by the commands that need them: the report, the web server, scores, the database.
HEAVY = ("weasyprint", "flask", "partnermon.app", "partnermon.web", "scipy", "pygal", "sqlalchemy", "alembic")

LOADED_AFTER = """
import json, sys
from partnermon.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded_by(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", LOADED_AFTER, *args], capture_output=True, text=True, timeout=60)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("--help",), ("probe", "--help"), ("export", "--help"), ("report", "--help"), ("scorecard", "--help"),
                                  ("closure", "--help"), ("closure", "add", "--help"),
                                  ("probe", "http://127.0.0.1:9/", "--check", "[STATUS] =="),  # refused: bad check
                                  ])
def test_the_command_loads_none_of_the_heavy_libraries(args: tuple[str, ...]) -> None:
    loaded = _modules_loaded_by(*args)
    assert [name for name in HEAVY if name in loaded] == []


def test_a_probe_run_loads_no_database_or_web_code() -> None:
    # Port 9 (discard) on loopback refuses at once: the probe runs to the end and reports "down".
    loaded = _modules_loaded_by("probe", "http://127.0.0.1:9/", "--allow-private", "--timeout", "2")
    assert "probes" in loaded
    assert [name for name in HEAVY if name in loaded] == []


def test_the_demo_commands_defaults_are_the_demo_modules() -> None:
    from partnermon import demo
    from partnermon.cli import demo as cli_demo

    assert (cli_demo.DEFAULT_SLUG, cli_demo.MAX_MONTHS) == (demo.DEFAULT_SLUG, demo.MAX_MONTHS)
