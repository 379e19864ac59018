"""CSV import of feedback requests: the file is read, every row previewed with its line and reasons, and
nothing is written until the confirmation, which imports the good rows or, if asked, none unless all are good."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnermon.errors import ValidationError
from partnermon.feedback import imports, links
from partnermon.models import AuditEvent, FeedbackRequest, OutboxEmail, Practice, User
from partnermon.runtime import Runtime
from partnermon.web import feedback_import
from tests.conftest import NOW, sessions_waiting_on_a_lock, text_of
from tests.factories import Cast

BASE = "http://partnermon.test"
HEADER = "client_name,client_email,partner,touchpoint,adviser_email,external_ref\n"
# Lines 2 and 5 are good; 3 has no email address, 4 names Quay's partner (not one of Harbour's).
MIXED = HEADER + (
    "Dana,dana@client.test,Acme Insurance,Claims form,bob@harbour.test,CRM-1\n"
    "Eli,not-an-email,Acme Insurance,,,\n"
    "Fay,fay@client.test,Zenith Platform,,,\n"
    "Gus,gus@client.test,acme insurance,service,,CRM-4\n"
)
ALL_GOOD = HEADER + "Dana,dana@client.test,Acme Insurance,claim,,\nGus,gus@client.test,Acme Insurance,,,\n"


def counts(session: Session) -> tuple[int, int, int]:
    """Requests, outbox emails and audit events: what an import writes."""
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                 for model in (FeedbackRequest, OutboxEmail, AuditEvent))


def reasons(preview: imports.Preview) -> dict[int, str]:
    return {row.line: " ".join(reason for _, reason in row.reasons) for row in preview.problems}


def run_import(session: Session, cast: Cast, text: str, mode: str = "good-only") -> imports.ImportSummary:
    summary = imports.import_rows(session, NOW, cast.harbour, text, actor=cast.bob, base_url=BASE, mode=mode)
    session.commit()
    return summary


# --- reading the file -------------------------------------------------------------------------------------

def test_the_preview_lists_each_bad_row_with_its_line_and_reason_and_writes_nothing(session: Session,
                                                                                      cast: Cast) -> None:
    before = counts(session)
    preview = imports.preview(session, NOW, cast.harbour, MIXED)
    session.commit()
    assert [row.line for row in preview.ready] == [2, 5]
    assert "not an email address" in reasons(preview)[3]
    assert "not one of your partners" in reasons(preview)[4]
    assert set(reasons(preview)) == {3, 4}
    assert (preview.ready[0].partner, preview.ready[0].about) == ("Acme Insurance", "Claims form")
    assert counts(session) == before


def test_quoted_values_with_commas_and_line_breaks_keep_line_numbers_right(session: Session, cast: Cast) -> None:
    text = HEADER + ('"Whitfield, Dana",dana@client.test,Acme Insurance,,,\n'
                     '"Eli\nwith a\nlong name",eli@client.test,Acme Insurance,,,\n'
                     '\n'
                     'Fay,fay@client.test,Nobody Ltd,,,\n')
    rows = imports.parse(text)
    assert [row.line for row in rows] == [2, 3, 7]
    assert rows[0].values["client_name"] == "Whitfield, Dana"
    assert reasons(imports.preview(session, NOW, cast.harbour, text)) == {7: "“Nobody Ltd” is not one of your partners."}


@pytest.mark.parametrize("header", [
    "Client Email;PARTNER;Touchpoint or Moment;client name",
    "  client_email ; partner ; moment ; Client_Name ",
])
def test_headers_match_in_any_case_spacing_and_order_and_semicolons_and_a_bom_are_read(header: str) -> None:
    data = ("\ufeff" + header + "\r\nDana@Client.test;Acme Insurance;claim;Dana\r\n").encode("utf-8")
    [row] = imports.parse(imports.decode(data))
    assert row.values == {"client_email": "Dana@Client.test", "partner": "Acme Insurance", "touchpoint": "claim",
                          "client_name": "Dana"}


def test_rows_pasted_from_a_spreadsheet_are_tab_separated() -> None:
    [row] = imports.parse("client_email\tpartner\ndana@client.test\tAcme, Inc\n")
    assert row.values == {"client_email": "dana@client.test", "partner": "Acme, Inc"}


@pytest.mark.parametrize("text, words", [
    ("client_name,partner\nDana,Acme Insurance\n", "has no client_email column"),
    ("client_name,email,partner\nDana,dana@client.test,Acme\n", "does not know: “email”"),
    ("dana@client.test,Acme Insurance\n", "must be a header row"),
    ("client_email,partner,client_email\n", "names the client_email column twice"),
    ("client_email,partner\n", "no clients in it"),
    ("client_email,partner\ndana@client.test,\"Acme\n", "Line 2 could not be read"),
    ("  \n\n", "The file is empty"),
])
def test_a_file_that_cannot_be_imported_is_one_clear_error(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        imports.parse(text)
    assert words in refused.value.errors["file"]


@pytest.mark.parametrize("data, words", [
    (b"", "The file is empty"),
    ("client_email,partner\ndana@client.test,Caf\u00e9\n".encode("latin-1"), "not UTF-8 text (line 2"),
    (b"PK\x03\x04\x14\x00\x06\x00", "looks like an Excel workbook"),
    ("client_email".encode("utf-16"), "UTF-16"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
    (b"client_email,partner\n" + b"x" * imports.MAX_BYTES, "larger than 1.5 MB"),
])
def test_a_file_that_is_not_utf8_csv_text_is_refused_with_the_reason(data: bytes, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        imports.decode(data)
    assert words in refused.value.errors["file"]


def test_more_rows_than_the_cap_is_refused() -> None:
    text = "client_email,partner\n" + "dana@client.test,Acme Insurance\n" * (imports.MAX_ROWS + 1)
    with pytest.raises(ValidationError) as refused:
        imports.parse(text)
    assert f"more than {imports.MAX_ROWS:,} rows" in refused.value.errors["file"]
    assert len(imports.parse("client_email,partner\n" + "d@c.test,Acme\n" * imports.MAX_ROWS)) == imports.MAX_ROWS


def test_a_line_with_more_values_than_columns_is_a_bad_row(session: Session, cast: Cast) -> None:
    text = "client_name,client_email,partner\nWhitfield, Dana,dana@client.test,Acme Insurance\n"
    assert "needs quotes" in reasons(imports.preview(session, NOW, cast.harbour, text))[2]


# --- rows that are held back ---------------------------------------------------------------------------

def test_the_same_client_twice_in_a_file_holds_back_the_later_row(session: Session, cast: Cast) -> None:
    text = HEADER + ("Dana,dana@client.test,Acme Insurance,,,\nEli,bad-address,Acme Insurance,,,\n"
                     "Dana,DANA@client.test,Acme Insurance,claim,,\n")
    assert reasons(imports.preview(session, NOW, cast.harbour, text))[4] == (
        "dana@client.test is also on line 2; Harbour Advice waits 30 days between requests to one client, "
        "so only that line is sent.")


def test_the_same_external_ref_twice_in_a_file_is_a_bad_row(session: Session, cast: Cast) -> None:
    text = HEADER + "Dana,dana@client.test,Acme Insurance,,,R-7\nEli,eli@client.test,Acme Insurance,,,R-7\n"
    assert "R-7 is also on line 2" in reasons(imports.preview(session, NOW, cast.harbour, text))[3]


def test_a_client_asked_recently_is_a_bad_row_with_the_reason(session: Session, cast: Cast) -> None:
    links.create_request(session, NOW, cast.harbour, {"client_email": "dana@client.test", "partner": "Acme Insurance"},
                            actor=cast.bob, source="form", base_url=BASE)
    session.commit()
    assert "was asked for feedback on 23 Nov 2026" in reasons(imports.preview(session, NOW, cast.harbour, ALL_GOOD))[2]


def test_another_practices_partner_is_a_bad_row_and_never_imported(session: Session, cast: Cast) -> None:
    summary = run_import(session, cast, HEADER + "Fay,fay@client.test,Zenith Platform,,,\n"
                                       "Gus,gus@client.test,Acme Insurance,,,\n")
    assert [(row.line, row.reasons) for row in summary.skipped] == [
        (2, [("Partner", "“Zenith Platform” is not one of your partners.")])]
    assert session.scalars(select(FeedbackRequest.partner_id)).all() == [cast.acme.id]


# --- importing ----------------------------------------------------------------------------------------------

def test_good_only_creates_exactly_the_good_rows_with_one_invitation_each(session: Session, cast: Cast) -> None:
    summary = run_import(session, cast, MIXED)
    assert summary.imported and [row.line for row in summary.created] == [2, 5]
    assert [row.line for row in summary.skipped] == [3, 4]
    made = session.scalars(select(FeedbackRequest).order_by(FeedbackRequest.id)).all()
    assert [(r.client_email, r.source, r.external_ref, r.adviser_id) for r in made] == [
        ("dana@client.test", "csv", "CRM-1", cast.bob.id), ("gus@client.test", "csv", "CRM-4", cast.bob.id)]
    assert made[0].touchpoint_id == cast.acme_claims.id and made[1].moment.key == "service"
    assert sorted(session.scalars(select(OutboxEmail.to_addr))) == ["dana@client.test", "gus@client.test"]
    assert session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "feedback.imported")).startswith(
        "Imported 2 feedback requests from a CSV file; 2 skipped")


def test_all_or_nothing_with_a_bad_row_creates_nothing_and_says_why(session: Session, cast: Cast) -> None:
    before = counts(session)
    summary = run_import(session, cast, MIXED, mode="all-or-nothing")
    assert not summary.imported and summary.created == []
    assert {row.line: row.reasons[0][1] for row in summary.skipped}[4] == "“Zenith Platform” is not one of your partners."
    assert counts(session) == before


def test_all_or_nothing_with_every_row_good_creates_them_all(session: Session, cast: Cast) -> None:
    summary = run_import(session, cast, ALL_GOOD, mode="all-or-nothing")
    assert summary.imported and len(summary.created) == 2
    assert counts(session)[:2] == (2, 2)


def test_the_confirmation_checks_again_what_changed_since_the_preview(session: Session, cast: Cast) -> None:
    assert len(imports.preview(session, NOW, cast.harbour, ALL_GOOD).ready) == 2
    links.create_request(session, NOW, cast.harbour, {"client_email": "gus@client.test", "partner": "Acme Insurance"},
                            actor=cast.alice, source="form", base_url=BASE)
    session.commit()
    assert not run_import(session, cast, ALL_GOOD, mode="all-or-nothing").imported
    summary = run_import(session, cast, ALL_GOOD)
    assert [row.line for row in summary.created] == [2] and [row.line for row in summary.skipped] == [3]
    assert counts(session)[0] == 2


def test_importing_the_same_file_again_sends_nothing_twice(session: Session, cast: Cast) -> None:
    run_import(session, cast, MIXED)
    again = run_import(session, cast, MIXED)
    assert again.imported and again.created == [] and [row.line for row in again.existing] == [2, 5]
    assert [row.line for row in again.skipped] == [3, 4]
    assert counts(session)[:2] == (2, 2)


def test_two_confirmations_of_one_file_at_once_import_it_once(runtime: Runtime, cast: Cast) -> None:
    # Kept from when rows were created one by one: the second import waits on the first one's references,
    # then fails on them, and rolls back whole (the page says so, 409).
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN (IMMEDIATE), so two imports cannot race here")
    text = HEADER + "".join(f"C {i},c{i}@client.test,Acme Insurance,,,R-{i}\n" for i in range(50))
    with runtime.session_factory() as session:
        before = counts(session)
    with runtime.session_factory() as first:
        imports.import_rows(first, NOW, first.get(Practice, cast.harbour.id), text,  # type: ignore[arg-type]
                            actor=first.get(User, cast.bob.id), base_url=BASE)   # type: ignore[arg-type]

        def second() -> None:
            with runtime.session_factory() as other:
                imports.import_rows(other, NOW, other.get(Practice, cast.harbour.id), text,  # type: ignore[arg-type]
                                    actor=other.get(User, cast.alice.id), base_url=BASE)   # type: ignore[arg-type]
                other.commit()

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(second)
            sessions_waiting_on_a_lock(runtime.engine, future)
            waited = not future.done()
            first.commit()   # before any assert: a failed one must not leave the other waiting forever
            assert waited, "the second import never waited on the first one's rows"
            with pytest.raises(IntegrityError):
                future.result(timeout=10)
    with runtime.session_factory() as session:
        assert counts(session) == (before[0] + 50, before[1] + 50, before[2] + 51)   # 50 requests, one import


def test_a_formula_looking_name_is_stored_as_text(session: Session, cast: Cast) -> None:
    run_import(session, cast, HEADER + '"=HYPERLINK(""http://evil.test"",""x"")",dana@client.test,Acme Insurance,,,\n')
    assert session.scalar(select(FeedbackRequest.client_name)) == '=HYPERLINK("http://evil.test","x")'


def statements_run(session: Session, work: Any) -> int:
    """How many SQL statements ``work()`` sends (an executemany counts once)."""
    sent: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(sent)


def a_file(rows: int) -> str:
    """Rows naming the partner, touchpoints and moments in several ways, advisers and references, and bad rows."""
    lines = []
    for i in range(rows):
        about = ("Claims form", "CLAIMS FORM", "claim", "Everyday service", "", "Nowhere")[i % 6]
        adviser = ("bob@harbour.test", "ALICE@harbour.test", "", "nobody@harbour.test")[i % 4]
        email = f"client{i}@client.test" if i % 7 else "not-an-email"
        lines.append(f"Client {i},{email},{'Acme Insurance' if i % 5 else 'acme insurance'},{about},{adviser},R-{i}\n")
    return HEADER + "".join(lines)


def test_checking_and_importing_a_file_takes_as_many_queries_for_many_rows_as_for_a_few(session: Session,
                                                                                       cast: Cast) -> None:
    # Each row used to cost about five queries to check and fourteen to import: 10,000 rows took minutes.
    def cost(rows: int) -> tuple[int, int]:
        text = a_file(rows)
        session.refresh(cast.harbour)   # as a page has it: loaded with the signed-in user
        checking = statements_run(session, lambda: imports.preview(session, NOW, cast.harbour, text))
        session.rollback()
        summary: list[imports.ImportSummary] = []
        importing = statements_run(session, lambda: summary.append(run_import(session, cast, text)))
        assert counts(session)[:2] == (len(summary[0].created), len(summary[0].created)) and summary[0].skipped
        session.execute(delete(AuditEvent))
        session.execute(delete(OutboxEmail))
        session.execute(delete(FeedbackRequest))
        session.commit()
        return checking, importing

    assert cost(6) == cost(120)


# --- the pages ------------------------------------------------------------------------------------------------

def upload(browser: Any, text: str | bytes, name: str = "requests.csv") -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return browser.post("/feedback/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def carried_text(response: Any) -> str:
    """The file's text as the preview page hands it on to the confirmation."""
    return unescape(re.search(r'name="csv" value="([^"]*)"', response.get_data(as_text=True))[1])


