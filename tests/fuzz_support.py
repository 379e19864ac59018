"""What the web fuzz tests (tests/test_fuzz_web.py) share: hostile values, the database reset between
examples, and the one assertion every answer must pass.

Every example starts from the same database: the world of tests/test_access.py (the cast, a probe, a
maintenance window, feedback requests, follow-ups, an archived report) is copied once after it is built and
put back after each example, so an example that deletes a partner or signs Alice out cannot change what
the next one (or hypothesis replaying a failure) sees.
"""

from __future__ import annotations

import os
import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, select

from partnermon.models import Base
from tests.conftest import text_of

# Few examples per test in the suite, the same ones every run; PARTNERMON_FUZZ_EXAMPLES=500 (say) for a long
# run with fresh random ones. Tests that send one request to every route per example take an eighth as many.
EXAMPLES = int(os.environ.get("PARTNERMON_FUZZ_EXAMPLES", "") or 25)
_COMMON = dict(deadline=None, derandomize=not os.environ.get("PARTNERMON_FUZZ_EXAMPLES"),
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                      HealthCheck.data_too_large])
FUZZ = settings(max_examples=EXAMPLES, **_COMMON)
FUZZ_EVERY_ROUTE = settings(max_examples=max(3, EXAMPLES // 8), **_COMMON)

# Values that broke something once, or that a careless parser trips on (issue 16 and earlier fuzzing).
NASTY = [
    "", " ", "0", "-1", "1", "2147483647", "2147483648", "9223372036854775808", "9" * 5_000, "1e309", "nan",
    "inf", "²", "٣", "१२", "１２", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\ufeff", "\r\n", "\t",
    "http://[::1", "http://[::1]:99999/", "http://x:abc/", "https://", "javascript:alert(1)", "//evil.test",
    "9999-12", "0000-01", "2026-13", "2026-1", "٢٠٢٦-١١", "30d", "24:00", "25:61", "9999-12-31T23:59",
    "0001-01-01T00:00", "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "\\", "../../etc/passwd",
    "=cmd|' /C calc'!A0", "a" * 5_000, "true", "false", "null", "[]", "{}", "🙂", "é",
]

# Text as a browser can send it: anything but lone surrogates (they cannot be encoded as UTF-8).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
digits = st.integers(min_value=-(2**70), max_value=2**70).map(str)
hostile = st.one_of(st.sampled_from(NASTY), any_text, digits,
                    st.text(alphabet=string.digits + "-:T ,.", max_size=20))


class Reset:
    """Every row of every table as it was, put back on demand (ids included)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        with engine.connect() as conn:
            self.rows = {table: [dict(row._mapping) for row in conn.execute(select(table))]
                         for table in Base.metadata.sorted_tables}

    def __call__(self) -> None:
        tables = Base.metadata.sorted_tables
        with self.engine.begin() as conn:
            # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of every table costs a new file per table, about
            # half a second per example for a handful of rows.
            for table in reversed(tables):
                conn.execute(delete(table))
            for table in tables:
                if self.rows[table]:
                    conn.execute(insert(table), self.rows[table])


def assert_handled(response: Any, what: str) -> None:
    """No server error and no traceback; a refusal (4xx) says why, as a page, a field message or JSON."""
    body = response.get_data().decode("utf-8", "replace")   # a logo is binary
    assert response.status_code < 500, f"{what} answered {response.status_code}"
    assert "Traceback" not in body, f"{what} showed a traceback"
    if 400 <= response.status_code < 500:
        if response.mimetype == "application/json":
            assert response.get_json().get("error"), f"{what}: {response.status_code} without an error message"
        else:
            assert len(text_of(response)) > 20, f"{what}: {response.status_code} with no message"
        if response.status_code == 422 and response.mimetype == "text/html":
            assert 'role="alert"' in body or "field-error" in body, f"{what}: 422 without a field message"
