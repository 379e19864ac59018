"""Per-key rate limits for the API: a fixed window per key, counted on the key's own row in the database.

Counting in the database (one conditional UPDATE … RETURNING per call, atomic on SQLite and PostgreSQL) means
every gunicorn worker and every machine sees the same count for a key. A fixed window lets a caller send up to
twice the limit across a window boundary; that is the usual trade for one row and one statement per call.
The answer carries the IETF draft's headers (RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset) and, when
refused, Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from partnermon.models import ApiKey

DEFAULT_LIMIT = 600                 # calls per key per window
WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Allowance:
    limit: int
    used: int              # calls in this window, this one included
    reset_seconds: int     # until the window ends

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        found = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                 "RateLimit-Reset": str(self.reset_seconds)}
        if not self.allowed:
            found["Retry-After"] = str(self.reset_seconds)
        return found


def window_start(now: datetime) -> datetime:
    seconds = WINDOW.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, tz=now.tzinfo)


def count_call(session: Session, now: datetime, key_id: int, limit: int = DEFAULT_LIMIT) -> Allowance:
    """Count one call of the key in the current window; the caller commits (refused calls count too, so a
    client that ignores 429 stays refused until the window ends)."""
    start = window_start(now)
    used = session.execute(
        update(ApiKey).where(ApiKey.id == key_id)
        .values(rate_window_count=case((ApiKey.rate_window_start == start, ApiKey.rate_window_count + 1), else_=1),
                rate_window_start=start)
        .returning(ApiKey.rate_window_count)
        .execution_options(synchronize_session=False)).scalar_one()
    reset = max(1, math.ceil((start + WINDOW - now).total_seconds()))
    return Allowance(limit, used, reset)