def test_a_viewer_gets_403_on_every_import_page(cast: Cast, browser: Any, session: Session) -> None:
    browser.sign_in("vera@harbour.test")
    before = counts(session)
    assert browser.get("/feedback/import").status_code == 403
    assert browser.get("/feedback/import/example.csv").status_code == 403
    assert upload(browser, ALL_GOOD).status_code == 403
    assert browser.post("/feedback/import/confirm", {"csv": ALL_GOOD, "mode": "good-only"}).status_code == 403
    assert counts(session) == before


def test_the_preview_page_shows_each_bad_line_and_escapes_html_and_writes_nothing(cast: Cast, browser: Any,
                                                                                   session: Session) -> None:
    browser.sign_in("bob@harbour.test")
    before = counts(session)
    response = upload(browser, MIXED + "<script>alert(1)</script>,eve@client.test,Acme Insurance,,,\n")
    assert response.status_code == 200
    page = text_of(response)
    assert "3 ready to send" in page and "2 with problems" in page
    assert re.search(r"3 Eli not-an-email .*“not-an-email” is not an email address", page)
    assert re.search(r"4 Fay fay@client.test Zenith Platform .*“Zenith Platform” is not one of your partners", page)
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Import the 3 good rows" in page and "Import only if every row is good" in page
    assert counts(session) == before


