"""The outbound safety rules (DESIGN.md §8) of probes.fetch, rule by rule: which addresses may be
probed, every way of writing a loopback address in a URL, redirects into the private network, names
that resolve to private addresses, and that the connection goes to the address that was checked while
TLS is verified for the name.

Refusals are proven against real servers on loopback: a refused probe must not reach them (hits == 0).
"""

from __future__ import annotations

import pytest

from probes.fetch import Blocked, FetchError, FetchPolicy, check_address, fetch, fetch_certificate
from tests.probe_servers import (  # noqa: F401 - fixtures
    ProbeServer, fake_resolver, https_server, make_probe_server, policy, probe_certs, probe_server,
)

NOTHING_ALLOWED = FetchPolicy()


@pytest.mark.parametrize("ip, reason", [
    # IPv4
    ("10.0.0.5", "10.0.0.5 is a private address"),
    ("172.16.3.4", "172.16.3.4 is a private address"),
    ("192.168.1.1", "192.168.1.1 is a private address"),
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("127.255.0.9", "127.255.0.9 is a loopback address"),
    ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ("100.64.0.1", "100.64.0.1 is a shared (CGNAT) address"),
    ("100.127.255.254", "100.127.255.254 is a shared (CGNAT) address"),
    ("224.0.0.251", "224.0.0.251 is a multicast address"),
    ("0.0.0.0", "0.0.0.0 is an unspecified address"),
    ("0.1.2.3", "0.1.2.3 is a reserved address"),
    ("255.255.255.255", "255.255.255.255 is a broadcast address"),
    ("240.0.0.1", "240.0.0.1 is a reserved address"),
    ("192.0.0.8", "192.0.0.8 is a reserved address"),
    ("192.0.2.1", "192.0.2.1 is a documentation address"),
    ("198.51.100.7", "198.51.100.7 is a documentation address"),
    ("203.0.113.5", "203.0.113.5 is a documentation address"),
    ("198.18.0.1", "198.18.0.1 is a benchmarking address"),
    # IPv6
    ("::1", "::1 is a loopback address"),
    ("::", ":: is an unspecified address"),
    ("fe80::1", "fe80::1 is a link-local address"),
    ("fe80::1%eth0", "fe80::1%eth0 is a link-local address"),
    ("fc00::1", "fc00::1 is a private address"),
    ("fd12:3456::1", "fd12:3456::1 is a private address"),
    ("ff02::1", "ff02::1 is a multicast address"),
    ("2001:db8::1", "2001:db8::1 is a documentation address"),
    ("100::1", "100::1 is a reserved address"),
    ("2001::1", "2001::1 is a reserved address"),                 # Teredo
    # IPv6 forms carrying an IPv4 address are judged by it
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1 is an IPv4-mapped private address"),
    ("::ffff:127.0.0.1", "::ffff:127.0.0.1 is an IPv4-mapped loopback address"),
    ("::ffff:7f00:1", "::ffff:7f00:1 is an IPv4-mapped loopback address (127.0.0.1)"),
    ("::ffff:169.254.169.254", "::ffff:169.254.169.254 is an IPv4-mapped link-local address"),
    ("::127.0.0.1", "::127.0.0.1 is an IPv4-compatible loopback address"),
    ("64:ff9b::7f00:1", "64:ff9b::7f00:1 is a NAT64 loopback address (127.0.0.1)"),
    ("64:ff9b::a00:5", "64:ff9b::a00:5 is a NAT64 private address (10.0.0.5)"),
    ("2002:7f00:1::", "2002:7f00:1:: is a 6to4 loopback address (127.0.0.1)"),
    ("2002:a9fe:a9fe::1", "2002:a9fe:a9fe::1 is a 6to4 link-local address (169.254.169.254)"),
    # not an address at all (a broken resolver)
    ("localhost", "localhost is not an IP address"),
])
def test_addresses_that_are_refused(ip: str, reason: str) -> None:
    assert check_address(ip, NOTHING_ALLOWED) == reason


@pytest.mark.parametrize("ip", [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.169.0.1",
    "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
])
def test_public_addresses_are_allowed(ip: str) -> None:
    assert check_address(ip, NOTHING_ALLOWED) is None


def test_allow_cidrs_opens_exactly_what_is_listed() -> None:
    policy = FetchPolicy(allow_cidrs=("127.0.0.1/32", "10.20.0.0/16", "fd00::/8"))
    assert check_address("127.0.0.1", policy) is None
    assert check_address("::ffff:127.0.0.1", policy) is None               # the same address, mapped
    assert check_address("10.20.99.1", policy) is None and check_address("fd00::2", policy) is None
    assert check_address("127.0.0.2", policy) == "127.0.0.2 is a loopback address"
    assert check_address("10.21.0.1", policy) == "10.21.0.1 is a private address"
    assert check_address("::1", policy) == "::1 is a loopback address"


