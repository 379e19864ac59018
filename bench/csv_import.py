"""CSV import of feedback requests: preview and confirmation of a 10,000-row file (see bench/README.md).

    .venv/bin/python bench/csv_import.py [--rows 10000] [--repeat 3] [--backends postgresql sqlite]
        [--database-url URL] [--code DIR] [--web] [--profile DIR]

For each database: a practice at a realistic size (40 partners, 300 touchpoints, 8 advisers, 20,000 earlier
requests), and a file of ``--rows`` rows with the mistakes real files have (about 7 % bad rows of every kind,
and rows imported before). Then, ``--repeat`` times:

1. **preview**: ``imports.preview`` on the file in a fresh session (what the upload page runs);
2. **confirm**: ``imports.import_rows`` (good rows only) and the commit, in a fresh session;
3. **baseline**: the rows the confirmation wrote (``feedback_request`` and ``outbox``, read back beforehand and
   given fresh unique keys, in a twin practice) inserted again by two ORM bulk inserts
   (``session.execute(insert(Model), rows)``) and a commit: what writing those rows costs at the least.

Between repeats the imported rows are deleted again. The target (issue 16): preview and confirm each within
5 × the baseline. ``--web`` also posts the file to the upload page through the Flask app in this process (page
time and size). Prints one JSON document on stdout; progress on stderr. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_RATIO = 5.0
SLUG, TWIN_SLUG = "bench-csv", "bench-csv-twin"
PASSWORD = "bench-csv-password-1"

from _bench_db import BenchDatabase  # noqa: E402
from _readings import cpu_model, log, utcnow  # noqa: E402


# --- the practice and the file ----------------------------------------------------------------------------

def seed(engine: Any, now: Any, *, partners: int, touchpoints: int, advisers: int, history: int) -> dict[str, Any]:
    """Two practices (the bench's and its twin for the baseline), partners, touchpoints, advisers, and earlier
    requests (bulk-inserted: they are the table the import's checks search, not what is measured)."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from partnermon import schema
    from partnermon.accounts import service as accounts
    from partnermon.models import FeedbackRequest, MomentOfTruth, Partner, Practice
    from partnermon.partners import service as partner_service
    from partnermon.practices import service as practices

    from _bench_db import refuse_other_practices

    schema.upgrade(engine)
    rng = random.Random(16)
    with Session(engine, expire_on_commit=False) as session:
        refuse_other_practices(session, SLUG)
        if session.scalar(select(Practice).where(Practice.slug == SLUG)) is not None:
            raise SystemExit("bench: the database already holds the bench's practice; give it a fresh database")
        practice = practices.create_practice(session, now, slug=SLUG, name="Bench Advice", timezone="Europe/London")
        twin = Practice(slug=TWIN_SLUG, name="Bench twin", timezone="Europe/London", created_at=now)
        session.add(twin)
        owner = accounts.create_user(session, now, practice, email="owner@bench.example", role="owner",
                                     password=PASSWORD)
        adviser_emails = []
        for i in range(advisers):
            email = f"adviser{i}@bench.example"
            accounts.create_user(session, now, practice, email=email, role="adviser", password=PASSWORD)
            adviser_emails.append(email)
        moments = session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == practice.id)).all()
        made: list[tuple[str, list[str]]] = []
        partner_rows: list[Partner] = []
        for i in range(partners):
            partner_rows.append(partner_service.create_partner(
                session, now, practice.id, "bench", {"name": f"Partner {i:02d} Ltd", "category": "insurer"}))
            made.append((partner_rows[-1].name, []))
        for i in range(touchpoints):
            name = f"Touchpoint {i:03d}"
            partner_service.create_touchpoint(session, now, partner_rows[i % partners], "bench",
                                              {"name": name, "moment": rng.choice(moments).key, "url": ""})
            made[i % partners][1].append(name)
        session.flush()
        partner_ids = [p.id for p in partner_rows]
        session.execute(insert(FeedbackRequest), [
            {"practice_id": practice.id, "partner_id": rng.choice(partner_ids), "client_name": f"Earlier {i}",
             "client_email": f"earlier{i}@client.example", "external_ref": f"OLD-{i}",
             "token_hash": hashlib.sha256(f"earlier-{i}".encode()).hexdigest(), "status": "answered",
             "source": "form", "created_at": now - timedelta(days=rng.randint(31, 700)),
             "expires_at": now - timedelta(days=10), "throttle_overridden": False}
            for i in range(history)])
        session.commit()
        return {"practice_id": practice.id, "twin_id": twin.id, "owner_id": owner.id,
                "partners": [(name, tps) for name, tps in made], "moments": [(m.key, m.name) for m in moments],
                "advisers": adviser_emails}


