"""Finding a way to reach a person on a partner's page: phones, e-mails, contact pages and chat."""

from __future__ import annotations

import pytest

from probes.human_contact import MAX_HTML_CHARS, Contact, describe, find_human_contact

INSURER_CLAIMS_PAGE = """<!doctype html>
<html lang="en-GB"><head>
  <title>Make a claim | Harbour Mutual</title>
  <link rel="stylesheet" href="/static/site.css">
  <style>.phone::before { content: "0800 000 0000"; }</style>
</head><body>
<header>
  <nav aria-label="Main">
    <a href="/">Home</a> <a href="/car-insurance">Car insurance</a>
    <a href="/help/contact-us">Contact us</a>
  </nav>
</header>
<main>
  <h1>Make a claim</h1>
  <p>You can lodge a claim online 24/7, or call our claims team on
     <a href="tel:+448001234567" class="phone">0800&nbsp;123&nbsp;4567</a>
     (Mon&ndash;Fri 8am&ndash;8pm, Sat 9am&ndash;5pm).</p>
  <p>Calling from abroad? Ring +44 (0)161 496 0000.</p>
  <p>Prefer to write? Email
     <a href="mailto:claims@harbour-mutual.test?subject=New%20claim">claims@harbour-mutual.test</a>.</p>
  <p>Policy renewed on 2024-01-15 for &pound;1,234.56. Your policy number looks like HM-0123456789.</p>
</main>
<footer>
  <a href="/complaints">Complaints</a> · <a href="/help-and-support">Help &amp; Support</a>
  · <a href="/privacy">Privacy</a> · <a href="/help/contact-us">Contact us</a>
  <p>Harbour Mutual Ltd, 1 Quay Street, Bristol BS1 6PN. Registered in England no. 01234567.</p>
</footer>
</body></html>"""


def kinds(contacts: list[Contact]) -> list[str]:
    return [contact.kind for contact in contacts]


def texts(contacts: list[Contact], kind: str) -> list[str]:
    return [contact.text for contact in contacts if contact.kind == kind]


def test_it_finds_every_way_to_reach_a_person_on_a_claims_page_in_order():
    contacts = find_human_contact(INSURER_CLAIMS_PAGE, "https://www.harbour-mutual.test/claims/make-a-claim")
    assert contacts == [
        Contact("phone", "0800 123 4567", "tel:+448001234567"),
        Contact("phone", "+44 (0)161 496 0000"),
        Contact("email", "claims@harbour-mutual.test", "mailto:claims@harbour-mutual.test?subject=New%20claim"),
        Contact("contact_page", "Contact us", "https://www.harbour-mutual.test/help/contact-us"),
        Contact("contact_page", "Complaints", "https://www.harbour-mutual.test/complaints"),
        Contact("contact_page", "Help & Support", "https://www.harbour-mutual.test/help-and-support"),
    ]


def test_describe_reads_as_one_line():
    contacts = find_human_contact(INSURER_CLAIMS_PAGE, "https://www.harbour-mutual.test/")
    assert describe(contacts[:1] + contacts[2:4]) == (
        "phone 0800 123 4567, email claims@harbour-mutual.test, contact page “Contact us”")
    assert describe([]) == "no phone number, email, contact link or chat found"
    assert describe([Contact("chat", "Intercom chat"), Contact("chat", "Live chat", "https://a.test/chat")]) == (
        "Intercom chat, chat “Live chat”")


def test_describe_stops_after_a_few():
    many = [Contact("phone", f"0800 123 45{n:02d}") for n in range(9)]
    assert describe(many).endswith("phone 0800 123 4505, and 3 more")


def test_a_page_that_removed_its_phone_number_offers_nothing():
    before = "<main><h2>Need help?</h2><p>Call us free on 0800 123 4567.</p></main>"
    after = ("<main><h2>Need help?</h2><p>Use our online form below.</p>"
             "<!-- <p>Call us free on 0800 123 4567.</p> --><form action='/enquiry'></form></main>")
    assert texts(find_human_contact(before, region="GB"), "phone") == ["0800 123 4567"]
    assert find_human_contact(after) == []


def test_a_page_whose_only_contact_is_a_chat_widget():
    page = """<html><body><h1>Quotes</h1><p>Get a quote in minutes.</p>
      <script>window.intercomSettings = { app_id: "abc123" };</script>
      <script async src="https://widget.intercom.io/widget/abc123"></script></body></html>"""
    assert find_human_contact(page) == [Contact("chat", "Intercom chat")]


