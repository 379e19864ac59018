"""Where partnermon's bundled files are, whether installed from a wheel or editable.

A wheel carries the top-level ``templates/`` inside the package (see pyproject.toml);
an editable install or a source checkout finds them beside the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    for candidate in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError(
        "partnermon cannot find its templates folder. Reinstall the package "
        "(pip install .) or run it from a source checkout."
    )


STATIC_DIR = PACKAGE_DIR / "static"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def methodology_path() -> Path:
    """docs/methodology.md: the scoring method in words, shown in the app and the monthly report's appendix."""
    for candidate in (PACKAGE_DIR / "docs", PACKAGE_DIR.parent / "docs"):
        if (candidate / "methodology.md").is_file():
            return candidate / "methodology.md"
    raise RuntimeError("partnermon cannot find docs/methodology.md. Reinstall the package (pip install .).")
