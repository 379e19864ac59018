"""probes.certinfo on real certificates made by tests/certs.py: what is read from the DER bytes (names,
organisations, IP and wildcard subjectAltNames, dates) and, through a real handshake on loopback, the plain
words for wildcard, IP-only and not-yet-valid certificates. Expired, wrong-host and self-signed ones are
in test_probe_fetch.py.
"""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509

from probes.certinfo import CertificateInfo, CertificateParseError, read_certificate
from probes.fetch import FetchPolicy, fetch_certificate
from tests.certs import CertAuthority, CertFiles
from tests.probe_servers import ProbeServer, fake_resolver


def der_of(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    return CertAuthority(tmp_path_factory.mktemp("certinfo-ca"))


@pytest.fixture
def trusting(ca: CertAuthority) -> FetchPolicy:
    """A policy that trusts ``ca`` and resolves the partner.test names to loopback."""
    names = ("partner.test", "www.partner.test", "a.www.partner.test")
    return FetchPolicy(allow_cidrs=("127.0.0.1/32",), ca_file=str(ca.cert_path), connect_timeout=2.0,
                       read_timeout=3.0, total_timeout=5.0,
                       resolver=fake_resolver({name: ["127.0.0.1"] for name in names}))


def certificate_at(files: CertFiles, host: str, policy: FetchPolicy) -> CertificateInfo:
    server = ProbeServer(tls=files).start()
    try:
        return fetch_certificate(server.url("/", host=host), policy=policy)
    finally:
        server.stop()


def test_names_dates_and_ip_alt_names_are_read(ca: CertAuthority) -> None:
    files = ca.issue("mixed", ["claims.example.com", "192.0.2.7", "2001:db8::1", "*.example.com"])
    info = read_certificate(der_of(files.cert))
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert info.subject == "claims.example.com"
    assert info.issuer == "partnermon probe test CA (partnermon tests)"
    assert info.names == ["claims.example.com", "192.0.2.7", "2001:db8::1", "*.example.com"]   # in order
    assert info.not_before == cert.not_valid_before_utc and info.not_after == cert.not_valid_after_utc
    assert info.not_after.tzinfo is not None and info.not_after.utcoffset() == timedelta(0)
    assert not info.verified and not info.hostname_matches and info.problem is None   # nothing judged here


def test_without_alt_names_the_common_name_is_the_name(ca: CertAuthority) -> None:
    info = read_certificate(der_of(ca.cert_path))       # the CA: common name and organisation, no SAN
    assert info.subject == info.issuer == "partnermon probe test CA (partnermon tests)"
    assert info.names == ["partnermon probe test CA"]


def test_an_organisation_equal_to_the_common_name_is_said_once(tmp_path: Path) -> None:
    same = CertAuthority(tmp_path, name="Example Trust", organisation="Example Trust")
    assert read_certificate(der_of(same.cert_path)).subject == "Example Trust"


@pytest.mark.parametrize("der", [b"", b"\x30\x03\x02\x01\x01", b"not a certificate at all"])
def test_unreadable_bytes_raise_a_parse_error(der: bytes) -> None:
    with pytest.raises(CertificateParseError):
        read_certificate(der)


def test_a_truncated_certificate_raises_a_parse_error(ca: CertAuthority) -> None:
    der = der_of(ca.issue("cut", ["localhost"]).cert)
    with pytest.raises(CertificateParseError):
        read_certificate(der[:len(der) // 2])


def test_a_wildcard_certificate_covers_one_label(ca: CertAuthority, trusting: FetchPolicy) -> None:
    wild = ca.issue("wild", ["*.partner.test"])
    good = certificate_at(wild, "www.partner.test", trusting)
    assert good.verified and good.hostname_matches and good.problem is None and good.names == ["*.partner.test"]
    for host in ("a.www.partner.test", "partner.test"):
        bad = certificate_at(wild, host, trusting)
        assert not bad.verified and not bad.hostname_matches
        assert bad.problem == f"Certificate is for *.partner.test, not {host}"


def test_an_ip_only_certificate(ca: CertAuthority, trusting: FetchPolicy) -> None:
    only_ip = ca.issue("only-ip", ["127.0.0.1"])
    good = certificate_at(only_ip, "127.0.0.1", trusting)
    assert good.verified and good.names == ["127.0.0.1"]
    bad = certificate_at(only_ip, "partner.test", trusting)
    assert not bad.verified and bad.problem == "Certificate is for 127.0.0.1, not partner.test"


def test_a_certificate_not_valid_yet(ca: CertAuthority, trusting: FetchPolicy) -> None:
    now = datetime.now(timezone.utc)
    start = (now + timedelta(days=2, hours=1)).replace(second=0, microsecond=0)
    early = ca.issue("early", ["127.0.0.1"], not_before=start, not_after=now + timedelta(days=60))
    info = certificate_at(early, "127.0.0.1", trusting)
    assert not info.verified and info.hostname_matches and info.not_before == start
    assert info.problem == f"Certificate is not valid until {start:%Y-%m-%d %H:%M} UTC (2 days from now)"