@pytest.mark.parametrize(("snippet", "label"), [
    ('<script id="ze-snippet" src="https://static.zdassets.com/ekr/snippet.js?key=k"></script>', "Zendesk chat"),
    ("<script>window.$zopim||(function(d,s){})(document,'script');</script>", "Zendesk chat"),
    ("<script>window.__lc = window.__lc || {}; window.__lc.license = 123;</script>", "LiveChat"),
    ('<script src="https://cdn.livechatinc.com/tracking.js"></script>', "LiveChat"),
    ('<script src="https://js.driftt.com/include/1/abc.js"></script>', "Drift chat"),
    ("<script>var Tawk_API=Tawk_API||{};s1.src='https://embed.tawk.to/abc/default';</script>", "Tawk.to chat"),
    ('<script src="https://wchat.freshchat.com/js/widget.js"></script>', "Freshchat"),
    ("<script>window.fcWidget.init({ token: 't' });</script>", "Freshchat"),
    ('<script src="//js.usemessages.com/conversations-embed.js"></script>', "HubSpot chat"),
    ('<div id="hubspot-messages-iframe-container"></div>', "HubSpot chat"),
    ("<script>embeddedservice_bootstrap.init('00D', 'Claims', 'https://x.my.site.com');</script>",
     "Salesforce chat"),
    ("<script>embedded_svc.settings.displayHelpButton = true;</script>", "Salesforce chat"),
    ('<iframe src="https://intercom-sheets.com/x" class="intercom-launcher-frame"></iframe>', "Intercom chat"),
])
def test_it_recognises_chat_widgets(snippet, label):
    assert find_human_contact(f"<html><body><p>Welcome</p>{snippet}</body></html>") == [Contact("chat", label)]


def test_analytics_scripts_are_not_chat():
    page = ('<script src="https://js.hs-scripts.com/123.js"></script>'
            '<script src="https://www.googletagmanager.com/gtag/js"></script><p>Intercom systems for offices</p>')
    assert find_human_contact(page) == []


def test_generic_chat_links_and_buttons_count_as_chat():
    page = """<a href="/support/webchat">Live chat</a>
              <button type="button" class="btn">Chat with us</button>
              <a href="javascript:void(0)" aria-label="Start a chat"><svg><title>bubble</title></svg></a>"""
    assert find_human_contact(page, "https://acme.test/help/") == [
        Contact("chat", "Live chat", "https://acme.test/support/webchat"),
        Contact("chat", "Chat with us"),
        Contact("chat", "Start a chat"),
    ]


@pytest.mark.parametrize(("link", "text"), [
    ('<a href="/contact">Contact</a>', "Contact"),
    ('<a href="/enquiries">Get in touch</a>', "Get in touch"),
    ('<a href="/advice">Speak to an adviser</a>', "Speak to an adviser"),
    ('<a href="/advice">Talk to an advisor</a>', "Talk to an advisor"),
    ('<a href="/phone">Call us</a>', "Call us"),
    ('<a href="/complaints-procedure">How to complain</a>', "How to complain"),
    ('<a href="/feedback">Make a complaint</a>', "Make a complaint"),
    ('<a href="/help">Help and support</a>', "Help and support"),
    ('<a href="/get-in-touch"><img src="/i/envelope.svg" alt="Write to us"></a>', "Write to us"),
    ('<a href="/x" title="Contact us"><span class="icon"></span></a>', "Contact us"),
])
def test_it_recognises_contact_page_links_by_text_or_address(link, text):
    assert find_human_contact(link, "https://acme.test/") == [Contact("contact_page", text,
                                                                       "https://acme.test" + link.split('"')[1])]


@pytest.mark.parametrize("link", ['<a href="/contactless-payments">Contactless</a>', '<a href="/about">About us</a>',
                                  '<a href="#">Contact us</a>', '<button>Contact us</button>',
                                  '<a href="/support">Supporting local charities</a>'])
def test_it_ignores_links_that_lead_nowhere_useful(link):
    assert find_human_contact(link, "https://acme.test/") == []


def test_relative_hrefs_are_resolved_against_the_base_url():
    page = ('<a href="../contact-us?from=claims#form">Contact us</a>'
            ' <a href="//help.acme.test/complaints">Complaints</a>')
    contacts = find_human_contact(page, "https://www.acme.test/claims/motor/")
    assert [c.href for c in contacts] == ["https://www.acme.test/claims/contact-us?from=claims#form",
                                          "https://help.acme.test/complaints"]
    assert find_human_contact(page)[0].href == "../contact-us?from=claims#form"  # no base: as written


def test_duplicate_contacts_are_reported_once():
    page = """<header><a href="/contact">Contact us</a> <a href="tel:08001234567">0800 123 4567</a></header>
              <p>Call 0800 123 4567 or +44 800 123 4567; write to Help@Acme.test or help@acme.test.</p>
              <footer><a href="/contact">Contact us</a> <a href="mailto:help@acme.test">help@acme.test</a></footer>"""
    contacts = find_human_contact(page, "https://acme.test/", "GB")
    assert kinds(contacts) == ["phone", "email", "contact_page"]
    assert texts(contacts, "email") == ["help@acme.test"]  # the mailto link comes first and wins