def test_a_long_preview_lists_the_first_bad_rows_in_full_and_the_others_by_line(
        cast: Cast, browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real page lists 500 bad rows and 100 of the others: a file of 10,000 rows is a page that loads.
    monkeypatch.setattr(feedback_import, "PROBLEMS_LISTED", 2)
    monkeypatch.setattr(feedback_import, "OTHERS_LISTED", 1)
    browser.sign_in("bob@harbour.test")
    page = text_of(upload(browser, MIXED + "Hal,hal.client.test,Acme Insurance,,,\nIda,ida@client.test,Nobody,,,\n"))
    assert "2 ready to send" in page and "4 with problems" in page
    assert re.search(r"3 Eli .*“not-an-email” is not an email address", page)
    assert re.search(r"4 Fay .*“Zenith Platform” is not one of your partners", page)
    assert "2 more rows with problems are not listed above, on lines 6, 7." in page
    assert "“Nobody” is not one of your partners" not in page
    assert "Dana" in page and "Gus" not in page and "… and 1 more row ready to send." in page
    assert "Import the 2 good rows" in page


def test_confirming_sends_the_good_rows_and_says_how_many(cast: Cast, browser: Any, session: Session) -> None:
    browser.sign_in("alice@harbour.test")
    text = carried_text(upload(browser, MIXED))
    response = browser.post("/feedback/import/confirm", {"csv": text, "mode": "good-only"})
    assert response.status_code == 302 and response.headers["Location"] in ("/feedback/requests", "/")
    page = text_of(browser.get(response.headers["Location"]))
    assert "Sent 2 feedback requests. Skipped 2 rows with problems (lines 3, 4)." in page
    assert counts(session)[:2] == (2, 2)


def test_all_or_nothing_on_the_page_imports_nothing_and_says_which_lines(cast: Cast, browser: Any,
                                                                         session: Session) -> None:
    browser.sign_in("bob@harbour.test")
    before = counts(session)
    response = browser.post("/feedback/import/confirm", {"csv": MIXED, "mode": "all-or-nothing"})
    assert response.status_code == 422
    assert "Nothing was imported: you asked to import only if every row is good, and 2 rows have problems " \
           "(lines 3, 4)." in text_of(response)
    assert counts(session) == before


@pytest.mark.parametrize("data, words", [
    (b"", "The file is empty"),
    (b"PK\x03\x04\x14\x00", "looks like an Excel workbook"),
    (b"name,email\nDana,dana@client.test\n", "has no client_email and no partner column"),
    (b"client_email,partner\n" + b"d@c.test,Acme\n" * 1_000, "The file is larger than 0.01 MB"),
])
def test_a_bad_upload_gets_the_form_back_with_the_reason(cast: Cast, browser: Any, monkeypatch: pytest.MonkeyPatch,
                                                         data: bytes, words: str) -> None:
    # A smaller limit than the real 1 MB: the test client spools larger bodies to files it never closes.
    monkeypatch.setattr(imports, "MAX_BYTES", 10_000)
    browser.sign_in("bob@harbour.test")
    response = upload(browser, data)
    assert response.status_code == 422
    assert words in text_of(response) and 'id="f-file-error"' in response.get_data(as_text=True)


def test_an_upload_larger_than_the_app_accepts_gets_the_form_back(app: Flask, cast: Cast, browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = upload(browser, b"client_email,partner\n" + b"d@c.test,Acme\n" * 1_000)
    assert response.status_code == 422
    assert f"Split the file into files of at most {imports.MAX_ROWS:,} rows" in text_of(response)


def test_pasted_rows_are_previewed_and_kept_when_they_cannot_be_read(cast: Cast, browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    assert "2 ready to send" in text_of(browser.post("/feedback/import", {"csv": ALL_GOOD.replace(",", "\t")}))
    refused = browser.post("/feedback/import", {"csv": "partner\nAcme Insurance"})
    assert refused.status_code == 422 and "has no client_email column" in text_of(refused)
    assert ">partner\nAcme Insurance</textarea>" in refused.get_data(as_text=True)


def test_the_example_file_imports_as_it_is(cast: Cast, browser: Any) -> None:
    browser.sign_in("bob@harbour.test")
    example = browser.get("/feedback/import/example.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    assert "attachment" in example.headers["Content-Disposition"]
    assert example.get_data().startswith(b"\xef\xbb\xbfclient_name,client_email,partner,touchpoint,")
    page = text_of(upload(browser, example.get_data()))
    assert "2 ready to send" in page and "0 with problems" in page and "Claims form" in page