def test_allow_private_turns_the_address_rules_off() -> None:
    policy = FetchPolicy(allow_private=True)
    assert all(check_address(ip, policy) is None for ip in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"))


# --- URLs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("host, shown", [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("2130706433", "127.0.0.1 is a loopback address"),             # decimal
    ("0x7f000001", "127.0.0.1 is a loopback address"),             # hex
    ("0177.0.0.1", "127.0.0.1 is a loopback address"),             # octal
    ("017700000001", "127.0.0.1 is a loopback address"),
    ("127.1", "127.0.0.1 is a loopback address"),                  # short form
    ("0.0.0.0", "0.0.0.0 is an unspecified address"),              # reaches this machine on Linux
    ("[::1]", "::1 is a loopback address"),
    ("[::ffff:127.0.0.1]", "IPv4-mapped loopback address"),
    ("[0:0:0:0:0:ffff:7f00:1]", "IPv4-mapped loopback address"),
])
def test_every_spelling_of_loopback_is_refused(probe_server: ProbeServer, host: str, shown: str) -> None:
    probe_server.route("/", body=b"secret")
    with pytest.raises(Blocked) as caught:
        fetch(f"http://{host}:{probe_server.port}/", policy=NOTHING_ALLOWED)
    assert caught.value.phase == "blocked" and str(caught.value).startswith("blocked: ")
    assert shown in str(caught.value)
    assert probe_server.hits("/") == 0


def test_requests_own_pool_manager_refuses_so_a_skipped_check_fails_closed(probe_server: ProbeServer) -> None:
    """Every connection must come through the adapter's checked pools. If requests ever routed around them (as
    2.32.0–2.32.1 did), its stock pool manager would connect wherever the system resolver says: it refuses."""
    from probes.fetch_state import FetchState
    from probes.fetch_transport import _GuardedAdapter

    probe_server.route("/", body=b"secret")
    adapter = _GuardedAdapter(FetchState(NOTHING_ALLOWED))
    with pytest.raises(RuntimeError, match="skips the outbound address checks"):
        adapter.poolmanager.connection_from_url(probe_server.url("/"))
    adapter.close()
    assert probe_server.hits("/") == 0


def test_a_name_resolving_to_loopback_is_refused(probe_server: ProbeServer) -> None:
    probe_server.route("/", body=b"secret")
    with pytest.raises(Blocked) as caught:
        fetch(probe_server.url("/", host="localhost"), policy=NOTHING_ALLOWED)     # the system resolver
    assert "loopback address (localhost resolves to it)" in str(caught.value)
    assert probe_server.hits("/") == 0


@pytest.mark.parametrize("url", [
    "http://evil@127.0.0.1/", "http://partner.example@127.0.0.1/", "http://user:pass@partner.example/",
    "http://127.0.0.1\\@partner.example/",
])
def test_user_info_tricks_are_refused(url: str, policy: FetchPolicy) -> None:
    with pytest.raises(Blocked, match=r"user name or password"):
        fetch(url, policy=policy)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://partner.example/", "gopher://127.0.0.1:70/", "javascript:alert(1)",
    "data:text/html,hi", "dict://127.0.0.1:11211/", "127.0.0.1:8080/x", "//partner.example/",
])
def test_only_http_and_https_are_probed(url: str, policy: FetchPolicy) -> None:
    with pytest.raises(Blocked) as caught:
        fetch(url, policy=policy)
    assert str(caught.value) == "blocked: only http and https addresses can be probed"
    with pytest.raises(Blocked):
        fetch_certificate(url, policy=policy)


@pytest.mark.parametrize("url", ["http:///path", "http://:80/", "https://"])
def test_an_address_without_a_host_is_refused(url: str, policy: FetchPolicy) -> None:
    with pytest.raises(Blocked, match="no host name"):
        fetch(url, policy=policy)


@pytest.mark.parametrize("url", ["", "http://bad host/", "http://[::1/", "http://partner.example:99999/"])
def test_not_a_url(url: str, policy: FetchPolicy) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(url, policy=policy)
    assert caught.value.phase == "url"


# --- redirects and resolution ----------------------------------------------------------------------

