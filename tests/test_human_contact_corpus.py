"""The human-contact finder against hand-labelled pages from seven countries, and against bad input.

tests/data/human_contact/manifest.json says, for each page, whether a careful reader can reach a person
from it and by which kinds of contact; a third of the pages are traps (hidden numbers, fax-only pages,
look-alike links, noreply addresses, bots; and the other way: split numbers, 13 numbers, a wrong lang).
bench/human_contact.py prints precision and recall over the same corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.human_contact import Discarded, explain, judge_page
from tests.test_probe_time_budget import finished_within

CORPUS = Path(__file__).parent / "data" / "human_contact"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text("utf-8"))["pages"]


def test_the_corpus_is_big_and_varied_enough():
    assert len(MANIFEST) >= 60
    assert {e["country"] for e in MANIFEST} == {"NZ", "AU", "GB", "IE", "US", "CA", "ZA"}
    assert sum(e["trap"] for e in MANIFEST) * 3 >= len(MANIFEST)
    assert all((CORPUS / e["file"]).is_file() for e in MANIFEST)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_every_labelled_page_gets_its_verdict(entry):
    verdict = judge_page((CORPUS / entry["file"]).read_bytes(), entry["url"], entry["practice_country"],
                         "text/html; charset=utf-8")
    assert (verdict.reachable, verdict.kinds) == (entry["reachable"], entry["kinds"]), explain(verdict)


def judged(name: str, country: str = "") -> list[Discarded]:
    entry = next(e for e in MANIFEST if e["file"] == name)
    return judge_page((CORPUS / name).read_bytes(), entry["url"], country or entry["practice_country"]).discarded


def test_what_was_left_out_is_explained():
    assert Discarded("phone", "09 379 0001", "labelled fax") in judged("nz/fax_and_post_only.html")
    assert Discarded("phone", "0800 456 789", "hidden (display:none)") in judged("nz/hidden_contact.html")
    assert Discarded("contact_page", "Contact us", "hidden (hidden)") in judged("nz/hidden_contact.html")
    assert Discarded("phone", "12345678", "labelled account") in judged("uk/sort_code_reference.html")
    assert Discarded("email", "noreply@southerncrosssuper.com.au", "a no-reply address") in judged("au/noreply.html")
    assert Discarded("contact_page", "Contactless payments", "only looks like a contact link") in judged(
        "au/contactless_and_lens.html")
    (bot,) = [d for d in judged("us/bot_button.html") if d.kind == "chat"]
    assert bot.text == "Chat with our virtual assistant" and bot.reason.startswith("the page says it is automated")


def test_each_way_found_comes_with_the_text_it_came_from():
    verdict = judge_page((CORPUS / "uk/tel_and_fax.html").read_bytes(), "https://www.harbourmutual.co.uk/", "GB")
    (phone,) = verdict.found
    assert (phone.text, phone.source) == ("0161 496 0000", "Tel: 0161 496 0000 | Fax: 0161 496 0001")
    assert explain(verdict)[:2] == ["phone 0161 496 0000 — from “Tel: 0161 496 0000 | Fax: 0161 496 0001”",
                                "not counted: 0161 496 0001: labelled fax"]


@pytest.mark.parametrize(("html", "practice", "region", "region_from"), [
    ('<html lang="en-AU"><p>Call (02) 9876 5432</p>', "NZ", "AU", "page language en-AU"),
    ('<html lang="en"><p>Call (02) 9876 5432</p>', "AU", "AU", "practice country"),
    ('<html lang="mi-NZ"><p>Waea mai 021 555 0101</p>', "GB", "NZ", "page language mi-NZ"),
])
def test_the_region_comes_from_the_page_language_else_the_practice(html, practice, region, region_from):
    verdict = judge_page(html, "https://partner.example/", practice)
    assert (verdict.region, verdict.region_from, verdict.reachable) == (region, region_from, True)


def test_a_number_is_read_by_the_pages_region_not_the_practices():
    # "021 555 0101" is a New Zealand mobile; by South African rules it is a Cape Town landline.
    page = '<html lang="en-NZ"><p>Phone 021 555 0101</p></html>'
    (phone,) = judge_page(page, "", "ZA").found
    assert phone.number == "+64215550101"


def test_without_any_region_only_international_numbers_count():
    verdict = judge_page("<p>Call 0800 123 4567 or +44 20 7946 0018</p>")
    assert [c.text for c in verdict.found] == ["+44 20 7946 0018"]
    assert verdict.region is None


# -- bad input: judged, or refused with a reason; never an exception ---------------------------------------------

@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/octet-stream", "not a web page: the server said it is application/octet-stream"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", None, "not a web page: it is a PDF document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "not a web page: it is a PNG image"),
    (b'{"phone": "0800 123 4567"}', "application/json", "not a web page: the server said it is application/json"),
    (bytes(range(256)) * 20, None, "not a web page: it is binary data, not text"),
])
def test_what_is_not_a_page_is_refused_with_a_reason(body, content_type, reason):
    verdict = judge_page(body, "https://a.example/", "GB", content_type)
    assert (verdict.reachable, verdict.refused, verdict.found) == (None, reason, [])
    assert verdict.details()["human_contact_summary"] == f"not checked: {reason}"


def test_a_page_that_is_not_utf8_is_read_as_a_browser_would():
    page = "<p>Téléphone : 514 555-0123 — Montréal</p>".encode("cp1252")
    verdict = judge_page(page, "https://www.maplefinancial.ca/", "CA", "text/html")
    assert [c.text for c in verdict.found] == ["514 555-0123"]
    assert verdict.notes == ["not UTF-8 and no charset given: read as windows-1252"]
    declared = judge_page(b'<meta charset="iso-8859-1"><p>T\xe9l : 514 555-0123</p>', "", "CA")
    assert [c.source for c in declared.found] == ["Tél : 514 555-0123"] and declared.notes == []


def test_plain_text_is_judged_as_text():
    verdict = judge_page(b"Call us on 0800 123 4567.\n", "", "GB", "text/plain; charset=utf-8")
    assert verdict.reachable is True


def test_a_10_mb_page_is_judged_on_its_first_2_mb_and_says_so():
    filler = "<p>" + "Lorem ipsum dolor sit amet. " * 20 + "</p>\n"
    head = "<html><body><p>Call 0800 123 4567</p>"
    tail = "<p>Email help@acme.example</p></body></html>"
    page = (head + filler * (10 * 1024 * 1024 // len(filler) + 1) + tail).encode()
    assert len(page) > 10 * 1024 * 1024
    verdict = judge_page(page, "", "GB", "text/html")
    assert [c.kind for c in verdict.found] == ["phone"]  # the e-mail at the end was not read
    assert verdict.notes[0].startswith("only the first 2,000,000 characters of 10,")


def test_a_deeply_nested_page_is_judged_and_says_so():
    page = "<div>" * 100_000 + "<p>Call 0800 123 4567</p>" + "</div>" * 100_000
    verdict = judge_page(page, "", "GB")
    assert [c.text for c in verdict.found] == ["0800 123 4567"]
    assert verdict.notes == ["elements are nested deeper than 512 (a browser stops there); all were read"]


def test_hidden_content_stays_hidden_however_deep_it_is_nested():
    page = '<div style="display: none">' + "<div>" * 600 + "<p>Call 0800 123 4567</p>" + "</div>" * 600 + "</div>"
    assert judge_page(page, "", "GB").found == []


@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00", "<a href='tel:'>x</a>", "<html lang='--'>", "<html lang='en-ZZ'>",
                                  "<a href='mailto:%'>x</a>", "<a href='sms:'>x</a>", "<a href='https://wa.me/'>",
                                  "<p>+</p>" * 1000, "<svg><title>0800 123 4567</title></svg>", "\x00" * 100])
def test_odd_input_never_raises(body):
    verdict = judge_page(body, "http://[::1", "GB")
    assert verdict.reachable in (True, False, None)


def test_bots_the_page_mentions_elsewhere_do_not_make_its_chat_a_bot():
    widget = '<script src="https://widget.intercom.io/widget/abc"></script>'
    form = f"<p>We use reCAPTCHA to keep bots out of this form.</p>{widget}"
    assert [c.text for c in judge_page(form, "", "GB").found] == ["Intercom chat"]
    assistant = f"<p>Ask Aria, our virtual assistant, about your policy.</p>{widget}"
    assert judge_page(assistant, "", "GB").found == []
    handover = f"<p>Ask Aria, our virtual assistant, or chat with an adviser 9am–5pm.</p>{widget}"
    assert [c.text for c in judge_page(handover, "", "GB").found] == ["Intercom chat"]


def _judged_numbers_page(kilobytes: int) -> tuple[bool | None, list[str]]:
    numbers = " ".join(str(1_000_000_000 + i) for i in range(kilobytes * 1024 // 11))
    verdict = judge_page(f"<p>{numbers}</p>".encode(), "https://lender.example.nz/", "NZ", "text/html")
    return verdict.reachable, verdict.notes


def test_a_page_of_nothing_but_numbers_is_read_only_so_far_and_says_so():
    # Before, each number made the finder search the whole line before it: 176 KB of numbers took 39 s and
    # 2 MB would take hours. The child process ends the test rather than the suite if that comes back.
    reachable, notes = finished_within(30, _judged_numbers_page, 2000)
    assert reachable is False
    assert "Only the first 500 number-like texts were read as phone numbers." in notes
