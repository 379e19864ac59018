"""Throw-away certificates for tests: a certificate authority that issues server certificates for any
names and dates, and self-signed ones — so TLS code is tested against real handshakes, including the
broken cases (expired, wrong name, untrusted).

    ca = CertAuthority(tmp_path)
    good = ca.issue("good", ["localhost", "127.0.0.1"])
    old = ca.issue("old", ["localhost"], not_after=now - timedelta(days=3))
    alone = self_signed(tmp_path, "alone", ["localhost"])
    context = good.server_context()      # for a test server; clients trust ca.cert_path
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class CertFiles:
    cert: Path                # the server certificate (PEM)
    key: Path                 # its private key (PEM, unencrypted)
    names: tuple[str, ...]    # DNS names and IP addresses it is for

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _alt_names(names: Sequence[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
           names: Sequence[str]) -> CertFiles:
    files = CertFiles(cert=directory / f"{stem}.pem", key=directory / f"{stem}.key", names=tuple(names))
    files.cert.write_bytes(cert.public_bytes(_PEM))
    files.key.write_bytes(key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


def _leaf(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
          signer: ec.EllipticCurvePrivateKey, names: Sequence[str],
          not_before: dt.datetime, not_after: dt.datetime) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    )
    if names:
        builder = builder.add_extension(_alt_names(names), critical=False)
    return builder.sign(signer, hashes.SHA256())


class CertAuthority:
    """A self-signed CA written to ``directory``; ``cert_path`` is what a client must trust."""

    def __init__(self, directory: Path, name: str = "partnermon probe test CA", organisation: str = "partnermon tests"):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = directory / "ca.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(_PEM))

    def issue(self, stem: str, names: Sequence[str], *, not_before: dt.datetime | None = None,
              not_after: dt.datetime | None = None) -> CertFiles:
        """A server certificate for ``names`` (the first is also the common name). By default valid
        from an hour ago for 30 days."""
        now = _now()
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else stem)])
        cert = _leaf(subject, self.name, key, self.key, names, not_before or now - dt.timedelta(hours=1),
                     not_after or now + dt.timedelta(days=30))
        return _write(self.directory, stem, cert, key, names)


def self_signed(directory: Path, stem: str, names: Sequence[str], *, days: int = 30) -> CertFiles:
    """A certificate that vouches for itself: no authority a client trusts issued it."""
    now = _now()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else stem)])
    cert = _leaf(subject, subject, key, key, names, now - dt.timedelta(hours=1), now + dt.timedelta(days=days))
    return _write(directory, stem, cert, key, names)
