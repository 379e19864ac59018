"""What a server's certificate says, read from its DER bytes, and its problems in plain words.

``probes.fetch`` hands over the certificate a server presented (``getpeercert(binary_form=True)``,
which works even when verification failed) and what OpenSSL's verification said; this module reads the
names and dates itself, because Python only decodes certificates that passed verification, and the
point of a certificate check is to explain the ones that did not.

Pure: no sockets, no clock (``now`` is passed in). The DER reader covers what X.509 server certificates
use; anything it cannot read raises ``CertificateParseError``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

# Attribute type OIDs (DER content bytes) shown in a subject or issuer.
_OID_CN = bytes.fromhex("550403")
_OID_O = bytes.fromhex("55040a")
_OID_SAN = bytes.fromhex("551d11")

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


# --- DER ----------------------------------------------------------------------------------------

def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateParseError("truncated element")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise CertificateParseError("multi-byte tags are not used in certificates")
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or pos + count > len(data):
            raise CertificateParseError("bad length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise CertificateParseError("element runs past the end")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, s, e = _tlv(data, start)
        out.append((tag, s, e))
        start = e
    return out


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:                                   # BMPString
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:                                   # UniversalString
        return raw.decode("utf-32-be", "replace")
    if tag == 0x14:                                   # T61String: latin-1 is the usual reality
        return raw.decode("latin-1")
    return raw.decode("utf-8", "replace")            # UTF8String, PrintableString, IA5String


def _name(data: bytes, start: int, end: int) -> str:
    """"common name (organisation)" — the parts a person recognises; the full DN would be noise."""
    common = organisation = None
    for _, rs, re_ in _children(data, start, end):              # RDN sets
        for _, as_, ae in _children(data, rs, re_):             # AttributeTypeAndValue
            (otag, os_, oe), (vtag, vs, ve) = _children(data, as_, ae)[:2]
            oid = data[os_:oe]
            if oid == _OID_CN and common is None:
                common = _string(vtag, data[vs:ve])
            elif oid == _OID_O and organisation is None:
                organisation = _string(vtag, data[vs:ve])
    if common and organisation and organisation != common:
        return f"{common} ({organisation})"
    return common or organisation or "(no name)"


def _common_name(data: bytes, start: int, end: int) -> str | None:
    for _, rs, re_ in _children(data, start, end):
        for _, as_, ae in _children(data, rs, re_):
            (_, os_, oe), (vtag, vs, ve) = _children(data, as_, ae)[:2]
            if data[os_:oe] == _OID_CN:
                return _string(vtag, data[vs:ve])
    return None


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:                                   # UTCTime: YYMMDDHHMM[SS]
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:                                 # GeneralizedTime: YYYYMMDDHHMMSS[.fff]
        raise CertificateParseError("not a time")
    text = text.split(".", 1)[0]
    fmt = "%Y%m%d%H%M%S" if len(text) == 14 else "%Y%m%d%H%M"
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)


def parse_der(der: bytes) -> CertificateInfo:
    """Subject, issuer, validity and subjectAltName of a DER certificate (nothing verified)."""
    try:
        _, cs, ce = _tlv(der, 0)
        _, ts, te = _children(der, cs, ce)[0]                   # tbsCertificate
        fields = _children(der, ts, te)
        if fields and fields[0][0] == 0xA0:                      # [0] version
            fields = fields[1:]
        # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
        issuer, validity, subject = fields[2], fields[3], fields[4]
        (b_tag, bs, be), (a_tag, as_, ae) = _children(der, validity[1], validity[2])[:2]
        info = CertificateInfo(
            subject=_name(der, subject[1], subject[2]),
            issuer=_name(der, issuer[1], issuer[2]),
            not_before=_time(b_tag, der[bs:be]),
            not_after=_time(a_tag, der[as_:ae]),
            names=_san(der, fields[6:]),
        )
        if not info.names:
            cn = _common_name(der, subject[1], subject[2])
            info.names = [cn] if cn else []
        return info
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise CertificateParseError(f"unreadable certificate: {exc}") from None


def _san(der: bytes, optional_fields: list[tuple[int, int, int]]) -> list[str]:
    names: list[str] = []
    for tag, s, e in optional_fields:
        if tag != 0xA3:                                          # [3] extensions
            continue
        (_, xs, xe), = _children(der, s, e)
        for _, es, ee in _children(der, xs, xe):                 # Extension
            parts = _children(der, es, ee)
            if der[parts[0][1]:parts[0][2]] != _OID_SAN:
                continue
            _, vs, ve = parts[-1]                                # extnValue OCTET STRING
            _, gs, ge = _tlv(der, vs)                            # GeneralNames SEQUENCE
            for gtag, ns, ne in _children(der, gs, ge):
                if gtag == 0x82:                                 # dNSName
                    names.append(der[ns:ne].decode("ascii", "replace"))
                elif gtag == 0x87 and ne - ns in (4, 16):        # iPAddress
                    names.append(str(ipaddress.ip_address(der[ns:ne])))
    return names


# --- judging ------------------------------------------------------------------------------------

def name_matches(names: list[str], host: str) -> bool:
    """RFC 6125 matching as browsers do it: exact, or one wildcard as the whole left-most label."""
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
