"""The human-contact check inside partnermon: the practice's country, the content probe's JSON and
assertions, the touchpoint page, and ``partnermon probe --country`` / ``create-practice --country``."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import probes
from partnermon.cli import main
from partnermon.errors import ValidationError
from partnermon.models import Practice
from partnermon.monitoring.runs import claim_due
from partnermon.partners import probe_settings
from partnermon.practices import service as practices
from partnermon.practices.countries import country_for_timezone
from probes.fetch import FetchPolicy
from probes.spec import ProbeSpec
from tests.conftest import NOW, text_of
from tests.probe_servers import (  # noqa: F401 - fixtures
    NAMES, ProbeServer, fake_resolver, https_server, make_probe_server, policy, probe_certs, probe_server,
)

HTML = {"Content-Type": "text/html; charset=utf-8"}
SYDNEY_PAGE = "<html lang='en'><body><h1>Claims</h1><p>Call (02) 9876 5432</p><p>Fax: (02) 9876 5433</p></body></html>"
LINK_ONLY_PAGE = "<html><body><a href='/contact-us'>Contact us</a></body></html>"


def run(url: str, policy: FetchPolicy, **fields: Any) -> probes.Finding:
    spec = ProbeSpec(kind="content", url=url, **fields)
    assert probes.check(spec) == {}
    return probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))


@pytest.mark.parametrize(("timezone", "country"), [
    ("Pacific/Auckland", "NZ"), ("Australia/Sydney", "AU"), ("Europe/London", "GB"), ("Europe/Dublin", "IE"),
    ("America/New_York", "US"), ("America/Toronto", "CA"), ("Africa/Johannesburg", "ZA"), ("UTC", ""),
])
def test_a_time_zone_names_its_country(timezone, country):
    assert country_for_timezone(timezone) == country


def test_the_practice_country_reads_numbers_the_page_does_not_place(probe_server: ProbeServer, policy: FetchPolicy):
    probe_server.route("/claims", body=SYDNEY_PAGE, headers=HTML)
    australian = run(probe_server.url("/claims"), policy, region="AU")
    assert australian.outcome == "up"
    assert australian.details["human_contact"] == [
        {"kind": "phone", "text": "(02) 9876 5432", "href": None, "source": "Call (02) 9876 5432"}]
    assert australian.details["human_contact_discarded"] == [
        {"kind": "phone", "text": "(02) 9876 5433", "reason": "labelled fax"}]
    assert australian.details["human_contact_region"] == "AU (practice country)"
    # By American rules neither is a number: the soft check finds nobody to call.
    american = run(probe_server.url("/claims"), policy, region="US")
    assert american.outcome == "degraded" and american.details["human_contact"] == []


def test_a_check_can_require_a_phone_number(probe_server: ProbeServer, policy: FetchPolicy):
    probe_server.route("/help", body=LINK_ONLY_PAGE, headers=HTML)
    result = run(probe_server.url("/help"), policy, region="GB", options={"human_contact": "off"},
                 checks=("[STATUS] == 200", "[HUMAN_CONTACT] == true", "[HUMAN_CONTACT].phone == true"))
    assert result.outcome == "down"
    assert result.failed_checks == ["[HUMAN_CONTACT].phone == true (was false)"]


def test_a_pdf_is_not_judged_and_not_called_unreachable(probe_server: ProbeServer, policy: FetchPolicy):
    probe_server.route("/terms.pdf", body="%PDF-1.7\n%\u00e2\u00e3", headers={"Content-Type": "application/pdf"})
    result = run(probe_server.url("/terms.pdf"), policy, region="GB")
    assert result.outcome == "up"
    assert result.details["human_contact"] is None
    assert result.details["human_contact_summary"] == "not checked: not a web page: the server said it is application/pdf"


def test_a_practice_gets_its_time_zones_country_unless_it_chooses(session):
    auckland = practices.create_practice(session, NOW, slug="kauri", name="Kauri Advice", timezone="Pacific/Auckland")
    chosen = practices.create_practice(session, NOW, slug="fern", name="Fern", timezone="Pacific/Auckland", country="au")
    assert (auckland.country, chosen.country) == ("NZ", "AU")
    with pytest.raises(ValidationError) as caught:
        practices.create_practice(session, NOW, slug="moa", name="Moa", timezone="Pacific/Auckland", country="XX")
    assert caught.value.errors == {"country": "Choose a country: a two-letter ISO 3166 code such as NZ, AU or GB."}


def test_claimed_probes_carry_the_practice_country(session, cast):
    cast.harbour.country = "IE"
    probe = probe_settings.save_probe(session, NOW, cast.acme_claims, "test", {"kind": "content", "interval_seconds": "60"},
                                      rng=random.Random(1))
    probe.next_due_at = NOW
    session.commit()
    (claim,) = claim_due(session, NOW, worker_id="w1", limit=10)
    assert claim.spec.region == "IE"


def test_the_owner_chooses_the_country_on_the_settings_page(cast, browser, session):
    browser.sign_in("alice@harbour.test")
    page = text_of(browser.get("/settings/"))
    assert "Country" in page and "New Zealand (NZ)" in page
    form = {"name": "Harbour Advice", "timezone": "Europe/London", "business_start": "09:00", "business_end": "17:30",
            "business_days": ["0", "1", "2", "3", "4"], "brand_colour": "#1f4e79"}
    assert "Practice settings saved" in text_of(browser.post("/settings/", {**form, "country": "NZ"}, follow_redirects=True))
    session.refresh(cast.harbour)
    assert cast.harbour.country == "NZ"
    response = browser.post("/settings/", {**form, "country": "Narnia"})
    assert response.status_code == 422 and "two-letter ISO 3166 code" in text_of(response)


def test_create_practice_takes_a_country(runtime, monkeypatch, session):
    monkeypatch.setenv("PARTNERMON_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("PARTNERMON_INSTANCE_DIR", str(runtime.settings.instance_dir))
    runner = CliRunner()
    assert runner.invoke(main, ["create-practice", "protea", "--name", "Protea", "--timezone", "Africa/Johannesburg"]).exit_code == 0
    assert runner.invoke(main, ["create-practice", "maple", "--name", "Maple", "--timezone", "UTC", "--country", "CA"]).exit_code == 0
    countries = dict(session.execute(select(Practice.slug, Practice.country)).all())
    assert (countries["protea"], countries["maple"]) == ("ZA", "CA")


class _SydneyPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = SYDNEY_PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sydney_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SydneyPage)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_partnermon_probe_takes_a_country(sydney_url):
    result = CliRunner().invoke(main, ["probe", sydney_url, "--kind", "content", "--allow-private", "--country", "au"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["details"]["human_contact_kinds"] == ["phone"]
    assert printed["details"]["human_contact_discarded"] == [{"kind": "phone", "text": "(02) 9876 5433",
                                                              "reason": "labelled fax"}]
    refused = CliRunner().invoke(main, ["probe", sydney_url, "--kind", "content", "--country", "Australia"])
    assert refused.exit_code == 64 and "two-letter ISO 3166 code" in refused.output


def test_the_touchpoint_page_explains_the_verdict(cast, browser, session):
    from tests.test_touchpoint_pages import page_of, result, save

    save(session, cast, kind="content")
    verdict = {"human_contact": [{"kind": "phone", "text": "09 379 0000", "href": None, "source": "Call us on 09 379 0000"}],
               "human_contact_kinds": ["phone"], "human_contact_summary": "phone 09 379 0000",
               "human_contact_discarded": [{"kind": "phone", "text": "09 379 0001", "reason": "labelled fax"}],
               "human_contact_region": "NZ (practice country)"}
    result(session, cast, 5, details=verdict)
    page = text_of(browser.sign_in("vera@harbour.test").get(page_of(cast)))
    assert "phone 09 379 0000 — from “Call us on 09 379 0000”" in page
    assert "Not counted: 09 379 0001 — labelled fax" in page
    assert "Numbers without a country code read as: NZ (practice country)" in page


def test_the_migration_gives_existing_practices_their_time_zones_country(tmp_path):
    import sqlalchemy as sa

    from partnermon import schema

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO practice (slug, name, timezone, business_start_minute, business_end_minute, business_days, "
            "brand_colour, created_at) VALUES ('kauri', 'Kauri', 'Pacific/Auckland', 540, 1050, 31, '#000000', "
            "'2026-01-01 00:00:00'), ('utc', 'UTC', 'UTC', 540, 1050, 31, '#000000', '2026-01-01 00:00:00')"))
    schema.upgrade(engine, "0012")
    with engine.begin() as connection:
        assert dict(connection.execute(sa.text("SELECT slug, country FROM practice")).all()) == {"kauri": "NZ", "utc": ""}
    engine.dispose()
