"""What a server's certificate says, and its problems in plain words.

``probes.fetch`` hands over the certificate a server presented (``getpeercert(binary_form=True)``,
which works even when verification failed) and what OpenSSL's verification said. The DER bytes are read
with ``cryptography.x509`` rather than ``getpeercert()``, because Python only decodes certificates that
passed verification, and the point of a certificate check is to explain the ones that did not.

Pure: no sockets, no clock (``now`` is passed in). It never decides trust: that is OpenSSL's verdict,
passed in. A certificate ``cryptography`` cannot read raises ``CertificateParseError``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID

# OpenSSL X509_V_ERR_* codes that have a plainer sentence than OpenSSL's own.
_SELF_SIGNED = {18, 19}                     # depth-zero self-signed, self-signed in chain
_UNTRUSTED = {2, 20, 21, 27}                # issuer unknown / unable to verify leaf / not trusted
_EXPIRED, _NOT_YET_VALID, _HOST_MISMATCH, _IP_MISMATCH = 10, 9, 62, 64


class CertificateParseError(ValueError):
    pass


@dataclass
class CertificateInfo:
    subject: str
    issuer: str
    not_before: datetime          # UTC, aware
    not_after: datetime           # UTC, aware
    names: list[str] = field(default_factory=list)     # subjectAltName DNS names and IPs (else the CN)
    hostname_matches: bool = False
    verified: bool = False        # chain, name and dates verified against the trust store by OpenSSL
    problem: str | None = None    # why it is not verified, in plain words; None when verified

    def days_left(self, now: datetime) -> float:
        """Days until it expires (negative once it has)."""
        return (self.not_after - now).total_seconds() / 86400


# --- reading ------------------------------------------------------------------------------------

def _name(name: x509.Name) -> str:
    """"common name (organisation)" — the parts a person recognises; the full DN would be noise."""
    common = _first(name, NameOID.COMMON_NAME)
    organisation = _first(name, NameOID.ORGANIZATION_NAME)
    if common and organisation and organisation != common:
        return f"{common} ({organisation})"
    return common or organisation or "(no name)"


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    for attribute in name.get_attributes_for_oid(oid):
        value = attribute.value
        return value if isinstance(value, str) else value.decode("latin-1")
    return None


def _alt_names(cert: x509.Certificate) -> list[str]:
    """subjectAltName DNS names and IP addresses, in the certificate's order (other kinds are skipped)."""
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = []
    for general in alt:
        if isinstance(general, x509.DNSName):
            names.append(general.value)
        elif isinstance(general, x509.IPAddress):
            names.append(str(general.value))
    return names


def read_certificate(der: bytes) -> CertificateInfo:
    """Subject, issuer, validity and subjectAltName of a DER certificate (nothing verified)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        info = CertificateInfo(subject=_name(cert.subject), issuer=_name(cert.issuer),
                               not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                               names=_alt_names(cert))
        if not info.names:                               # no subjectAltName: the common name is the name
            common = _first(cert.subject, NameOID.COMMON_NAME)
            info.names = [common] if common else []
        return info
    # cryptography parses extensions lazily and reports a malformed or duplicated one with its own classes.
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise CertificateParseError(f"unreadable certificate: {exc}") from None


# --- judging ------------------------------------------------------------------------------------

def name_matches(names: list[str], host: str) -> bool:
    """RFC 6125 matching as browsers do it: exact, or one wildcard as the whole left-most label.

    Only for certificates that failed verification (OpenSSL matched the verified ones). Kept here because
    ``ssl.match_hostname`` is gone since Python 3.12 and ``cryptography`` matches names only inside its
    full chain verifier, which would also need the chain and trust store this check is explaining."""
    host = host.lower().rstrip(".")
    try:
        host_ip = ipaddress.ip_address(host)
    except ValueError:
        host_ip = None
    for name in names:
        name = name.lower().rstrip(".")
        if host_ip is not None:
            try:
                if ipaddress.ip_address(name) == host_ip:
                    return True
            except ValueError:
                pass
            continue
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == name[2:] and "." in rest:
                return True
    return False


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _span(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds >= 86400:
        return _count(int(seconds // 86400), "day")
    if seconds >= 3600:
        return _count(int(seconds // 3600), "hour")
    return _count(max(1, int(seconds // 60)), "minute")


def _names_text(names: list[str]) -> str:
    if not names:
        return "no name at all"
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def describe_problem(info: CertificateInfo, host: str, now: datetime, *,
                     verify_code: int | None = None, verify_message: str | None = None) -> str | None:
    """The first thing a practice owner should hear about, or None when nothing is wrong.

    Dates and names are judged here from the certificate itself; trust can only come from OpenSSL
    (``verify_code``/``verify_message`` of the failed handshake, None when it succeeded)."""
    if now > info.not_after:
        return f"Certificate expired {_span(now - info.not_after)} ago"
    if now < info.not_before:
        return (f"Certificate is not valid until {info.not_before:%Y-%m-%d %H:%M} UTC "
                f"({_span(info.not_before - now)} from now)")
    if not info.hostname_matches:
        return f"Certificate is for {_names_text(info.names)}, not {host}"
    if verify_code is None and verify_message is None:
        return None
    if verify_code in _SELF_SIGNED:
        return "Certificate is not issued by a trusted authority (self-signed)"
    if verify_code in _UNTRUSTED:
        return f"Certificate is not issued by a trusted authority (issuer: {info.issuer})"
    if verify_code == _EXPIRED:                     # an intermediate expired; the leaf itself is in date
        return "A certificate in the chain has expired"
    if verify_code == _NOT_YET_VALID:
        return "A certificate in the chain is not valid yet"
    if verify_code in (_HOST_MISMATCH, _IP_MISMATCH):
        return f"Certificate is for {_names_text(info.names)}, not {host}"
    detail = (verify_message or "unknown reason").strip().rstrip(".")
    return f"Certificate could not be verified: {detail[:1].lower() + detail[1:]}"
