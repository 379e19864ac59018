"""Whatever a partner's page holds, the human-contact finder answers: judged, or refused with a reason."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from probes.human_contact import HumanContact, judge_page

# Pieces real pages are made of, so the fuzzer reaches the interesting paths (links, hidden parts, numbers).
PIECES = st.sampled_from([
    "<a href='tel:+6493790000'>", "<a href='mailto:help@acme.example'>", "<a href='/contact-us'>", "</a>",
    "<div hidden>", "<span aria-hidden='true'>", "<p style='display:none'>", "</div>", "</span>", "</p>", "<br>",
    "<template>", "</template>", "<script>", "</script>", "<html lang='en-AU'>", "<html lang='x-'>", "Fax:", "Call ",
    "0800 123 4567", "(02) 9876 5432", "+44 20 7946 0018", "13 22 65", "1-800-555-0199", "noreply@acme.example",
    "virtual assistant", "Live chat", "<button>", "</button>", "&#x0;", "&amp;", "<!--", "-->", "<", ">", "\x00", "\ufffd",
])
PAGES = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=60).map("".join)


@settings(max_examples=80, deadline=None)
@given(page=PAGES, region=st.sampled_from(["", "NZ", "AU", "GB", "IE", "US", "CA", "ZA", "ZZ", "nz", "12"]),
       base=st.sampled_from(["", "https://www.acme.co.nz/x", "http://[::1", "ftp://a"]))
def test_any_text_is_judged_without_raising(page, region, base):
    verdict = judge_page(page, base, region)
    assert isinstance(verdict, HumanContact) and verdict.refused is None
    assert verdict.reachable is bool(verdict.found)
    assert all(len(c.text) <= 80 for c in verdict.found)


@settings(max_examples=50, deadline=None)
@given(body=st.binary(max_size=2000), content_type=st.sampled_from([None, "text/html", "text/html; charset=bogus",
                                                                      "text/html; charset=utf-16", "image/png", ""]))
def test_any_bytes_are_judged_or_refused_with_a_reason(body, content_type):
    verdict = judge_page(body, "https://www.acme.example/", "GB", content_type)
    assert (verdict.reachable is None) == bool(verdict.refused)
