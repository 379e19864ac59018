"""Every probe kind end to end through ``probes.run`` and ``probes.check``, against real servers on loopback
(HTTP, HTTPS with test certificates, DNS): http, content, json, tls and dns, the registry, and judging.
Journeys are in test_probe_kinds_journey.py.

Nothing is mocked. The only waits are the servers' own deliberate slowness (delay, drip).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import probes
from probes import base
from probes.assertions import AssertionSyntaxError
from probes.fetch import FetchPolicy
from probes.spec import Finding, ProbeSpec
from tests.certs import CertAuthority
from tests.dns_server import DnsServer, dns_server, make_dns_server  # noqa: F401 - fixtures
from tests.probe_servers import (  # noqa: F401 - fixtures
    NAMES, ProbeServer, fake_resolver, https_server, make_probe_server, policy, probe_certs, probe_server,
)

HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
NO_CONTACT = ("The page no longer offers a way to reach a person "
              "(no phone number, email, contact link or chat found)")


def run(kind: str, url: str, policy: FetchPolicy, **fields: Any) -> Finding:
    spec = ProbeSpec(kind=kind, url=url, **fields)
    assert probes.check(spec) == {}, "the spec under test must itself be valid"
    return probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))


def check(kind: str, url: str = "https://partner.test/", **fields: Any) -> dict[str, str]:
    return probes.check(ProbeSpec(kind=kind, url=url, **fields))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- http ---------------------------------------------------------------------------------------

def test_http_up_with_status_timings_and_size(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body="<h1>Lodge a claim</h1>", headers=HTML)
    result = run("http", probe_server.url("/"), policy)
    assert (result.outcome, result.error, result.status) == ("up", None, 200)
    assert result.failed_checks == [] and not result.blocked and result.details == {}
    assert result.final_url == probe_server.url("/") and result.bytes_read == 22
    t = result.timings
    assert t.dns_ms is None and t.tls_ms is None            # an IP address over http: no lookup, no TLS
    assert t.connect_ms is not None and t.first_byte_ms is not None
    assert t.total_ms is not None and t.total_ms >= t.first_byte_ms


def test_http_sends_the_specs_method_headers_and_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.echo("/api")
    result = run("http", probe_server.url("/api"), policy, method="POST", headers=(("X-Partner", "acme"),),
                 body='{"ping": 1}', checks=('[BODY].method == "POST"', '[BODY].body == "{\\"ping\\": 1}"'))
    assert result.outcome == "up", result.failed_checks
    assert probe_server.last("/api").header("X-Partner") == "acme"


def test_http_error_status_without_checks_is_down_with_a_sentence(probe_server: ProbeServer,
                                                                   policy: FetchPolicy) -> None:
    probe_server.route("/", status=503, body=b"maintenance")
    result = run("http", probe_server.url("/"), policy)
    assert result.outcome == "down" and result.status == 503
    assert result.error == "The page answered HTTP 503 Service Unavailable"
    assert result.failed_checks == [result.error]


def test_http_own_checks_replace_the_status_expectation(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/gone", status=410, body=b"moved away")
    assert run("http", probe_server.url("/gone"), policy, checks=("[STATUS] == 410",)).outcome == "up"


def test_http_failed_hard_checks_are_down_and_listed(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body="<p>Maintenance until Monday</p>", headers=HTML)
    result = run("http", probe_server.url("/"), policy, checks=(
        "[STATUS] == 200", '[BODY] contains "Lodge a claim"', '[BODY] not contains "Maintenance"'))
    assert result.outcome == "down" and result.status == 200
    assert result.failed_checks == ['[BODY] contains "Lodge a claim" (not found)',
                                    '[BODY] not contains "Maintenance" (found)']
    assert result.error == 'Check failed: [BODY] contains "Lodge a claim" (not found)'


def test_http_failed_soft_checks_are_degraded(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body="<p>Claims</p>", headers={"Content-Type": "text/html"})
    result = run("http", probe_server.url("/"), policy, checks=("[STATUS] == 200",),
                 soft_checks=('[HEADER:Content-Type] contains "charset"', "[STATUS] < 300"))
    assert result.outcome == "degraded"
    assert result.failed_checks == ['[HEADER:Content-Type] contains "charset" (was "text/html")']
    assert result.error == result.failed_checks[0]


def test_http_slower_than_degraded_after_ms_is_degraded(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/slow", body=b"ok", delay=0.25)
    slow = run("http", probe_server.url("/slow"), policy, degraded_after_ms=100)
    assert slow.outcome == "degraded" and slow.timings.total_ms is not None and slow.timings.total_ms >= 250
    assert slow.error == f"Slower than 100 ms (took {slow.timings.total_ms:,.0f} ms)"
    assert run("http", probe_server.url("/slow"), policy, degraded_after_ms=4000).outcome == "up"


def test_http_follows_redirects_to_the_final_url(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/old", "/claims/new", status=301)
    probe_server.route("/claims/new", body=b"here now")
    result = run("http", probe_server.url("/old"), policy, checks=('[BODY] == "here now"',))
    assert result.outcome == "up" and result.status == 200
    assert result.final_url == probe_server.url("/claims/new")
    assert probe_server.hits("/old") == 1 and probe_server.hits("/claims/new") == 1


def test_http_connection_refused_is_down_with_a_readable_error(policy: FetchPolicy) -> None:
    port = closed_port()
    result = run("http", f"http://127.0.0.1:{port}/", policy)
    assert result.outcome == "down" and not result.blocked and result.status is None
    assert result.error == f"Could not connect to 127.0.0.1 (127.0.0.1:{port}): connection refused"
    assert result.timings.connect_ms is not None


def test_http_blocked_address_is_down_and_flagged_without_a_request(probe_server: ProbeServer,
                                                                     policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"secret")
    strict = policy.with_changes(allow_cidrs=())
    result = run("http", probe_server.url("/"), strict)
    assert result.outcome == "down" and result.blocked
    assert result.error is not None and result.error.startswith("blocked: 127.0.0.1 is")
    assert probe_server.requests == []
    by_name = run("http", "http://intranet.partner.test/", policy.with_changes(
        resolver=fake_resolver({"intranet.partner.test": ["10.1.2.3"]})))
    assert by_name.blocked and by_name.error is not None
    assert "10.1.2.3" in by_name.error and "(intranet.partner.test resolves to it)" in by_name.error


@pytest.mark.parametrize("where", ["policy", "spec"])
def test_http_a_dripping_body_stops_at_the_timeout(probe_server: ProbeServer, policy: FetchPolicy,
                                                    where: str) -> None:
    # partnermon's runs.policy_for turns spec.timeout_seconds into the policy's total_timeout; probes.run
    # also holds to the spec's timeout when a caller hands it a longer policy.
    probe_server.drip("/drip", n=100, interval=0.05)
    fields: dict[str, Any] = {"timeout_seconds": 0.6} if where == "spec" else {}
    short = policy.with_changes(total_timeout=0.6) if where == "policy" else policy
    started = time.perf_counter()
    result = run("http", probe_server.url("/drip"), short, **fields)
    elapsed = time.perf_counter() - started
    assert result.outcome == "down"
    assert result.error == "Took longer than the 0.6 s limit for the whole request (while reading the page)"
    assert 0.55 < elapsed < 1.5


# --- content ------------------------------------------------------------------------------------

CLAIMS_PAGE = """<html><body><h1>Lodge a claim</h1>
<p>Call us on <a href="tel:+441632960001">01632 960001</a> or write to
<a href="mailto:claims@acme.test">claims@acme.test</a>.</p>
<a href="/contact-us">Contact us</a></body></html>"""

NO_CONTACT_PAGE = "<html><body><h1>Lodge a claim</h1><p>Use the form below.</p><form></form></body></html>"


def test_content_expected_text_and_human_contact_found(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/claims", body=CLAIMS_PAGE, headers=HTML)
    result = run("content", probe_server.url("/claims"), policy,
                 options={"expect_text": ["Lodge a claim"], "reject_text": "Service unavailable\nMaintenance"})
    assert result.outcome == "up" and result.error is None and result.failed_checks == []
    found = result.details["human_contact"]
    assert {c["kind"] for c in found} == {"phone", "email", "contact_page"}
    assert {"kind": "contact_page", "text": "Contact us", "href": probe_server.url("/contact-us"),
            "source": "Contact us"} in found
    summary = result.details["human_contact_summary"]
    assert "phone" in summary and "email claims@acme.test" in summary and "contact page “Contact us”" in summary


def test_content_missing_and_rejected_texts_are_down_in_words(probe_server: ProbeServer,
                                                              policy: FetchPolicy) -> None:
    probe_server.route("/claims", body="<p>Service unavailable. Call 01632 960001.</p>", headers=HTML)
    result = run("content", probe_server.url("/claims"), policy,
                 options={"expect_text": ["Lodge a claim", "Service"], "reject_text": ["Service unavailable"]})
    assert result.outcome == "down" and result.status == 200
    assert result.failed_checks == ["The page does not contain “Lodge a claim”",
                                    "The page contains “Service unavailable”"]
    assert result.error == "The page does not contain “Lodge a claim”"


def test_content_texts_do_not_hide_an_error_status(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    # Only the owner's own checks replace "no 4xx or 5xx"; an error page without the rejected text is down.
    probe_server.route("/claims", status=500, body=CLAIMS_PAGE, headers=HTML)
    result = run("content", probe_server.url("/claims"), policy,
                 options={"expect_text": ["Lodge a claim"], "reject_text": ["Service unavailable"]})
    assert result.outcome == "down" and result.error == "The page answered HTTP 500 Internal Server Error"


@pytest.mark.parametrize("mode, outcome", [("soft", "degraded"), (None, "degraded"), ("hard", "down")])
def test_content_no_way_to_reach_a_person(probe_server: ProbeServer, policy: FetchPolicy, mode: str | None,
                                          outcome: str) -> None:
    probe_server.route("/claims", body=NO_CONTACT_PAGE, headers=HTML)
    options = {"expect_text": ["Lodge a claim"], **({"human_contact": mode} if mode else {})}
    result = run("content", probe_server.url("/claims"), policy, options=options)
    assert result.outcome == outcome and result.status == 200
    assert result.error == NO_CONTACT and result.failed_checks == [NO_CONTACT]
    assert result.details["human_contact"] == []
    assert result.details["human_contact_summary"] == "no phone number, email, contact link or chat found"


def test_content_human_contact_off_looks_for_nothing(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/claims", body=NO_CONTACT_PAGE, headers=HTML)
    result = run("content", probe_server.url("/claims"), policy, options={"human_contact": "off"})
    assert result.outcome == "up" and result.details == {}


def test_content_hard_contact_rule_comes_after_a_broken_page(probe_server: ProbeServer,
                                                              policy: FetchPolicy) -> None:
    probe_server.route("/claims", status=502, body=NO_CONTACT_PAGE, headers=HTML)
    result = run("content", probe_server.url("/claims"), policy, options={"human_contact": "hard"})
    assert result.error == "The page answered HTTP 502 Bad Gateway"
    assert result.failed_checks == [result.error, NO_CONTACT]


@pytest.mark.parametrize("options, field", [
    ({"human_contact": "sometimes"}, "human_contact"),
    ({"expect_text": ["x" * 201]}, "expect_text"),
    ({"reject_text": 42}, "reject_text"),
    ({"expect_text": [f"text {i}" for i in range(21)]}, "expect_text"),
])
def test_content_check_refuses_bad_options(options: dict[str, Any], field: str) -> None:
    assert field in check("content", options=options)


# --- json ---------------------------------------------------------------------------------------

def test_json_checks_reach_into_the_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/health", body='{"status": "UP", "items": [1, 2]}', headers=JSON)
    result = run("json", probe_server.url("/health"), policy,
                 checks=('[BODY].status == "UP"', "len([BODY].items) > 0"))
    assert result.outcome == "up", result.failed_checks
    assert probe_server.last("/health").header("Accept") == "application/json"


def test_json_failed_checks_are_down(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/health", body='{"status": "DOWN", "items": []}', headers=JSON)
    result = run("json", probe_server.url("/health"), policy,
                 checks=('[BODY].status == "UP"', "len([BODY].items) > 0"))
    assert result.outcome == "down"
    assert result.failed_checks == ['[BODY].status == "UP" (was "DOWN")', "len([BODY].items) > 0 (was 0)"]
    assert result.error == 'Check failed: [BODY].status == "UP" (was "DOWN")'


def test_json_a_body_that_is_not_json_is_down(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/health", body="<html>Sign in</html>", headers=HTML)
    plain = run("json", probe_server.url("/health"), policy)
    checked = run("json", probe_server.url("/health"), policy, checks=('[BODY].status == "UP"',))
    assert plain.outcome == checked.outcome == "down"
    assert plain.error == checked.error == "The response is not JSON"
    assert checked.failed_checks == ["The response is not JSON", '[BODY].status == "UP" ([BODY].status: body is not JSON)']


def test_json_an_error_status_is_reported_before_the_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/health", status=500, body="<h1>Oops</h1>", headers=HTML)
    result = run("json", probe_server.url("/health"), policy)
    assert result.error == "The page answered HTTP 500 Internal Server Error"
    assert result.failed_checks == [result.error, "The response is not JSON"]


# --- tls ----------------------------------------------------------------------------------------

def test_tls_valid_certificate_is_up_with_days_left(https_server: ProbeServer, policy: FetchPolicy) -> None:
    result = run("tls", https_server.url("/"), policy)
    assert result.outcome == "up" and result.error is None
    assert 29.8 < result.details["certificate_days_left"] <= 30.0
    assert "partnermon probe test CA" in result.details["certificate_issuer"]
    assert result.timings.total_ms is not None and result.timings.total_ms > 0
    assert https_server.requests == []                  # a handshake only: no page is asked for


@pytest.mark.parametrize("variant, error", [
    ("expired", "Certificate expired 3 days ago"),
    ("wrong_host", "Certificate is for other.test, not 127.0.0.1"),
    ("self_signed", "Certificate is not issued by a trusted authority (self-signed)"),
])
def test_tls_bad_certificates_are_down_in_words(make_probe_server: Callable[..., ProbeServer],
                                                policy: FetchPolicy, variant: str, error: str) -> None:
    server = make_probe_server(variant)
    result = run("tls", server.url("/"), policy)
    assert (result.outcome, result.error) == ("down", error)
    assert "certificate_days_left" in result.details and not result.blocked


@pytest.fixture
def short_lived(tmp_path: Path, policy: FetchPolicy) -> Iterator[tuple[ProbeServer, FetchPolicy]]:
    """An HTTPS server whose certificate (from a CA of its own) expires in five days and an hour."""
    ca = CertAuthority(tmp_path)
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5, hours=1)
    server = ProbeServer(tls=ca.issue("short", NAMES, not_after=until)).start()
    yield server, policy.with_changes(ca_file=str(ca.cert_path))
    server.stop()


def test_tls_expiring_within_min_days_is_degraded(short_lived: tuple[ProbeServer, FetchPolicy]) -> None:
    server, trusting = short_lived
    result = run("tls", server.url("/"), trusting)
    assert result.outcome == "degraded"
    assert result.error == "Certificate expires in 5 days (warning at 14 days)"
    assert run("tls", server.url("/"), trusting, options={"min_days": 3}).outcome == "up"


def test_tls_certificate_expiration_checks(https_server: ProbeServer, policy: FetchPolicy) -> None:
    url = https_server.url("/")
    assert run("tls", url, policy, checks=("[CERTIFICATE_EXPIRATION] > 14d",)).outcome == "up"
    hard = run("tls", url, policy, checks=("[CERTIFICATE_EXPIRATION] > 60d",))
    assert hard.outcome == "down"
    assert hard.error is not None and hard.error.startswith("Check failed: [CERTIFICATE_EXPIRATION] > 60d (was 29d")
    soft = run("tls", url, policy, soft_checks=("[CERTIFICATE_EXPIRATION] > 60d",))
    assert soft.outcome == "degraded" and soft.failed_checks[0].startswith("[CERTIFICATE_EXPIRATION] > 60d")


def test_tls_check_refuses_what_cannot_work(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    assert check("tls", "http://partner.test/") == {"url": "A certificate check needs an https:// address."}
    assert "min_days" in check("tls", options={"min_days": "soon"})
    assert "min_days" in check("tls", options={"min_days": 400})
    assert "[STATUS]" in check("tls", checks=("[STATUS] == 200",))["checks"]
    result = probes.run(ProbeSpec(kind="tls", url=probe_server.url("/")), policy, dt.datetime.now(dt.timezone.utc))
    assert (result.outcome, result.error) == ("down", "A certificate check needs an https:// address.")
    assert probe_server.requests == []


# --- dns ----------------------------------------------------------------------------------------

@pytest.fixture
def dns_policy(policy: FetchPolicy, dns_server: DnsServer) -> FetchPolicy:
    return policy.with_changes(dns_nameservers=(dns_server.address,))


def test_dns_records_present_are_up_with_details(dns_policy: FetchPolicy) -> None:
    result = run("dns", "https://partner.test/claims", dns_policy, options={"record_types": ["A", "mx"]})
    assert result.outcome == "up" and result.error is None
    assert result.details["records"] == {"A": ["192.0.2.10", "192.0.2.11"],
                                          "MX": ["10 mail.partner.test", "20 backup.partner.test"]}
    assert result.timings.dns_ms is not None and result.timings.total_ms == result.timings.dns_ms


def test_dns_a_bare_name_defaults_to_a_records(dns_policy: FetchPolicy, dns_server: DnsServer) -> None:
    assert run("dns", "partner.test", dns_policy).outcome == "up"
    assert dns_server.queries == [("partner.test", "A")]


def test_dns_missing_record_types_are_down(dns_policy: FetchPolicy) -> None:
    one = run("dns", "bare.partner.test", dns_policy, options={"record_types": ["MX"]})
    assert (one.outcome, one.error) == ("down", "bare.partner.test has no MX record")
    assert one.failed_checks == [one.error] and one.details["records"] == {"MX": []}
    two = run("dns", "bare.partner.test", dns_policy, options={"record_types": ["A", "MX", "TXT"]})
    assert two.error == "bare.partner.test has no A or MX records"


def test_dns_a_name_that_does_not_exist_is_down(dns_policy: FetchPolicy) -> None:
    result = run("dns", "gone.partner.test", dns_policy)
    assert (result.outcome, result.error) == ("down", "DNS lookup failed for gone.partner.test: no such name")
    assert result.timings.dns_ms is not None


def test_dns_check_refuses_bad_options() -> None:
    assert "record_types" in check("dns", options={"record_types": ["SRV"]})
    assert "record_types" in check("dns", options={"record_types": "A"})
    assert "record_types" in check("dns", options={"record_types": []})
    assert "checks" in check("dns", checks=("[STATUS] == 200",))
    assert check("dns", "http:///nothing") == {"url": "There is no host name to look up."}
    assert check("dns", "partner.test/claims", options={"record_types": ["a", "TXT"]}) == {}


# --- the registry and judging -------------------------------------------------------------------

def test_an_unknown_kind_is_refused_and_never_runs(policy: FetchPolicy) -> None:
    spec = ProbeSpec(kind="telnet", url="http://127.0.0.1/")
    assert probes.check(spec) == {
        "kind": "“telnet” is not a probe kind; use one of: http, content, tls, dns, json, journey."}
    result = probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))
    assert (result.outcome, result.error) == ("down", "Unknown probe kind “telnet”")


def test_a_kind_that_raises_becomes_down_and_is_logged(monkeypatch: pytest.MonkeyPatch, policy: FetchPolicy,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any) -> Finding:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(probes.KINDS["http"], "run", broken)
    monkeypatch.setattr(probes.KINDS["http"], "check", broken)
    spec = ProbeSpec(kind="http", url="http://127.0.0.1:9/")
    with caplog.at_level(logging.ERROR, logger="probes"):
        result = probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))
        problems = probes.check(spec)
    assert result.outcome == "down"
    assert result.error == "partnermon could not run this check (an internal error, logged for the team)"
    assert problems == {"kind": "partnermon could not check these settings (an internal error, logged for the team)."}
    assert len(caplog.records) == 2 and all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)
    assert "http://127.0.0.1:9/" in caplog.records[0].getMessage()


def test_check_reports_unusable_checks_and_timeout_instead_of_raising() -> None:
    assert check("http", checks="[STATUS] == 200") == {"checks": "Checks must be a list of expressions, one per line."}
    assert "position" in check("http", soft_checks=("[STATUS] ==",))["soft_checks"]
    assert "timeout_seconds" in check("http", timeout_seconds=0)
    assert check("http", checks=("[STATUS] == 200",), soft_checks=("[RESPONSE_TIME] < 2s",)) == {}


def test_judge_parses_each_list_of_checks_once(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"ok")
    spec = ProbeSpec(kind="http", url=probe_server.url("/"), checks=("[STATUS] == 200", '[BODY] == "ok"'),
                     soft_checks=("[RESPONSE_TIME] < 5s",))
    probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))
    before = base._parse_cached.cache_info()
    for _ in range(3):
        assert probes.run(spec, policy, dt.datetime.now(dt.timezone.utc)).outcome == "up"
    after = base._parse_cached.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 6
    assert base.parsed_checks(list(spec.checks)) is base.parsed_checks(spec.checks)
    for _ in range(2):                                  # errors are raised every time, never cached
        with pytest.raises(AssertionSyntaxError):
            base.parsed_checks(["[STATUS] =="])


def test_a_check_that_cannot_be_read_at_run_time_is_down(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"ok")
    spec = ProbeSpec(kind="http", url=probe_server.url("/"), checks=("[STATUS] ==",))   # never check()ed
    result = probes.run(spec, policy, dt.datetime.now(dt.timezone.utc))
    assert result.outcome == "down" and result.status == 200
    assert result.error is not None and result.error.startswith("A check could not be read: check 1:")