def test_a_redirect_to_the_metadata_service_is_refused(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(Blocked, match=r"^blocked: 169.254.169.254 is a link-local address$"):
        fetch(probe_server.url("/"), policy=policy)


def test_a_redirect_to_a_private_name_never_connects_there(make_probe_server, policy: FetchPolicy) -> None:
    public, trap = make_probe_server(), make_probe_server(host="127.0.0.2")   # 127.0.0.2 is not allowed
    trap.route("/admin", body=b"secret")
    public.redirect("/", trap.url("/admin", host="internal.test"))
    public.redirect("/direct", trap.url("/admin"))
    public.redirect("/file", "file:///etc/passwd")
    resolver = fake_resolver({"internal.test": ["127.0.0.2"]})
    use = policy.with_changes(resolver=resolver)
    with pytest.raises(Blocked, match=r"^blocked: 127.0.0.2 is a loopback address \(internal.test resolves to it\)$"):
        fetch(public.url("/"), policy=use)
    with pytest.raises(Blocked, match=r"^blocked: 127.0.0.2 is a loopback address$"):
        fetch(public.url("/direct"), policy=use)
    with pytest.raises(Blocked, match="only http and https"):
        fetch(public.url("/file"), policy=use)
    assert trap.requests == [] and resolver.calls == ["internal.test"]
    # and the trap is real: with the rules off, the same redirect gets there
    assert fetch(public.url("/"), policy=use.with_changes(allow_private=True)).body == b"secret"


def test_a_name_with_one_private_address_among_public_ones_is_refused(probe_server: ProbeServer,
                                                                      policy: FetchPolicy) -> None:
    probe_server.route("/", body=b"ok")
    resolver = fake_resolver({"partner.test": ["93.184.216.34", "10.0.0.5"]})
    with pytest.raises(Blocked, match=r"^blocked: 10.0.0.5 is a private address \(partner.test resolves to it\)$"):
        fetch(probe_server.url("/", host="partner.test"), policy=policy.with_changes(resolver=resolver))
    resolver = fake_resolver({"partner.test": ["127.0.0.1", "127.0.0.2"]})         # allowed first, refused second
    with pytest.raises(Blocked):
        fetch(probe_server.url("/", host="partner.test"), policy=policy.with_changes(resolver=resolver))
    assert probe_server.hits("/") == 0


def test_each_redirect_hop_is_resolved_and_checked_once(probe_server: ProbeServer, policy: FetchPolicy) -> None:
    probe_server.redirect("/", probe_server.url("/two", host="b.test"))
    probe_server.route("/two", body=b"done")
    resolver = fake_resolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    response = fetch(probe_server.url("/", host="a.test"), policy=policy.with_changes(resolver=resolver))
    assert response.body == b"done" and resolver.calls == ["a.test", "b.test"]
    assert probe_server.last("/two").header("Host") == f"b.test:{probe_server.port}"


def test_dns_failure_is_a_sentence(policy: FetchPolicy) -> None:
    with pytest.raises(FetchError) as caught:
        fetch("https://claims.partner.test/", policy=policy.with_changes(resolver=fake_resolver({})))
    assert caught.value.phase == "dns"
    assert str(caught.value) == "DNS lookup failed for claims.partner.test: no such name"
    assert caught.value.timings.dns_ms is not None


# --- connect to the checked address, verify TLS for the name -----------------------------------------

def test_https_connects_to_the_checked_ip_and_verifies_the_name(https_server: ProbeServer, policy: FetchPolicy) -> None:
    https_server.echo("/echo")
    resolver = fake_resolver({"partner.test": ["127.0.0.1"]})
    response = fetch(https_server.url("/echo", host="partner.test"), policy=policy.with_changes(resolver=resolver))
    assert response.status == 200 and response.peer_address == "127.0.0.1"
    assert response.certificate is not None and response.certificate.verified
    assert resolver.calls == ["partner.test"]                      # one lookup: no second one to connect
    assert https_server.sni == ["partner.test"]                    # SNI carried the name, not the IP
    assert https_server.last("/echo").header("Host") == f"partner.test:{https_server.port}"


def test_a_certificate_for_another_name_fails_even_at_the_right_ip(make_probe_server, policy: FetchPolicy) -> None:
    server = make_probe_server("wrong_host")
    server.route("/", body=b"never")
    use = policy.with_changes(resolver=fake_resolver({"partner.test": ["127.0.0.1"]}))
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/", host="partner.test"), policy=use)
    assert caught.value.phase == "tls" and str(caught.value) == "Certificate is for other.test, not partner.test"
    cert = fetch_certificate(server.url("/", host="partner.test"), policy=use)
    assert not cert.verified and not cert.hostname_matches and cert.names == ["other.test"]
    assert server.hits("/") == 0


def test_certificate_reads_follow_the_same_rules(https_server: ProbeServer) -> None:
    with pytest.raises(Blocked, match="loopback"):
        fetch_certificate(https_server.url("/"), policy=NOTHING_ALLOWED)
    assert https_server.sni == []                                  # not even a handshake


def test_ipv6_loopback_when_allowed(make_probe_server, policy: FetchPolicy) -> None:
    server = make_probe_server("valid", host="::1")
    server.route("/", body=b"v6")
    with pytest.raises(Blocked):
        fetch(server.url("/"), policy=policy)
    response = fetch(server.url("/"), policy=policy.with_changes(allow_cidrs=("::1/128",)))
    assert response.body == b"v6" and response.peer_address == "::1" and response.certificate is not None