def recent_clients(engine: Any, now: Any, fx: dict[str, Any], emails: list[str]) -> None:
    """Clients of the file asked ten days ago (the throttle holds their rows back)."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from partnermon.models import FeedbackRequest

    partner_id = _first_partner_id(engine, fx)
    with Session(engine) as session:
        session.execute(insert(FeedbackRequest), [
            {"practice_id": fx["practice_id"], "partner_id": partner_id, "client_name": "", "client_email": email,
             "external_ref": None, "token_hash": hashlib.sha256(f"recent-{email}".encode()).hexdigest(),
             "status": "sent", "source": "form", "created_at": now - timedelta(days=10),
             "expires_at": now + timedelta(days=4), "throttle_overridden": False} for email in emails])
        session.commit()


def _first_partner_id(engine: Any, fx: dict[str, Any]) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from partnermon.models import Partner

    with Session(engine) as session:
        return int(session.scalar(select(func.min(Partner.id)).where(Partner.practice_id == fx["practice_id"])))


def make_file(fx: dict[str, Any], rows: int) -> tuple[str, list[str], dict[str, int]]:
    """The CSV text, the emails of clients to mark as asked recently, and how many bad rows of each kind."""
    import csv
    import io

    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["client_name", "client_email", "partner", "touchpoint", "adviser_email", "external_ref"])
    recent: list[str] = []
    kinds: dict[str, int] = {}
    first_names = ["Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kim", "Lars", "Mei", "Noor", "Olu", "Pia"]
    for i in range(rows):
        name, tps = rng.choice(fx["partners"])
        partner = name if rng.random() < 0.8 else name.upper()
        roll = rng.random()
        about = (rng.choice(tps) if roll < 0.45 else rng.choice(fx["moments"])[rng.random() < 0.5]
                 if roll < 0.75 else "")
        adviser = rng.choice(fx["advisers"]) if rng.random() < 0.6 else ""
        ref = f"CRM-{100000 + i}" if rng.random() < 0.7 else ""
        email = f"client{i}@client.example"
        client = f"{rng.choice(first_names)} Client-{i}"
        bad = rng.random()
        kind = None
        if bad < 0.01:
            email, kind = f"client{i}.client.example", "bad_email"
        elif bad < 0.02:
            partner, kind = f"Nobody {i} Ltd", "unknown_partner"
        elif bad < 0.03:
            about, kind = f"Nowhere {i}", "unknown_touchpoint"
        elif bad < 0.035:
            adviser, kind = f"nobody{i}@bench.example", "unknown_adviser"
        elif bad < 0.045 and i > 10:
            ref, kind = f"CRM-{100000 + rng.randrange(i)}", "external_ref_twice_in_file"
        elif bad < 0.055 and i > 10:
            email, kind = f"client{rng.randrange(i)}@client.example", "client_twice_in_file"
        elif bad < 0.07:
            recent.append(email)
            kind = "client_asked_recently"
        elif bad < 0.08:
            ref, kind = f"OLD-{rng.randrange(1000)}", "imported_before"
        if kind:
            kinds[kind] = kinds.get(kind, 0) + 1
        writer.writerow([client, email, partner, about, adviser, ref])
    return out.getvalue(), recent, kinds


# --- the measurements -----------------------------------------------------------------------------------

def timed(fn: Any, profile: cProfile.Profile | None = None) -> tuple[float, Any]:
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    try:
        result = fn()
    finally:
        if profile is not None:
            profile.disable()
    return time.perf_counter() - start, result


def written_rows(session: Any, practice_id: int, since_id: int, twin_id: int, tag: str
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests and outbox rows an import wrote, as column values for the twin practice, with fresh keys."""
    from sqlalchemy import select

    from partnermon.models import FeedbackRequest, OutboxEmail

    def values(obj: Any) -> dict[str, Any]:
        return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key != "id"}

    requests, emails = [], []
    for request in session.scalars(select(FeedbackRequest).where(FeedbackRequest.practice_id == practice_id,
                                                                  FeedbackRequest.id > since_id)):
        row = values(request) | {"practice_id": twin_id}
        row["token_hash"] = hashlib.sha256(f"{tag}-{row['token_hash']}".encode()).hexdigest()
        requests.append(row)
    for email in session.scalars(select(OutboxEmail).where(OutboxEmail.practice_id == practice_id)):
        row = values(email) | {"practice_id": twin_id}
        row["dedupe_key"] = f"{tag}-{row['dedupe_key']}"[:200]
        emails.append(row)
    return requests, emails


