"""Themes in comments (issue 20): planted topics recovered from a fixed synthetic corpus, deterministically; stored
runs, the daily job, "Find themes now", an empty practice, redacted examples, and adding a candidate as a moment.

The score: on tests/theme_corpus.py (3 planted topics × 20 comments, 10 comments of noise), the comments of the
planted topics are grouped with an adjusted Rand index of at least 0.8 against the planted labels (it is 0.95), and each
planted topic has a theme whose top five words are at least four of its own words.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sklearn.metrics import adjusted_rand_score

from partnermon import jobs
from partnermon.feedback import themes
from partnermon.models import AuditEvent, FeedbackRequest, MomentOfTruth, ThemeRun
from tests.conftest import NOW, sessions_waiting_on_a_lock, text_of
from tests.scoring_fixtures import respond
from tests.theme_corpus import TOPICS, planted

MOMENT_IDS = {"opening": 1, "service": 2, "claim": 3, "renewal": 4, None: None}


def _comments() -> list[themes.Comment]:
    return [themes.Comment(text, "Acme Insurance", MOMENT_IDS[key], key or themes.NO_MOMENT, ())
            for text, key, _topic in planted()]


def test_the_planted_topics_are_recovered() -> None:
    comments = _comments()
    truth = [topic for _t, _m, topic in planted()]
    fitted = themes.fit([c.text for c in comments], themes.stop_words_for("Harbour Advice", ["Acme Insurance"], comments))
    assert fitted is not None and fitted.k == 3
    planted_only = [i for i, topic in enumerate(truth) if topic != "noise"]
    score = adjusted_rand_score([truth[i] for i in planted_only], [fitted.labels[i] for i in planted_only])
    assert score >= 0.8, f"adjusted Rand index {score:.3f}"
    found = themes.find_themes(comments, [], themes.stop_words_for("Harbour Advice", ["Acme Insurance"], comments))
    assert len(found) == 3
    for topic, spec in TOPICS.items():
        assert any(len(set(t.words[:5]) & set(spec["words"])) >= 4 for t in found), topic  # type: ignore[arg-type]


def test_the_theme_across_moments_is_the_one_candidate() -> None:
    comments = _comments()
    found = themes.find_themes(comments, [], themes.stop_words_for("Harbour Advice", ["Acme Insurance"], comments))
    candidates = [t for t in found if t.candidate]
    assert len(candidates) == 1
    assert "hold" in candidates[0].words[:5]
    assert {name for name, _n in candidates[0].moments} >= {"opening", "service", "claim"}


def test_themes_are_the_same_on_every_run() -> None:
    comments = _comments()
    stop = themes.stop_words_for("Harbour Advice", ["Acme Insurance"], comments)
    first = [t.as_json() for t in themes.find_themes(comments, [], stop)]
    second = [t.as_json() for t in themes.find_themes(list(comments), [], set(stop))]
    assert first == second


def test_too_few_words_in_common_finds_no_themes() -> None:
    # 40 comments, each one word that no other comment uses.
    words = [a + b + c for a in "bdfg" for b in "aeiou" for c in "kmnp"][:40]
    comments = [themes.Comment(f"{word}!", "Acme", None, themes.NO_MOMENT, ()) for word in words]
    assert themes.find_themes(comments, [], themes.stop_words_for("Harbour", ["Acme"], comments)) == []


# --- in the database --------------------------------------------------------------------------------------------

def _write_corpus(session, cast, *, at=NOW - timedelta(days=10), client=("Dana Whitlock", "dana@client.test")):  # type: ignore[no-untyped-def]
    """The planted corpus as verified responses at Acme, each through a personal link of the given client."""
    for i, (text, key, _topic) in enumerate(planted()):
        request = FeedbackRequest(practice_id=cast.harbour.id, partner_id=cast.acme.id, client_name=client[0],
                                  client_email=client[1], token_hash=f"{i:064d}", status="answered",
                                  created_at=at, expires_at=at + timedelta(days=30))
        session.add(request)
        session.flush()
        response = respond(session, cast.acme, at + timedelta(minutes=i), key, satisfaction=2)
        response.request_id, response.comment = request.id, text
    session.commit()


def test_a_practice_with_no_comments_gets_a_clear_message_and_keeps_its_themes(session, cast, browser) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.post("/themes/find", follow_redirects=True)
    assert "Themes appear once there are about 30 comments (you have 0). Nothing was changed." in text_of(response)
    assert session.scalar(select(func.count()).select_from(ThemeRun)) == 0
    # A practice with themes found earlier keeps them when a run finds too few comments.
    earlier = ThemeRun(practice_id=cast.harbour.id, created_at=NOW - timedelta(days=200), period_start=NOW - timedelta(days=290),
                       period_end=NOW - timedelta(days=200), comments=40, previous_comments=0, trigger="schedule",
                       themes=[{"number": 1, "words": ["hold", "phone"], "count": 40, "share": 1.0, "examples": [],
                                "partners": [["Acme Insurance", 40]], "moments": [["Claims and hardship", 40]],
                                "previous": 0, "previous_total": 0, "trend": "40 of 40 comments (100 %)",
                                "how_we_know": "", "candidate": False, "candidate_reason": "", "added_moment_id": None,
                                "moment_ids": []}])
    session.add(earlier)
    session.commit()
    with pytest.raises(themes.TooFewComments):
        themes.run_themes(session, NOW, cast.harbour, "schedule")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ThemeRun)) == 1
    page = text_of(browser.get("/themes/"))
    assert "Themes appear once there are about 30 comments (you have 0). The themes below were found earlier." in page
    assert "1. hold, phone" in page


def test_find_themes_now_stores_a_run_and_the_page_shows_it_redacted(session, cast, browser, app) -> None:  # type: ignore[no-untyped-def]
    _write_corpus(session, cast)
    # A comment that names the client, their email and a phone number, in the hold topic.
    response = respond(session, cast.acme, NOW - timedelta(days=1), "claim", satisfaction=1)
    request = FeedbackRequest(practice_id=cast.harbour.id, partner_id=cast.acme.id, client_name="Dana Whitlock",
                              client_email="dana@client.test", token_hash="f" * 64, status="answered",
                              created_at=NOW, expires_at=NOW + timedelta(days=30))
    session.add(request)
    session.flush()
    response.request_id = request.id
    # Every word of the hold topic, so it weighs most on that theme and is one of its examples.
    response.comment = ("Whitlock here: on hold, hold, hold in the phone queue, waiting minutes, waiting, line never "
                        "answered, call me on 07700 900123 or dana@client.test, or my son sam@family.test")
    session.commit()
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    page = text_of(browser.sign_in("alice@harbour.test").post("/themes/find", follow_redirects=True))
    assert "Found 3 themes in 71 comments." in page
    run = session.scalars(select(ThemeRun)).one()
    assert run.trigger == "alice@harbour.test" and run.comments == 71 and len(run.themes) == 3
    assert "Whitlock" not in page and "dana@client.test" not in page and "07700" not in page
    for theme in run.themes:
        assert all("dana" not in w and "whitlock" not in w and "acme" not in w for w in theme["words"])
        for example in theme["examples"]:
            assert "Whitlock" not in example["text"] and "07700" not in example["text"]
            assert "dana@client.test" not in example["text"]
    assert any("[name removed]" in e["text"] and "[phone removed]" in e["text"] and "[email removed]" in e["text"]
               for t in run.themes for e in t["examples"])
    assert "Add as a moment" in page and "candidate moment" in page


def test_the_trend_compares_the_period_before(session, cast) -> None:  # type: ignore[no-untyped-def]
    _write_corpus(session, cast)
    # The period before: 10 comments, 2 of them about the login portal, 8 with no word the model kept.
    before = NOW - timedelta(days=themes.PERIOD_DAYS + 5)
    quiet = ["Thanks.", "Fine overall.", "Okay I suppose.", "Nothing more to say.", "Cheers for asking.", "As expected.",
             "Not sure.", "Thanks again."]
    for i, text in enumerate(["Password reset on the portal login failed, account locked."] * 2 + quiet):
        respond(session, cast.acme, before + timedelta(minutes=i), "service", satisfaction=2).comment = text
    session.commit()
    run = themes.run_themes(session, NOW, cast.harbour, "schedule")
    assert run.previous_comments == 10
    login = next(t for t in themes.themes_of(run) if "password" in t.words)
    assert login.previous == 2 and login.previous_total == 10
    assert "of 70 comments" in login.trend and "against 2 of 10 (20 %) in the period before" in login.trend


def test_the_daily_job_runs_once_a_day_for_practices_with_enough_comments(session, cast, runtime) -> None:  # type: ignore[no-untyped-def]
    _write_corpus(session, cast)
    assert jobs.find_themes(runtime, NOW) == 1          # Harbour; Quay has no comments
    assert jobs.find_themes(runtime, NOW + timedelta(hours=2)) == 0
    assert jobs.find_themes(runtime, NOW + timedelta(hours=21)) == 1
    assert session.scalar(select(func.count()).select_from(ThemeRun)) == 2


def test_adding_a_candidate_theme_makes_a_moment_once(session, cast, browser, app) -> None:  # type: ignore[no-untyped-def]
    _write_corpus(session, cast)
    run = themes.run_themes(session, NOW, cast.harbour, "schedule")
    session.commit()
    candidate = next(t for t in themes.themes_of(run) if t.candidate)
    other = next(t for t in themes.themes_of(run) if not t.candidate)
    browser.sign_in("alice@harbour.test")
    refused = browser.post(f"/themes/{run.id}/{other.number}/moment", follow_redirects=True)
    assert "sits inside one moment already" in text_of(refused)
    page = text_of(browser.post(f"/themes/{run.id}/{candidate.number}/moment", follow_redirects=True))
    assert f"Added the moment of truth Clients on {candidate.label}." in page
    session.expire_all()
    added = session.scalars(select(MomentOfTruth).where(MomentOfTruth.name == f"Clients on {candidate.label}")).one()
    assert added.practice_id == cast.harbour.id and added.examples == ", ".join(candidate.words)
    assert added.stake == "medium" and not added.retired
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "moment.created",
                                                    AuditEvent.object_id == added.id)).one().user_id == cast.alice.id
    again = browser.post(f"/themes/{run.id}/{candidate.number}/moment", follow_redirects=True)
    assert "was added as a moment already" in text_of(again)
    assert session.scalar(select(func.count()).select_from(MomentOfTruth).where(MomentOfTruth.name == added.name)) == 1
    assert browser.post(f"/themes/{run.id}/99/moment").status_code == 404


def test_another_practices_owner_cannot_add_a_theme_as_a_moment(session, cast, browser) -> None:  # type: ignore[no-untyped-def]
    _write_corpus(session, cast)
    run = themes.run_themes(session, NOW, cast.harbour, "schedule")
    session.commit()
    number = next(t for t in themes.themes_of(run) if t.candidate).number
    browser.sign_in("charlie@quay.test")
    assert browser.post(f"/themes/{run.id}/{number}/moment").status_code == 404
    assert "queue" not in text_of(browser.get("/themes/")) and "Add as a moment" not in text_of(browser.get("/themes/"))
    assert session.scalar(select(func.count()).select_from(MomentOfTruth).where(
        MomentOfTruth.name.like("Clients on%"))) == 0


def test_the_reports_appendix_shows_the_themes_and_the_weights_used(session, cast) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from partnermon.reports import content
    from partnermon.reports.render import render_html
    from partnermon.scoring.periods import month_of

    november = month_of(date(2026, 11, 1), cast.harbour.timezone)
    for i in range(5):   # so the month is not empty (an empty month's report is a page on how to start)
        respond(session, cast.acme, NOW - timedelta(days=1, minutes=i), "claim", satisfaction=1)
    session.commit()
    before = render_html(content.gather(session, NOW, cast.harbour, november))
    assert "What clients talk about" in before and "No themes yet" in before
    _write_corpus(session, cast)
    run = themes.run_themes(session, NOW, cast.harbour, "schedule")
    session.commit()
    report = content.gather(session, NOW + timedelta(days=9), cast.harbour, november)
    assert report.theme_run is not None and report.theme_run.id == run.id
    html = render_html(report)
    for theme in themes.themes_of(run):
        assert f"{theme.number}. {theme.label}" in html
    assert "a candidate moment of truth" in html and "These scores use weights: the owner&#39;s." in html
    # A report made long after the month does not show themes found since.
    late = content.gather(session, NOW, cast.harbour, month_of(date(2026, 9, 1), cast.harbour.timezone))
    assert late.theme_run is None


def test_the_command_line_and_the_app_do_not_load_scikit_learn() -> None:
    import subprocess
    import sys

    code = ("import sys, partnermon.cli, partnermon.app, partnermon.jobs, partnermon.scheduler, partnermon.reports.content;"
            "print(any(name.split('.')[0] == 'sklearn' for name in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_two_posts_of_add_as_moment_racing_add_one_moment_and_the_second_is_told_so(session, cast, runtime) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from partnermon.errors import ValidationError
    from partnermon.models import Practice, User

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two posts cannot race here")
    _write_corpus(session, cast)
    run = themes.run_themes(session, NOW, cast.harbour, "schedule")
    session.commit()
    number = next(t for t in themes.themes_of(run) if t.candidate).number

    def add(into):  # type: ignore[no-untyped-def]
        return themes.add_as_moment(into, NOW, into.get_one(Practice, cast.harbour.id),
                                    themes.get_run(into, cast.harbour.id, run.id), number, into.get_one(User, cast.alice.id))

    with runtime.session_factory() as first:
        added = add(first)   # not committed yet

        def second() -> str:
            with runtime.session_factory() as other:
                try:
                    add(other)
                except ValidationError as exc:
                    return next(iter(exc.errors.values()))
                other.commit()
                return "added a second one"

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(second)
            waiting = sessions_waiting_on_a_lock(runtime.engine, future)
            first.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waiting == 1, "the second post never waited on the first one"
            assert future.result(timeout=10).endswith("was added as a moment already.")
    assert session.scalar(select(func.count()).select_from(MomentOfTruth).where(MomentOfTruth.name == added.name)) == 1
