"""probes.fetch against real servers on loopback: responses, timings, framing, redirects, the byte cap,
the deadlines, broken connections, TLS and certificate reading, and DNS record lookups.

Nothing is mocked. The only waits are the servers' own deliberate slowness (drip, delay); elapsed times
are asserted only generously, to prove a deadline held.
"""

from __future__ import annotations

import gzip
import json
import pickle
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

from probes.certinfo import describe_problem, name_matches
from probes.fetch import (
    DEFAULT_USER_AGENT, CertificateInfo, FetchError, FetchPolicy, FetchResponse, fetch, fetch_certificate, lookup,
)
from probes.spec import Timings
from tests.dns_server import DnsServer, dns_server, make_dns_server  # noqa: F401 - fixtures
from tests.probe_servers import (  # noqa: F401 - fixtures
    DrippingTlsServer, ProbeCerts, ProbeServer, fake_resolver, https_server, make_probe_server, policy, probe_certs, probe_server,
)


def echoed(response: FetchResponse) -> dict:
    return json.loads(response.body)


def header_of(echo: dict, name: str) -> list[str]:
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]


# --- responses ----------------------------------------------------------------------------------

def test_status_headers_and_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", status=201, body="<h1>Lodge a claim</h1>",
                       headers={"Content-Type": "text/html; charset=utf-8", "X-Partner": "yes"})
    response = fetch(probe_server.url("/"), policy=policy)
    assert (response.status, response.reason) == (201, "Created")
    assert response.body == b"<h1>Lodge a claim</h1>" and response.text() == "<h1>Lodge a claim</h1>"
    assert response.header("x-partner") == "yes" and response.header("CONTENT-TYPE").startswith("text/html")
    assert response.header("missing") is None
    assert ("X-Partner", "yes") in response.headers
    assert response.url == probe_server.url("/") and response.redirects == []
    assert response.peer_address == "127.0.0.1" and response.certificate is None
    assert response.bytes_read == 22 and not response.truncated