def clean_up(engine: Any, fx: dict[str, Any], since_id: int) -> None:
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from partnermon.models import AuditEvent, FeedbackRequest, OutboxEmail

    with Session(engine) as session:
        for practice_id in (fx["practice_id"], fx["twin_id"]):
            session.execute(delete(OutboxEmail).where(OutboxEmail.practice_id == practice_id))
            session.execute(delete(FeedbackRequest).where(FeedbackRequest.practice_id == practice_id,
                                                          FeedbackRequest.id > since_id))
        session.execute(delete(AuditEvent).where(AuditEvent.practice_id == fx["practice_id"],
                                                 AuditEvent.action.in_(("feedback.requested", "feedback.imported"))))
        session.commit()


def one_repeat(engine: Any, fx: dict[str, Any], text: str, now: Any, index: int, profile_dir: Path | None
               ) -> dict[str, Any]:
    from sqlalchemy import func, insert, select
    from sqlalchemy.orm import Session

    from partnermon.feedback import imports
    from partnermon.models import FeedbackRequest, OutboxEmail, Practice, User

    with Session(engine) as session:
        since_id = int(session.scalar(select(func.max(FeedbackRequest.id))) or 0)
    profiles = {name: cProfile.Profile() for name in ("preview", "confirm", "baseline")} if profile_dir else {}

    with Session(engine) as session:
        practice = session.get(Practice, fx["practice_id"])
        preview_s, preview = timed(lambda: imports.preview(session, now, practice, text), profiles.get("preview"))
        session.rollback()
    with Session(engine) as session:
        practice, owner = session.get(Practice, fx["practice_id"]), session.get(User, fx["owner_id"])

        def confirm() -> Any:
            summary = imports.import_rows(session, now, practice, text, actor=owner, base_url="http://bench.example",
                                          mode="good-only")
            session.commit()
            return summary
        confirm_s, summary = timed(confirm, profiles.get("confirm"))
    with Session(engine) as session:
        requests, emails = written_rows(session, fx["practice_id"], since_id, fx["twin_id"], f"r{index}")

    def baseline() -> None:
        with Session(engine) as session:
            # render_nulls: rows with and without a touchpoint (say) share one statement, not one per run of like rows.
            session.execute(insert(FeedbackRequest).execution_options(render_nulls=True), requests)
            session.execute(insert(OutboxEmail).execution_options(render_nulls=True), emails)
            session.commit()
    baseline_s, _ = timed(baseline, profiles.get("baseline"))
    clean_up(engine, fx, since_id)
    for name, profile in profiles.items():
        assert profile_dir is not None
        profile.dump_stats(str(profile_dir / f"{engine.dialect.name}-{name}-{index}.pstats"))
    counts = {"ready": len(preview.ready), "problems": len(preview.problems), "existing": len(preview.existing),
              "created": len(summary.created), "skipped": len(summary.skipped),
              "imported_before": len(summary.existing), "requests_written": len(requests),
              "outbox_rows_written": len(emails)}
    ok = counts["created"] == counts["ready"] == counts["requests_written"] == counts["outbox_rows_written"]
    log(f"  repeat {index}: preview {preview_s:.2f} s, confirm {confirm_s:.2f} s, baseline {baseline_s:.3f} s "
        f"({counts['created']:,} created, {counts['problems']:,} problems){'' if ok else ' COUNTS DIFFER'}")
    return {"preview_s": preview_s, "confirm_s": confirm_s, "baseline_s": baseline_s, "counts": counts,
            "counts_agree": ok}


