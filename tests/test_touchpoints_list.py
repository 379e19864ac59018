"""Monitoring at a glance (issue 18): the Touchpoints page (states, availability with its checks, p95, filters,
the home page's counts linking into it, tenant isolation), each touchpoint's 90-day strip and response-time
chart, the partner and experience pages linking to each other, ``serve --port``'s base URL and the favicon.

The app's clock is fixed at NOW (Monday 23 November 2026, 10:00 in London); rollups are written as the rollup
job would, so the pages read what they read in production.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from partnermon.cli import main
from partnermon.models import DailyRollup, HourlyRollup, Incident, Probe, Touchpoint
from partnermon.models.monitoring import HISTOGRAM_SIZE, latency_columns
from partnermon.monitoring import history
from partnermon.monitoring.rollups import floor_hour
from partnermon.partners import probe_settings
from tests import factories
from tests.conftest import NOW, PASSWORD, text_of
from tests.factories import Cast

TODAY = date(2026, 11, 23)   # NOW's local day in London


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("partnermon.web.context.utcnow", lambda: NOW)


def probe_on(session: Session, touchpoint: Touchpoint, *, state: str = "up", kind: str = "http",
             enabled: bool = True) -> Probe:
    probe = probe_settings.save_probe(session, NOW - timedelta(days=40), touchpoint, "test",
                                      {"kind": "http", "interval_seconds": "60", "enabled": "1" if enabled else "0"},
                                      rng=random.Random(1))
    probe.state, probe.kind = state, kind
    probe.last_checked_at, probe.next_due_at = NOW - timedelta(minutes=1), NOW + timedelta(seconds=30)
    probe.last_error = "Status 503" if state == "down" else None
    session.commit()
    return probe


def histogram(bucket: int, n: int) -> list[int]:
    counts = [0] * HISTOGRAM_SIZE
    counts[bucket] = n
    return counts


def hourly(session: Session, touchpoint: Touchpoint, hours_ago: int, up: int, down: int = 0) -> None:
    session.add(HourlyRollup(practice_id=touchpoint.practice_id, touchpoint_id=touchpoint.id,
                             hour=floor_hour(NOW) - timedelta(hours=hours_ago), up=up, degraded=0, down=down,
                             maintenance=0, bh_up=0, bh_degraded=0, bh_down=0,
                             histogram=histogram(5, up), bh_histogram=[0] * HISTOGRAM_SIZE))


def daily(session: Session, touchpoint: Touchpoint, day: date, up: int, down: int = 0, bh_up: int = 0,
          bh_down: int = 0, bucket: int = 5) -> None:
    counts = histogram(bucket, up)
    session.add(DailyRollup(practice_id=touchpoint.practice_id, touchpoint_id=touchpoint.id, day=day, up=up,
                            degraded=0, down=down, maintenance=0, bh_up=bh_up, bh_degraded=0, bh_down=bh_down,
                            histogram=counts, bh_histogram=histogram(bucket, bh_up), **latency_columns(counts)))


@pytest.fixture
def estate(cast: Cast, session: Session) -> dict[str, Touchpoint]:
    """Acme's touchpoints in every state, and Quay's one touchpoint (another practice)."""
    acme = cast.acme
    made = {
        "claims": cast.acme_claims,
        "payments": factories.touchpoint(session, NOW, acme, "Payments", "claim", "https://pay.acme.test/"),
        "quotes": factories.touchpoint(session, NOW, acme, "Quotes", "claim", "https://quotes.acme.test/"),
        "portal": factories.touchpoint(session, NOW, acme, "Portal", "claim", "https://portal.acme.test/"),
        "website": factories.touchpoint(session, NOW, acme, "Website", "claim", "https://www.acme.test/"),
        "letters": factories.touchpoint(session, NOW, acme, "Letters", "claim"),
        "zenith": factories.touchpoint(session, NOW, cast.zenith, "Zenith app", "claim", "https://app.zenith.test/"),
    }
    session.commit()
    probe_on(session, made["claims"], state="up")
    probe_on(session, made["payments"], state="down")
    probe_on(session, made["quotes"], state="degraded", kind="tls")
    probe_on(session, made["portal"], state="up", enabled=False)
    probe_on(session, made["zenith"], state="down")
    for hours_ago in range(24):
        hourly(session, made["claims"], hours_ago, up=60)
    hourly(session, made["payments"], 1, up=50, down=10)
    hourly(session, made["payments"], 30, up=0, down=60)   # older than 24 hours: not in "24 hours"
    for days_ago in range(30):
        daily(session, made["claims"], TODAY - timedelta(days=days_ago), up=1440)
    daily(session, made["claims"], TODAY - timedelta(days=30), up=0, down=1440)   # the 31st day back: left out
    session.commit()
    return made


def rows_of(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>") if "<th" in row]


# --- the Touchpoints page -------------------------------------------------------------------------------

def test_every_touchpoint_is_listed_with_its_state_worst_first(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("vera@harbour.test")   # a viewer sees it too
    response = browser.get("/touchpoints")
    assert response.status_code == 200
    rows = rows_of(response.get_data(as_text=True))
    assert [row.split(" Acme Insurance")[0] for row in rows] == [
        "Payments", "Quotes", "Claims form", "Portal", "Website", "Letters"]
    states = ["Down", "Degraded", "Up", "Paused", "Not probed", "Feedback only"]
    for row, state in zip(rows, states):
        assert state in row
    assert "Zenith" not in response.get_data(as_text=True)   # another practice's touchpoint
    assert "6 touchpoints." in text_of(response)


def test_availability_carries_its_checks_and_p95_comes_from_30_days(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    rows = rows_of(browser.get("/touchpoints").get_data(as_text=True))
    claims = next(row for row in rows if row.startswith("Claims form"))
    assert "100% of 1,440 checks" in claims                       # 24 hours of hourly rollups
    assert "100% of 43,200 checks" in claims                      # 30 local days; the 31st day back left out
    assert re.search(r"\d+ ms", claims)                           # p95 from the daily latency columns
    payments = next(row for row in rows if row.startswith("Payments"))
    assert "83.33% of 60 checks" in payments                      # the hour 30 hours ago is not in 24 hours
    assert "Status 503" in payments
    website = next(row for row in rows if row.startswith("Website"))
    assert website.count("no checks") == 2 and "—" in website


@pytest.mark.parametrize(("query", "expected"), [
    ("state=down", ["Payments"]),
    ("state=paused", ["Portal"]),
    ("state=not_probed", ["Website"]),
    ("kind=tls", ["Quotes"]),
    ("kind=http&state=up", ["Claims form"]),
])
def test_filters_by_state_and_kind(cast: Cast, browser, estate, query: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.get(f"/touchpoints?{query}")
    assert response.status_code == 200
    assert [row.split(" Acme Insurance")[0] for row in rows_of(response.get_data(as_text=True))] == expected
    assert f"{len(expected)} of 6 touchpoints match." in text_of(response)


def test_filter_by_partner(cast: Cast, browser, session, estate) -> None:  # type: ignore[no-untyped-def]
    other = factories.partner(session, NOW, cast.harbour, "Beacon Bank", category="lender", exposure="10")
    factories.touchpoint(session, NOW, other, "Online banking", "claim", "https://bank.beacon.test/")
    session.commit()
    browser.sign_in("alice@harbour.test")
    html = browser.get(f"/touchpoints?partner={other.id}").get_data(as_text=True)
    assert [row.split(" Beacon")[0] for row in rows_of(html)] == ["Online banking"]
    assert f'<option value="{other.id}" selected>Beacon Bank</option>' in html


@pytest.mark.parametrize(("query", "message"), [
    ("state=sideways", "“sideways” is not a state; choose one of: Down, Degraded"),
    ("kind=carrier-pigeon", "“carrier-pigeon” is not a kind of probe"),
    ("partner=abc", "That partner is not one of yours"),
    ("partner=99999999999999999999", "That partner is not one of yours"),
])
def test_a_bad_filter_is_named_not_a_500(cast: Cast, browser, estate, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.get(f"/touchpoints?{query}")
    assert response.status_code == 400
    assert message in text_of(response)
    assert len(rows_of(response.get_data(as_text=True))) == 6   # the bad filter is not applied


def test_another_practices_partner_cannot_be_filtered_on(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    response = browser.get(f"/touchpoints?partner={cast.zenith.id}")
    assert response.status_code == 400
    assert "That partner is not one of yours" in text_of(response) and "Zenith" not in text_of(response)


def test_the_page_needs_a_signed_in_user(client, estate) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/touchpoints")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_home_pages_counts_link_into_the_touchpoints_page(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get("/").get_data(as_text=True)
    assert 'href="/touchpoints"' in html
    for state in ("down", "degraded", "up", "paused"):
        assert re.search(rf'<a class="stat" href="/touchpoints\?state={state}">\s*<span class="stat-n">1</span>', html), state
    # Every link the home page gives into the list shows what it counted.
    for state in ("down", "paused"):
        listed = rows_of(browser.get(f"/touchpoints?state={state}").get_data(as_text=True))
        assert len(listed) == 1


def test_the_page_fits_a_phone_table_in_a_focusable_wrapper(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get("/touchpoints").get_data(as_text=True)
    assert '<div class="table-wrap" tabindex="0">\n<table class="touchpoint-list">' in html
    for name in ("partner", "state", "kind"):
        assert f'<label for="f-{name}">' in html


# --- one touchpoint: the strip, the chart ----------------------------------------------------------------

def touchpoint_page(cast: Cast, touchpoint: Touchpoint) -> str:
    return f"/partners/{touchpoint.partner_id}/touchpoints/{touchpoint.id}"


def test_the_strip_has_a_cell_a_day_and_business_hours_on_business_days(cast: Cast, browser, session, estate) -> None:  # type: ignore[no-untyped-def]
    claims = estate["claims"]
    daily(session, claims, TODAY - timedelta(days=40), up=1300, down=140, bh_up=400, bh_down=110)
    session.commit()
    browser.sign_in("bob@harbour.test")
    html = browser.get(touchpoint_page(cast, claims)).get_data(as_text=True)
    strip = html.split('<figure class="strip">', 1)[1].split("</figure>", 1)[0]
    top = re.findall(r'<rect [^>]*class="cell band-(\w+)"', strip)
    business = re.findall(r'<rect [^>]*class="cell bh band-(\w+)"', strip)
    assert len(top) == 90
    weekdays = sum(1 for n in range(90) if (TODAY - timedelta(days=n)).weekday() < 5)
    assert len(business) == weekdays                                # closed at weekends: no business cell
    assert top.count("good") == 30 and top.count("none") == 58      # 30 good days, 58 without checks
    assert top[90 - 31] == "bad" and top[90 - 41] == "bad"          # 30 days back: all down; 40: 90.27%
    assert business[-1] == "none"                                   # no business-hours checks counted today
    assert "Mon 23 Nov: 100% of 1,440 checks" in strip
    assert "Wed 14 Oct: 90.27% of 1,440 checks" in strip
    assert "Wed 14 Oct, business hours: 78.43% of 510 checks" in strip
    assert 'class="bh-band"' in strip and "Lower, shaded row: business hours" in strip
    # The same figures in words: the table of days, newest first.
    table = html.split('<details class="history-table">', 1)[1].split("</details>", 1)[0]
    assert "Sun 22 Nov" in table and "closed" in table


def test_the_response_time_chart_marks_incident_days(cast: Cast, browser, session, estate) -> None:  # type: ignore[no-untyped-def]
    claims = estate["claims"]
    session.add(Incident(practice_id=claims.practice_id, touchpoint_id=claims.id, kind="down",
                         started_at=NOW - timedelta(days=3, hours=1), resolved_at=NOW - timedelta(days=3),
                         first_error="Status 503"))
    session.commit()
    browser.sign_in("alice@harbour.test")
    html = browser.get(touchpoint_page(cast, claims)).get_data(as_text=True)
    chart = html.split("<h3 id=\"response-times\">", 1)[1].split("</figure>", 1)[0]
    assert "p50 (median)" in chart and "p95" in chart and "Incident: down" in chart
    assert "Days an incident covered are shaded (1 of 90)" in chart
    assert "Incident: degraded" not in chart
    assert chart.count('class="incident down"') == 1                # one shaded day, behind the lines
    labels = re.findall(r"<text[^>]*>([\d,]+ ms)</text>", chart)
    assert labels and len(labels) == len(set(labels))               # round, distinct ticks
    table = html.split('<details class="history-table">', 1)[1].split("</details>", 1)[0]
    friday = next(row for row in table.split("</tr>") if "Fri 20 Nov" in row)
    assert "Down" in friday


def test_history_days_come_from_daily_rollups_with_incident_kinds(cast: Cast, session, estate) -> None:  # type: ignore[no-untyped-def]
    claims = estate["claims"]
    for kind, days_ago in (("degraded", 5), ("down", 5), ("degraded", 6)):
        session.add(Incident(practice_id=claims.practice_id, touchpoint_id=claims.id, kind=kind,
                             started_at=NOW - timedelta(days=days_ago), resolved_at=NOW - timedelta(days=days_ago) + timedelta(hours=1)))
    session.commit()
    from partnermon.practices.business_hours import BusinessHours
    days = history.days_of(session, NOW, claims, BusinessHours.of(cast.harbour))
    assert len(days) == 90 and days[-1].day == TODAY and days[0].day == TODAY - timedelta(days=89)
    by_day = {d.day: d for d in days}
    assert by_day[TODAY - timedelta(days=5)].incident == "down"      # an outage outranks a degraded period
    assert by_day[TODAY - timedelta(days=6)].incident == "degraded"
    assert by_day[TODAY].checks == 1440 and by_day[TODAY].p95_ms is not None
    assert history.totals(days)[:2] == (31 * 1440, 30 * 1440)


def test_no_response_times_says_so(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    html = browser.get(touchpoint_page(cast, estate["website"])).get_data(as_text=True)
    assert "No response times in these days" in html
    assert html.count('class="cell band-none"') == 90


def test_another_practices_touchpoint_is_404(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert browser.get(touchpoint_page(cast, estate["zenith"])).status_code == 404
    # Its id under one of Harbour's partners is no way round either.
    assert browser.get(f"/partners/{cast.acme.id}/touchpoints/{estate['zenith'].id}").status_code == 404


# --- links, serve --port, favicon -------------------------------------------------------------------------

def test_the_partner_page_and_its_experience_page_link_to_each_other(cast: Cast, browser, estate) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("bob@harbour.test")
    partner = browser.get(f"/partners/{cast.acme.id}").get_data(as_text=True)
    assert f'href="/partners/{cast.acme.id}/experience"' in partner
    assert f'href="/touchpoints?partner={cast.acme.id}"' in partner
    experience = browser.get(f"/partners/{cast.acme.id}/experience").get_data(as_text=True)
    assert f'href="/partners/{cast.acme.id}"' in experience


def serve_app(monkeypatch: pytest.MonkeyPatch, runtime, args: list[str]) -> Any:  # type: ignore[no-untyped-def]
    """``partnermon serve`` up to the moment it would listen; the app it would serve."""
    import waitress
    served: dict[str, Any] = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: served.update(app=app, **kwargs))
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    result = CliRunner().invoke(main, ["serve", "--no-scheduler", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    served["output"] = result.output
    return served


def test_serve_port_puts_its_port_in_links(cast: Cast, runtime, session, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cast.harbour.open_feedback_link = True     # the settings page then shows the open link, with the base URL
    session.commit()
    monkeypatch.delenv("PARTNERMON_BASE_URL", raising=False)
    served = serve_app(monkeypatch, runtime, ["--port", "8123"])
    assert served["port"] == 8123 and "running at http://127.0.0.1:8123" in served["output"]
    app = served["app"]
    assert app.extensions["partnermon"].settings.base_url == "http://127.0.0.1:8123"
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["csrf"] = "t"
    assert client.post("/sign-in", data={"email": "alice@harbour.test", "password": PASSWORD,
                                         "csrf_token": "t"}).status_code == 302
    settings_page = client.get("/settings/").get_data(as_text=True)
    app.extensions["partnermon"].engine.dispose()   # the command closed it; the requests above opened it again
    assert "http://127.0.0.1:8123/" in settings_page and "127.0.0.1:8000" not in settings_page


def test_serve_port_leaves_a_set_base_url_alone(runtime, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PARTNERMON_BASE_URL", "https://partnermon.example.com/")
    served = serve_app(monkeypatch, runtime, ["--port", "8123"])
    assert served["app"].extensions["partnermon"].settings.base_url == "https://partnermon.example.com"


def test_serve_quiets_weasyprint_and_fonttools(runtime, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PARTNERMON_BASE_URL", raising=False)
    for name in ("weasyprint", "fontTools"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    serve_app(monkeypatch, runtime, ["--port", "8124"])
    for name in ("weasyprint.progress", "fontTools.subset", "fontTools.ttLib.ttFont"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name


def test_a_favicon_is_served_and_linked(cast: Cast, client, browser) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert 'rel="icon" href="/static/favicon.svg' in client.get("/sign-in").get_data(as_text=True)
