"""The README's two set-up commands are what CI runs; this keeps them from drifting apart."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_installs_and_tests_exactly_as_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/pytest' in readme
    assert "python3 -m venv .venv" in ci and '.venv/bin/pip install --quiet -e ".[test]"' in ci
    assert ci.count(".venv/bin/pytest\n") == 2
    assert "PARTNERMON_TEST_DATABASE_URL=" in ci
