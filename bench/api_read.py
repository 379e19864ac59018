"""Benchmark: reading 10,000 feedback responses through the paginated read API (pages of 500, in process
through the WSGI app, key check, rate limit and JSON included) against the CSV export of the same rows
(feedback.exports.response_rows written by partnermon.exports.write_csv), in the same run.

    python bench/api_read.py [--responses 10000] [--page 500] [--rounds 5] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary folder. The two readings alternate round by
round, so a busy moment on a shared machine falls on both alike. Prints one JSON object: the median seconds
of each, the ratio API ÷ CSV and the rows each read (which must agree).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from partnermon import config, exports, schema  # noqa: E402
from partnermon.app import create_app  # noqa: E402
from partnermon.config import Settings  # noqa: E402
from partnermon.db import make_engine, make_session_factory  # noqa: E402
from partnermon.feedback import api_keys, exports as feedback_exports, staff  # noqa: E402
from partnermon.models import FeedbackResponse  # noqa: E402
from partnermon.partners.service import create_partner  # noqa: E402
from partnermon.practices.service import create_practice  # noqa: E402
from partnermon.accounts.service import create_user  # noqa: E402
from partnermon.runtime import Runtime  # noqa: E402


def seed(session_factory, now: datetime, n: int) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        practice = create_practice(session, now, slug="bench-api", name="Bench API")
        owner = create_user(session, now, practice, email="owner@bench.test", role="owner", password=None)
        partner = create_partner(session, now, practice.id, owner, {"name": "Bench partner", "category": "insurer"})
        session.flush()
        rows = [{"practice_id": practice.id, "partner_id": partner.id, "satisfaction": 1 + i % 5,
                 "recommend": i % 11, "comment": f"Answer {i}", "verified": False, "client_name": f"Client {i}",
                 "client_email": f"client{i}@bench.test", "created_at": now - timedelta(minutes=i),
                 "updated_at": now - timedelta(minutes=i), "wants_contact": False, "contact_phone": ""}
                for i in range(n)]
        for start in range(0, n, 2000):
            session.execute(insert(FeedbackResponse), rows[start:start + 2000])
        key = api_keys.create_key(session, now, practice, owner, "bench", ["read"]).plaintext
        session.commit()
        return practice.id, key


def read_api(client, key: str, page: int) -> int:  # type: ignore[no-untyped-def]
    rows, cursor = 0, None
    while True:
        params = {"limit": page, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/feedback-responses", query_string=params,
                            headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        body = json.loads(answer.get_data())
        rows += len(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def read_csv(session_factory, practice_id: int) -> int:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    with session_factory() as session:
        return exports.write_csv(feedback_exports.response_rows(session, staff.response_conditions(practice_id)),
                                 feedback_exports.RESPONSE_FIELDS, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    # The same reading of a URL as PARTNERMON_DATABASE_URL (plain postgresql:// gets the psycopg 3 driver).
    url = config.database_url({"PARTNERMON_DATABASE_URL": args.database_url}, folder) if args.database_url \
        else f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    session_factory = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    practice_id, key = seed(session_factory, now, args.responses)
    settings = Settings(instance_dir=folder, database_url=url, secret_key="bench", base_url="http://bench.test")
    app = create_app(runtime=Runtime(settings, engine, session_factory))
    app.config["PARTNERMON_API_RATE_LIMIT"] = 1_000_000
    client = app.test_client()
    read_api(client, key, args.page), read_csv(session_factory, practice_id)   # warm both up once
    api_times, csv_times, api_rows, csv_rows = [], [], 0, 0
    for round_ in range(args.rounds):
        for which in (("api", "csv") if round_ % 2 == 0 else ("csv", "api")):
            started = time.perf_counter()
            if which == "api":
                api_rows = read_api(client, key, args.page)
                api_times.append(time.perf_counter() - started)
            else:
                csv_rows = read_csv(session_factory, practice_id)
                csv_times.append(time.perf_counter() - started)
    api_s, csv_s = statistics.median(api_times), statistics.median(csv_times)
    print(json.dumps({"benchmark": "api_read", "database": engine.url.get_backend_name(),
                      "responses": args.responses, "page": args.page, "rounds": args.rounds,
                      "api_rows": api_rows, "csv_rows": csv_rows, "api_seconds": round(api_s, 4),
                      "csv_seconds": round(csv_s, 4), "ratio_api_to_csv": round(api_s / csv_s, 2)}))
    if api_rows != csv_rows:
        raise SystemExit("bench: the API and the CSV read different numbers of rows")


if __name__ == "__main__":
    main()