@pytest.mark.parametrize(("text", "number"), [
    ("Freephone 0800 123 4567", "0800 123 4567"),
    ("Freephone 0808 164 0000", "0808 164 0000"),
    ("Call 0800 123 456 today", "0800 123 456"),
    ("Lines: 0345 600 1234", "0345 600 1234"),
    ("Office: 020 7946 0018", "020 7946 0018"),
    ("Office: (020) 7946 0018", "(020) 7946 0018"),
    ("Manchester 0161 496 0000", "0161 496 0000"),
    ("Mobile 07700 900123", "07700 900123"),
    ("From abroad +44 (0)20 7946 0018", "+44 (0)20 7946 0018"),
    ("From abroad +44 20 7946 0018", "+44 20 7946 0018"),
    ("US office +1 (800) 555-0199", "+1 (800) 555-0199"),
    ("Sydney +61 2 9876 5432", "+61 2 9876 5432"),
    ("Call us on 08001234567.", "08001234567"),
    ("Tel: 01632960001", "01632960001"),
    ("Call&nbsp;0800&nbsp;123&nbsp;4567", "0800 123 4567"),
])
def test_it_finds_phone_numbers_in_the_text(text, number):
    assert texts(find_human_contact(f"<p>{text}</p>", region="GB"), "phone") == [number]


@pytest.mark.parametrize("text", [
    "Renewed on 2024-01-15",
    "Renewed on 15/01/2024 at 10:30",
    "Dates: 01/02/2024 - 03/04/2024",
    "Price £1,234.56 or $1,234,567.89",
    "Save 20% – only £0800.99",
    "Policy number HM-0123456789",
    "Policy ref POL/01234567890",
    "Reference 012345678901234",
    "Account 01234567890",  # eleven digits with no spacing and no cue: could be anything
    "Sort code 12-34-56, account 12345678",
    "Sort code 01-23-45",
    "Our office: 1 Quay Street, Bristol BS1 6PN",
    "London EC2R 8AH",
    "Registered in England no. 01234567",
    "FCA firm reference number 123456",
    "VAT GB 123 4567 89",
    "Open 0900 - 1730 weekdays",
    "Serial 0123 4567 8901 2345",
    "Version 0.800.123.4567",
    "Claims paid: 1 234 567 890",
    "ISBN 978-0-00-000000-0",
    "+5% this year, +12 points",
])
def test_it_does_not_mistake_other_numbers_for_phones(text):
    assert texts(find_human_contact(f"<p>{text}</p>", region="GB"), "phone") == []


def test_numbers_split_across_cells_are_not_joined():
    assert find_human_contact("<table><tr><td>0161</td><td>496 0000</td></tr></table>") == []


def test_it_finds_plain_email_addresses_but_not_image_names():
    page = ('<p>Write to complaints@acme.co.uk.</p><p>retina logo@2x.png</p>'
            '<p>Our address is not user@localhost</p>')
    assert texts(find_human_contact(page), "email") == ["complaints@acme.co.uk"]


def test_mailto_links_give_the_address_without_the_subject():
    page = '<a href="mailto:Claims%40acme.test?subject=Help">write to us</a><a href="mailto:?subject=x">share</a>'
    assert find_human_contact(page) == [Contact("email", "Claims@acme.test", "mailto:Claims%40acme.test?subject=Help")]


def test_tel_links_show_the_number_even_when_the_text_is_not_one():
    assert find_human_contact('<a href="tel:0800-123-4567">Call us</a>') == [
        Contact("phone", "0800-123-4567", "tel:0800-123-4567")]
    assert find_human_contact('<a href="tel:12">x</a>') == []


def test_entities_are_decoded_in_texts():
    page = ('<a href="/help">Help &amp; Support</a><p>E-mail: help&#64;acme.test</p>'
            '<a href="/contact">Contact&nbsp;us &rarr;</a>')
    contacts = find_human_contact(page, "https://acme.test/")
    assert texts(contacts, "email") == ["help@acme.test"]
    assert texts(contacts, "contact_page") == ["Help & Support", "Contact us →"]


def test_text_in_scripts_styles_titles_and_comments_is_not_visible():
    page = """<head><title>Call 0800 123 4567</title><style>/* help@acme.test */</style></head>
              <script>var phone = "0800 123 4567"; var mail = "help@acme.test";</script>
              <script type="application/ld+json">{"telephone": "+44 800 123 4567"}</script>
              <template><p>0800 123 4567</p></template><!-- <a href="/contact">Contact</a> -->
              <svg><title>Phone 0800 123 4567</title></svg><p>Welcome</p>"""
    assert find_human_contact(page) == []


def test_long_link_texts_are_cut_to_80_characters():
    page = f'<a href="/contact">Contact us {"about anything at all " * 10}</a>'
    (contact,) = find_human_contact(page)
    assert len(contact.text) == 80 and contact.text.endswith("…")


def test_only_the_first_2_mb_are_read():
    filler = "<p>" + "x" * 100 + "</p>"
    page = filler * (MAX_HTML_CHARS // len(filler) + 1) + "<p>Call 0800 123 4567</p>"
    assert len(page) > MAX_HTML_CHARS
    assert find_human_contact(page) == []


@pytest.mark.parametrize("html", ["", "<a href='x", "<!--", "<![CDATA[x", "<", "&#99999999;", "<?php echo 1",
                                  "<a href='http://[::1'>Contact</a>", "<a href='tel:%zz'>x</a>", "<p>" * 10000,
                                  "</a></a></button><a><a><button>"])
def test_broken_html_never_raises(html):
    assert isinstance(find_human_contact(html, "https://acme.test/"), list)
