"""probes.fetch's reading of answers, with ``responses`` standing in for the partner (DESIGN.md §10: pure
parsing edge cases only). ``responses`` replaces the transport's send, so nothing here says anything about
sockets, addresses, TLS or deadlines: those are tests/test_probe_fetch.py's and test_probe_safety.py's,
against real servers on loopback.
"""

from __future__ import annotations

import zlib

import pytest
import responses

from probes.fetch import Blocked, FetchError, FetchPolicy, fetch

POLICY = FetchPolicy(allow_private=True)
SITE = "http://claims.partner.test"


@pytest.fixture
def partner():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("content_type, body, text", [
    ("text/html; charset=ISO-8859-1", "Café".encode("latin-1"), "Café"),
    ('text/html; charset="windows-1252"', "“Claims”".encode("cp1252"), "“Claims”"),
    ("text/html; Charset = UTF-8", "Zoë".encode(), "Zoë"),
    ("text/html; charset=no-such-charset", "Zoë".encode(), "Zoë"),          # unknown: read as UTF-8
    ("text/html", b"caf\xe9", "caf\ufffd"),                                   # no charset: UTF-8, replacing
])
def test_text_is_decoded_by_the_declared_charset(partner, content_type: str, body: bytes, text: str) -> None:
    partner.get(f"{SITE}/", body=body, headers={"Content-Type": content_type})
    assert fetch(f"{SITE}/", policy=POLICY).text() == text


def test_repeated_headers_are_kept_one_by_one(partner) -> None:
    partner.get(f"{SITE}/", body=b"ok", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Partner", "yes")])
    response = fetch(f"{SITE}/", policy=POLICY)
    assert [v for k, v in response.headers if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    assert response.header("x-partner") == "yes" and response.header("set-cookie") == "a=1"


@pytest.mark.parametrize("location, arrives", [
    ("../forms/claim?step=2", f"{SITE}/forms/claim?step=2"),
    ("//claims.partner.test/moved", f"{SITE}/moved"),                         # scheme-relative
    ("  /spaced  ", f"{SITE}/spaced"),                                        # stray spaces around it
    ("/caf%C3%A9", f"{SITE}/caf%C3%A9"),
])
def test_the_location_of_a_redirect_is_read_against_the_page_it_came_from(partner, location: str,
                                                                         arrives: str) -> None:
    partner.get(f"{SITE}/help/start", status=302, headers={"Location": location})
    partner.get(arrives, body=b"here")
    response = fetch(f"{SITE}/help/start", policy=POLICY)
    assert response.body == b"here" and response.url == arrives and response.redirects == [f"{SITE}/help/start"]


def test_a_redirect_to_another_scheme_is_refused_before_any_request(partner) -> None:
    partner.get(f"{SITE}/", status=301, headers={"Location": "ftp://claims.partner.test/file"})
    with pytest.raises(Blocked, match="only http and https"):
        fetch(f"{SITE}/", policy=POLICY)
    assert len(partner.calls) == 1


def test_deflate_with_or_without_its_zlib_header_is_decoded(partner) -> None:
    page = b"<p>Call us on 0800 123 456</p>" * 200
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    partner.get(f"{SITE}/zlib", body=zlib.compress(page), headers={"Content-Encoding": "deflate"})
    partner.get(f"{SITE}/raw", body=raw.compress(page) + raw.flush(), headers={"Content-Encoding": "deflate"})
    assert fetch(f"{SITE}/zlib", policy=POLICY).body == page
    assert fetch(f"{SITE}/raw", policy=POLICY).body == page


def test_a_compressed_page_is_capped_after_decoding(partner) -> None:
    page = b"0" * 5_000_000                                              # 5 MB that compresses to ~5 kB
    partner.get(f"{SITE}/bomb", body=zlib.compress(page, 9), headers={"Content-Encoding": "deflate"})
    response = fetch(f"{SITE}/bomb", policy=POLICY.with_changes(max_bytes=10_000))
    assert response.truncated and response.body == b"0" * 10_000


def test_a_broken_compressed_page_is_a_sentence(partner) -> None:
    partner.get(f"{SITE}/", body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as caught:
        fetch(f"{SITE}/", policy=POLICY)
    assert str(caught.value) == "The page says it is compressed but it could not be decompressed"
    assert caught.value.phase == "read"