def test_error_statuses_are_responses_not_errors(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/down", status=503, body=b"maintenance")
    response = fetch(probe_server.url("/down"), policy=policy)
    assert response.status == 503 and response.body == b"maintenance"
    assert fetch(probe_server.url("/nowhere"), policy=policy).status == 404


def test_timings_are_split_and_ordered(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"ok", delay=0.2)
    resolver = fake_resolver({"partner.test": ["127.0.0.1"]})
    response = fetch(probe_server.url("/", host="partner.test"), policy=policy.with_changes(resolver=resolver))
    t = response.timings
    assert None not in (t.dns_ms, t.connect_ms, t.first_byte_ms, t.total_ms) and t.tls_ms is None
    assert t.first_byte_ms >= 190                                   # the server's delay is before the first byte
    assert t.dns_ms + t.connect_ms + t.first_byte_ms <= t.total_ms
    # a literal address is not looked up: no DNS time at all
    assert fetch(probe_server.url("/"), policy=policy).timings.dns_ms is None


def test_identifies_itself_and_sends_what_http_needs(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.echo("/echo")
    echo = echoed(fetch(probe_server.url("/echo?q=1"), policy=policy))
    assert echo["method"] == "GET" and echo["path"] == "/echo?q=1"
    assert header_of(echo, "User-Agent") == [DEFAULT_USER_AGENT]
    assert header_of(echo, "Accept-Encoding") == ["identity"]
    assert header_of(echo, "Connection") == ["close"]
    assert header_of(echo, "Host") == [f"127.0.0.1:{probe_server.port}"]     # port: not the default
    custom = policy.with_changes(user_agent="partnermon-probe/test")
    assert header_of(echoed(fetch(probe_server.url("/echo"), policy=custom)), "User-Agent") == ["partnermon-probe/test"]


def test_post_with_headers_and_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.echo("/echo")
    response = fetch(probe_server.url("/echo"), policy=policy, method="post", body='{"n": "Zoë"}',
                     headers=[("Content-Type", "application/json"), ("X-Token", "abc"),
                              ("Host", "evil.test"), ("Content-Length", "999")])
    echo = echoed(response)
    assert echo["method"] == "POST" and echo["body"] == '{"n": "Zoë"}'
    assert header_of(echo, "X-Token") == ["abc"]
    # framing and Host are fetch's own: a caller's copies are dropped, never sent twice
    assert header_of(echo, "Host") == [f"127.0.0.1:{probe_server.port}"]
    assert header_of(echo, "Content-Length") == [str(len('{"n": "Zoë"}'.encode()))]


@pytest.mark.parametrize("headers", [[("X-Evil", "a\r\nInjected: 1")], [("Bad Name", "x")]])
def test_header_injection_is_refused(probe_server: ProbeServer, policy: FetchPolicy, headers) -> None:
    probe_server.echo("/echo")
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/echo"), policy=policy, headers=headers)
    assert caught.value.phase == "request" and probe_server.hits("/echo") == 0


def test_head_reads_no_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"a body that HEAD must not wait for")
    response = fetch(probe_server.url("/"), policy=policy, method="HEAD")
    assert response.status == 200 and response.body == b"" and response.header("content-length") == "34"


def test_chunked_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.chunked("/parts", [b"Call us ", b"on 0800 ", b"123 456"])
    response = fetch(probe_server.url("/parts"), policy=policy)
    assert response.body == b"Call us on 0800 123 456" and not response.truncated


def test_charset_from_content_type(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/latin", body="Café".encode("latin-1"), headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    probe_server.route("/bad", body=b"caf\xe9")
    assert fetch(probe_server.url("/latin"), policy=policy).text() == "Café"
    assert fetch(probe_server.url("/bad"), policy=policy).text() == "caf\ufffd"     # utf-8, replacing


def test_gzip_sent_anyway_is_decoded_and_capped_after_decoding(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    page = b"<p>Contact us</p>" * 10_000
    probe_server.route("/gz", body=gzip.compress(page), headers={"Content-Encoding": "gzip"})
    assert fetch(probe_server.url("/gz"), policy=policy).body == page
    capped = fetch(probe_server.url("/gz"), policy=policy.with_changes(max_bytes=1000))
    assert capped.body == page[:1000] and capped.truncated


# --- redirects ----------------------------------------------------------------------------------

def test_relative_and_absolute_redirects(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/new/page", body=b"here")
    probe_server.redirect("/old", "new/page", status=301)                  # relative to /old
    probe_server.redirect("/abs", probe_server.url("/old"), status=308)
    response = fetch(probe_server.url("/abs"), policy=policy)
    assert response.status == 200 and response.body == b"here"
    assert response.url == probe_server.url("/new/page")
    assert response.redirects == [probe_server.url("/abs"), probe_server.url("/old")]


def test_a_chain_of_five_redirects_is_followed(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    first = probe_server.redirect_chain("/hop", 5)
    response = fetch(probe_server.url(first), policy=policy)
    assert response.body == b"arrived" and len(response.redirects) == 5


def test_six_redirects_are_too_many(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    first = probe_server.redirect_chain("/hop", 6)
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url(first), policy=policy)
    assert caught.value.phase == "redirect" and str(caught.value) == "Gave up after 5 redirects"
    assert probe_server.hits("/hop/6") == 0


def test_a_redirect_loop_says_so(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/a", "/b")
    probe_server.redirect("/b", "/a")
    with pytest.raises(FetchError, match=r"^Gave up after 5 redirects \(they go round in a loop\)$"):
        fetch(probe_server.url("/a"), policy=policy)


def test_post_then_303_becomes_get_without_the_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/form", "/thanks", status=303)
    probe_server.echo("/thanks")
    echo = echoed(fetch(probe_server.url("/form"), policy=policy, method="POST", body=b"name=Ann",
                        headers=[("Content-Type", "application/x-www-form-urlencoded")]))
    assert echo["method"] == "GET" and echo["body"] == "" and not header_of(echo, "Content-Type")
    assert probe_server.last("/form").body == b"name=Ann"


def test_307_keeps_method_and_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/api", "/api2", status=307)
    probe_server.echo("/api2")
    echo = echoed(fetch(probe_server.url("/api"), policy=policy, method="POST", body=b"{}"))
    assert echo["method"] == "POST" and echo["body"] == "{}"


def test_redirects_not_followed_when_asked(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/old", "/new")
    response = fetch(probe_server.url("/old"), policy=policy, follow_redirects=False)
    assert response.status == 302 and response.header("location") == "/new" and probe_server.hits("/new") == 0


def test_only_redirect_statuses_with_a_location_are_followed(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/300", status=300, headers={"Location": "/x"})
    probe_server.route("/302-nowhere", status=302, body=b"no location")
    assert fetch(probe_server.url("/300"), policy=policy).status == 300
    assert fetch(probe_server.url("/302-nowhere"), policy=policy).body == b"no location"
    assert probe_server.hits("/x") == 0


def test_credentials_do_not_follow_a_redirect_to_another_site(make_probe_server, policy: FetchPolicy) -> None:
    here, elsewhere = make_probe_server(), make_probe_server()
    here.redirect("/login", elsewhere.url("/landing"))
    elsewhere.echo("/landing")
    echo = echoed(fetch(here.url("/login"), policy=policy, headers=[("Authorization", "Bearer s3cret"),
                                                                      ("X-Keep", "1")]))
    assert not header_of(echo, "Authorization") and header_of(echo, "X-Keep") == ["1"]


# --- the byte cap and the deadlines -------------------------------------------------------------

@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_body_stops_at_the_cap(probe_server: ProbeServer, policy: FetchPolicy, chunked: bool) -> None:
    probe_server.huge("/big", size=50_000_000, chunked=chunked)
    started = time.perf_counter()
    response = fetch(probe_server.url("/big"), policy=policy.with_changes(max_bytes=100_000))
    assert response.truncated and response.body == b"x" * 100_000 and response.bytes_read == 100_000
    assert time.perf_counter() - started < 3


def test_a_body_exactly_at_the_cap_is_not_truncated(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"z" * 500)
    response = fetch(probe_server.url("/"), policy=policy.with_changes(max_bytes=500))
    assert response.body == b"z" * 500 and not response.truncated


def test_a_dripping_body_is_cut_off_by_the_total_deadline(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.drip("/drip", n=100, interval=0.1)         # each read succeeds; only the total can stop it
    started = time.perf_counter()
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/drip"), policy=policy.with_changes(total_timeout=1.0, read_timeout=5.0))
    assert time.perf_counter() - started < 3
    assert caught.value.phase == "timeout"
    assert str(caught.value) == "Took longer than the 1 s limit for the whole request (while reading the page)"
    assert caught.value.timings.first_byte_ms is not None and caught.value.timings.total_ms >= 1000


def test_dripping_headers_are_cut_off_by_the_total_deadline(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.drip_headers("/slow", n=100, interval=0.1)
    started = time.perf_counter()
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/slow"), policy=policy.with_changes(total_timeout=1.0, read_timeout=5.0))
    assert time.perf_counter() - started < 3
    assert caught.value.phase == "timeout" and "reading the headers" in str(caught.value)


def test_no_first_byte_within_the_read_timeout(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"late", delay=3)
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/"), policy=policy.with_changes(read_timeout=0.3, total_timeout=5))
    assert caught.value.phase == "first_byte" and str(caught.value) == "No first byte within 0.3 s"


def test_the_deadline_covers_redirects_too(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    for i in range(5):
        probe_server.handle(f"/s/{i}", lambda h, r, i=i: h.respond(302, b"", {"Location": f"/s/{i + 1}"}), delay=0.3)
    probe_server.route("/s/5", body=b"end")
    started = time.perf_counter()
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/s/0"), policy=policy.with_changes(total_timeout=1.0))
    assert caught.value.phase == "timeout" and time.perf_counter() - started < 3


# --- broken connections -------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused(policy: FetchPolicy) -> None:
    port = _closed_port()
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/", policy=policy)
    assert caught.value.phase == "connect"
    assert str(caught.value) == f"Could not connect to 127.0.0.1 (127.0.0.1:{port}): connection refused"
    assert caught.value.timings.connect_ms is not None


def test_a_dropped_connection_mid_body(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.drop("/cut", after=100, announce=1000)
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/cut"), policy=policy)
    assert caught.value.phase == "read" and str(caught.value) == "The connection closed after 100 of 1,000 bytes"


def test_a_reset_connection(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.drop("/rst", after=10, announce=1000, reset=True)
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/rst"), policy=policy)
    assert caught.value.phase == "read" and "Errno" not in str(caught.value)


def test_a_server_that_does_not_speak_http(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.raw("/ssh", b"SSH-2.0-OpenSSH_9.6\r\n")
    probe_server.raw("/silent", b"")
    with pytest.raises(FetchError, match="did not answer with HTTP") as caught:
        fetch(probe_server.url("/ssh"), policy=policy)
    assert caught.value.phase == "read"
    with pytest.raises(FetchError, match="^The server closed the connection without answering$") as caught:
        fetch(probe_server.url("/silent"), policy=policy)
    assert caught.value.phase == "first_byte"


def test_errors_survive_pickling_with_their_phase_and_timings() -> None:
    error = pickle.loads(pickle.dumps(FetchError("No first byte within 1 s", "first_byte", Timings(connect_ms=1.0))))
    assert (str(error), error.phase, error.timings.connect_ms) == ("No first byte within 1 s", "first_byte", 1.0)


def test_policy_is_checked_when_made() -> None:
    with pytest.raises(ValueError, match="not an IP network"):
        FetchPolicy(allow_cidrs=("10.0.0.0/33",))
    with pytest.raises(ValueError):
        FetchPolicy(total_timeout=0)
    with pytest.raises(ValueError, match="not a DNS server address"):
        FetchPolicy(dns_nameservers=("dns.example:53",))
    assert FetchPolicy(dns_nameservers=("1.1.1.1", "127.0.0.1:5353", "[::1]:53", "::1")).dns_nameservers
    assert FetchPolicy(allow_cidrs=["127.0.0.1/32"]).allow_cidrs == ("127.0.0.1/32",)  # type: ignore[arg-type]


# --- TLS ----------------------------------------------------------------------------------------

def test_https_with_a_trusted_certificate(https_server: ProbeServer, policy: FetchPolicy) -> None:
    https_server.route("/", body=b"secure")
    response = fetch(https_server.url("/"), policy=policy)
    assert response.status == 200 and response.body == b"secure"
    assert response.timings.tls_ms is not None and response.timings.connect_ms is not None
    cert = response.certificate
    assert cert is not None and cert.verified and cert.hostname_matches and cert.problem is None
    assert 29 < cert.days_left(datetime.now(timezone.utc)) <= 30 and "127.0.0.1" in cert.names


def test_https_needs_the_ca_to_be_trusted(https_server: ProbeServer, policy: FetchPolicy) -> None:
    https_server.route("/", body=b"secure")
    with pytest.raises(FetchError) as caught:
        fetch(https_server.url("/"), policy=policy.with_changes(ca_file=None))
    assert caught.value.phase == "tls"
    assert str(caught.value).startswith("Certificate is not issued by a trusted authority (issuer: partnermon probe test CA")


@pytest.mark.parametrize("variant, message", [
    ("expired", "Certificate expired 3 days ago"),
    ("wrong_host", "Certificate is for other.test, not 127.0.0.1"),
    ("self_signed", "Certificate is not issued by a trusted authority (self-signed)"),
])
def test_https_with_a_bad_certificate(make_probe_server, policy: FetchPolicy, variant: str, message: str) -> None:
    server = make_probe_server(variant)
    server.route("/", body=b"never")
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/"), policy=policy)
    assert caught.value.phase == "tls" and str(caught.value) == message
    assert server.hits("/") == 0                                   # no request went over it


def test_a_dripping_tls_record_is_cut_off_by_the_total_deadline(probe_certs: ProbeCerts,
                                                                policy: FetchPolicy) -> None:
    server = DrippingTlsServer(probe_certs.valid.server_context(), interval=0.05).start()
    try:
        started = time.perf_counter()
        with pytest.raises(FetchError) as caught:
            fetch(server.url("/"), policy=policy.with_changes(total_timeout=1.0, read_timeout=5.0))
        assert time.perf_counter() - started < 3 and caught.value.phase == "timeout"
    finally:
        server.stop()


def test_a_server_that_never_answers_the_tls_handshake(policy: FetchPolicy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:       # the kernel accepts; nobody speaks
        port = listener.getsockname()[1]
        with pytest.raises(FetchError) as caught:
            fetch(f"https://127.0.0.1:{port}/", policy=policy.with_changes(read_timeout=0.3))
        assert caught.value.phase == "tls"
        assert str(caught.value) == "No answer to the secure (TLS) handshake from 127.0.0.1 within 0.3 s"
        with pytest.raises(FetchError) as caught:
            fetch(f"http://127.0.0.1:{port}/", policy=policy.with_changes(read_timeout=0.3))
        assert caught.value.phase == "first_byte" and caught.value.timings.connect_ms is not None


def test_https_to_a_plain_http_server(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(probe_server.url("/").replace("http://", "https://"), policy=policy)
    assert caught.value.phase == "tls" and "Errno" not in str(caught.value)


def test_fetch_certificate_of_a_valid_site(https_server: ProbeServer, policy: FetchPolicy) -> None:
    cert = fetch_certificate(https_server.url("/"), policy=policy)
    now = datetime.now(timezone.utc)
    assert isinstance(cert, CertificateInfo) and cert.verified and cert.problem is None
    assert cert.subject == "localhost" and cert.issuer == "partnermon probe test CA (partnermon tests)"
    assert cert.names == ["localhost", "127.0.0.1", "::1", "partner.test"]
    assert cert.not_before < now < cert.not_after and cert.not_after.tzinfo is not None
    assert 29 < cert.days_left(now) <= 30


@pytest.mark.parametrize("variant, problem, matches", [
    ("expired", "Certificate expired 3 days ago", True),
    ("wrong_host", "Certificate is for other.test, not 127.0.0.1", False),
    ("self_signed", "Certificate is not issued by a trusted authority (self-signed)", True),
])
def test_fetch_certificate_reads_bad_certificates(make_probe_server, policy: FetchPolicy, variant: str,
                                                  problem: str, matches: bool) -> None:
    server = make_probe_server(variant)
    cert = fetch_certificate(server.url("/"), policy=policy)
    assert not cert.verified and cert.problem == problem and cert.hostname_matches is matches
    if variant == "expired":
        assert -4 < cert.days_left(datetime.now(timezone.utc)) < -3
    assert server.requests == []                                   # a certificate read sends no request


@pytest.mark.parametrize("names, host, matches", [
    (["claims.example.com"], "claims.example.com", True),
    (["CLAIMS.example.com."], "claims.example.com", True),
    (["*.example.com"], "claims.example.com", True),
    (["*.example.com"], "example.com", False),                     # a wildcard needs a label
    (["*.example.com"], "a.claims.example.com", False),            # and covers one label only
    (["*.com"], "example.com", False),                             # never a whole top-level domain
    (["other.test"], "claims.example.com", False),
    (["127.0.0.1"], "127.0.0.1", True),
    (["localhost"], "127.0.0.1", False),                           # an IP matches IP entries only
])
def test_certificate_name_matching(names: list[str], host: str, matches: bool) -> None:
    assert name_matches(names, host) is matches


def test_certificate_problems_in_plain_words() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    cert = CertificateInfo(subject="claims.example.com", issuer="R3 (Let's Encrypt)", not_before=now + timedelta(days=2),
                           not_after=now + timedelta(days=90), names=["claims.example.com"], hostname_matches=True)
    assert describe_problem(cert, "claims.example.com", now) == \
        "Certificate is not valid until 2026-11-25 10:00 UTC (2 days from now)"
    cert.not_before, cert.not_after = now - timedelta(days=90), now - timedelta(hours=5)
    assert describe_problem(cert, "claims.example.com", now) == "Certificate expired 5 hours ago"
    cert.not_after = now + timedelta(days=10)
    assert describe_problem(cert, "claims.example.com", now) is None
    assert describe_problem(cert, "claims.example.com", now, verify_code=20, verify_message="unable to get "
                            "local issuer certificate") == \
        "Certificate is not issued by a trusted authority (issuer: R3 (Let's Encrypt))"
    assert describe_problem(cert, "claims.example.com", now, verify_code=26, verify_message="Unsupported purpose") \
        == "Certificate could not be verified: unsupported purpose"
    cert.names, cert.hostname_matches = [f"n{i}.example.com" for i in range(5)], False
    assert describe_problem(cert, "claims.example.com", now) == \
        "Certificate is for n0.example.com, n1.example.com, n2.example.com and 2 more, not claims.example.com"
    assert cert.days_left(now) == 10


def test_fetch_certificate_errors(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_certificate(probe_server.url("/"), policy=policy)
    assert caught.value.phase == "url" and "https://" in str(caught.value)
    with pytest.raises(FetchError) as caught:
        fetch_certificate(f"https://127.0.0.1:{_closed_port()}/", policy=policy)
    assert caught.value.phase == "connect"


# --- DNS records --------------------------------------------------------------------------------

def test_lookup_records(dns_server: DnsServer, policy: FetchPolicy) -> None:
    use = policy.with_changes(dns_nameservers=(dns_server.address,))
    records = lookup("partner.test", ["A", "AAAA", "MX", "TXT", "CNAME"], policy=use)
    assert sorted(records["A"]) == ["192.0.2.10", "192.0.2.11"] and records["AAAA"] == ["2001:db8::10"]
    assert sorted(records["MX"]) == ["10 mail.partner.test", "20 backup.partner.test"]
    assert sorted(records["TXT"]) == ["hello world", "v=spf1 -all"]
    assert records["CNAME"] == []                                  # no such record: an empty list
    aliased = lookup("www.partner.test.", ["cname", "A"], policy=use)
    assert aliased["CNAME"] == ["partner.test"] and sorted(aliased["A"]) == ["192.0.2.10", "192.0.2.11"]
    assert lookup("bare.partner.test", ["A"], policy=use) == {"A": []}


def test_lookup_failures(dns_server: DnsServer, policy: FetchPolicy) -> None:
    use = policy.with_changes(dns_nameservers=(dns_server.address,), total_timeout=0.5, read_timeout=0.2)
    with pytest.raises(FetchError) as caught:
        lookup("gone.partner.test", ["A"], policy=use)
    assert caught.value.phase == "dns" and str(caught.value) == "DNS lookup failed for gone.partner.test: no such name"
    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"^DNS lookup failed for slow.partner.test: no answer within 0.5 s$"):
        lookup("slow.partner.test", ["A"], policy=use)
    assert time.perf_counter() - started < 2
    with pytest.raises(FetchError, match="^DNS lookup failed for broken.partner.test"):
        lookup("broken.partner.test", ["A"], policy=use)
    with pytest.raises(FetchError, match="not a valid host name"):
        lookup("not a name", ["A"], policy=use)
    with pytest.raises(ValueError):
        lookup("partner.test", ["SRV"], policy=use)