def web_preview(engine: Any, url: str, text: str) -> dict[str, Any]:
    """The upload page through the whole Flask app in this process: sign in, post the file, time the answer."""
    import io
    import re
    from uuid import uuid4

    from partnermon.app import create_app
    from partnermon.config import Settings
    from partnermon.db import make_session_factory
    from partnermon.runtime import Runtime

    instance = Path(tempfile.mkdtemp(prefix="partnermon-csv-bench-"))
    try:
        settings = Settings(instance_dir=instance, database_url=url, secret_key=uuid4().hex,
                            base_url="http://bench.example")
        app = create_app(runtime=Runtime(settings, engine, make_session_factory(engine)))
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["csrf"] = token = uuid4().hex
        signed_in = client.post("/sign-in", data={"email": "owner@bench.example", "password": PASSWORD,
                                                  "csrf_token": token})
        if signed_in.status_code != 302:
            return {"error": f"sign-in answered {signed_in.status_code}"}
        with client.session_transaction() as sess:
            token = sess["csrf"]   # signing in starts a new session, with a new token
        data = text.encode("utf-8")
        seconds, response = timed(lambda: client.post(
            "/feedback/import", data={"csrf_token": token, "file": (io.BytesIO(data), "requests.csv")},
            content_type="multipart/form-data"))
        html = response.get_data(as_text=True)
        return {"status": response.status_code, "seconds": round(seconds, 3), "page_bytes": len(html.encode()),
                "table_rows": len(re.findall(r"<tr>", html)) - html.count("<thead><tr>")}
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def run_backend(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    from partnermon.db import make_engine

    from partnermon.feedback import imports

    url = args.database_url
    sqlite_dir = None
    if url is None and backend == "sqlite":
        sqlite_dir = Path(tempfile.mkdtemp(prefix="partnermon-csv-bench-"))
        url = f"sqlite:///{sqlite_dir / 'bench.db'}"
    db = BenchDatabase(url)
    log(f"{backend}: {db.url}")
    try:
        engine = make_engine(db.url)
        now = utcnow()
        started = time.perf_counter()
        fx = seed(engine, now, partners=args.partners, touchpoints=args.touchpoints, advisers=args.advisers,
                  history=args.history)
        text, recent, kinds = make_file(fx, args.rows)
        recent_clients(engine, now, fx, recent)
        log(f"  seeded in {time.perf_counter() - started:.1f} s; the file: {args.rows:,} rows, {len(text):,} bytes")
        # Older code capped a file at 1,000 rows: lifted here so the same file measures it (reported below).
        lifted = {"max_rows": imports.MAX_ROWS, "max_bytes": imports.MAX_BYTES}
        imports.MAX_ROWS, imports.MAX_BYTES = max(imports.MAX_ROWS, args.rows), max(imports.MAX_BYTES, len(text) * 2)
        profile_dir = Path(args.profile) if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        repeats = [one_repeat(engine, fx, text, now, i, profile_dir) for i in range(args.repeat)]
        out: dict[str, Any] = {"database": engine.dialect.name, "file": {"rows": args.rows, "bytes": len(text),
                                                                        "planted_mistakes": kinds},
                               "limits_before_lifting": lifted}
        for key in ("preview_s", "confirm_s", "baseline_s"):
            out[key] = round(statistics.median(r[key] for r in repeats), 3)
        base = out["baseline_s"]
        out["ratio_preview"] = round(out["preview_s"] / base, 2)
        out["ratio_confirm"] = round(out["confirm_s"] / base, 2)
        out["meets_target"] = out["ratio_preview"] <= TARGET_RATIO and out["ratio_confirm"] <= TARGET_RATIO
        out["counts"] = repeats[0]["counts"]
        out["counts_agree"] = all(r["counts_agree"] for r in repeats)
        out["repeats"] = [{k: round(v, 3) for k, v in r.items() if k.endswith("_s")} for r in repeats]
        if args.web:
            log("  the upload page through the Flask app")
            imports.MAX_ROWS, imports.MAX_BYTES = lifted["max_rows"], lifted["max_bytes"]
            out["web_preview"] = web_preview(engine, db.url, text)
        engine.dispose()
        return out
    finally:
        db.drop()
        if sqlite_dir:
            shutil.rmtree(sqlite_dir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="CSV import: preview and confirm against a bulk insert (JSON).")
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the file (default 10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="preview + confirm + baseline this many times (default 3)")
    parser.add_argument("--backends", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    parser.add_argument("--database-url", help="a scratch database for a single backend (default: a fresh "
                                               "PostgreSQL database or SQLite file, removed afterwards)")
    parser.add_argument("--partners", type=int, default=40)
    parser.add_argument("--touchpoints", type=int, default=300)
    parser.add_argument("--advisers", type=int, default=8)
    parser.add_argument("--history", type=int, default=20_000, help="earlier requests in the practice (default 20,000)")
    parser.add_argument("--code", metavar="DIR", help="import partnermon from DIR (a copy holding partnermon/ and "
                                                      "templates/) to measure other code with the same bench")
    parser.add_argument("--web", action="store_true", help="also time the upload page (Flask, in-process)")
    parser.add_argument("--profile", metavar="DIR", help="write cProfile stats of each preview and confirm here")
    args = parser.parse_args(argv)
    if args.database_url and len(args.backends) != 1:
        parser.error("--database-url measures one backend: give --backends too")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(args.code).resolve()) if args.code else str(ROOT))
    import partnermon

    started = time.monotonic()
    report: dict[str, Any] = {
        "benchmark": "csv_import", "started_at": utcnow().isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "cpu_model": cpu_model()},
        "code": str(Path(partnermon.__file__).resolve().parent),
        "parameters": {k: v for k, v in vars(args).items() if k not in ("profile",)},
        "target": f"preview and confirm each within {TARGET_RATIO:g} × the baseline bulk insert",
        "results": [run_backend(args, backend) for backend in args.backends],
    }
    report["meets_target"] = all(r["meets_target"] for r in report["results"])
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
