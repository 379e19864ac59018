"""The partner scorecard (issue 21): one partner's month as a PDF for its account manager, drawn by WeasyPrint
and read back with pypdf. It must show that partner's moments and figures with their n, in plain words first,
and name no other partner and no client — not even one a client named in a comment. From the command line and
from the partner page, where another practice's partner is a 404.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnermon.errors import NotFound
from partnermon.models import FeedbackRequest, FeedbackResponse
from partnermon.promises import service as promises_
from partnermon.reports import scorecard
from partnermon.reports.scorecard import KnownNames, anonymise
from partnermon.scoring import board as board_
from partnermon.scoring.periods import month_of
from tests import factories
from tests.conftest import NOW, Browser, text_of
from tests.factories import Cast
from tests.scoring_fixtures import HarbourNovember, harbour_november, moment, respond, utc

# What must never reach the page: another partner of the practice, the commenting client, another client the
# comment names (a client of the other partner), their email addresses and phone numbers, and another practice's.
SECRETS = ("Beacon", "Coral", "Lending", "Marjorie", "Quill", "mq@home.test", "Dana", "Whitlock",
           "dana@client.test", "dana.w@else.test", "07700", "900123", "Zenith", "Quay")
PLANTED = ("Marjorie Quill here: Dana Whitlock said Beacon Platform pay out faster, and beacon answered her "
           "at dana.w@else.test. Ring me on 07700 900123, the claim form timed out twice.")


@pytest.fixture
def november(session: Session, cast: Cast) -> HarbourNovember:
    """Harbour's November (tests/scoring_fixtures.py) with a comment that names everyone it should not."""
    found = harbour_november(session, cast, NOW)
    # Dana is a client of Beacon's, asked about Beacon: her name is only in the practice's records.
    session.add(FeedbackRequest(practice_id=cast.harbour.id, partner_id=found.beacon.id, client_name="Dana Whitlock",
                                client_email="dana@client.test", token_hash="d" * 64, status="sent", source="staff",
                                created_at=utc(2026, 11, 1), expires_at=utc(2026, 12, 1)))
    worst = session.scalars(select(FeedbackResponse).where(
        FeedbackResponse.partner_id == cast.acme.id, FeedbackResponse.satisfaction == 1, FeedbackResponse.verified,
        FeedbackResponse.created_at >= utc(2026, 11, 1)).order_by(FeedbackResponse.created_at)).first()
    assert worst is not None
    worst.comment, worst.client_name, worst.client_email = PLANTED, "Marjorie Quill", "mq@home.test"
    session.commit()
    return found


def card_of(session: Session, cast: Cast, month: str = "2026-11") -> scorecard.Scorecard:
    period = month_of(utc(int(month[:4]), int(month[5:]), 1).date(), cast.harbour.timezone)
    return scorecard.gather(session, NOW, cast.harbour, cast.acme, period)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages).split())


# --- what it shows ------------------------------------------------------------------------------------------

def test_it_shows_the_partners_moments_in_plain_words_and_its_figures_with_n(session: Session, cast: Cast,
                                                                             november: HarbourNovember) -> None:
    card = card_of(session, cast)
    pdf = scorecard.render_scorecard(card)
    text = pdf_text(pdf.data)

    assert pdf.refused == [] and 2 <= pdf.pages <= 4
    assert "Acme Insurance" in text and "Harbour Advice" in text and "PARTNER SCORECARD" in text
    # Claims: 3 of Acme's 10 November answers are dissatisfied (satisfaction 2, 1, 1).
    assert "Claims and hardship: 3 in 10 clients unhappy (n=10)" in text
    # Service: 3 answers, under the minimum of 5: no number, not even a share in words.
    assert "Everyday service: not enough answers yet." in text
    # All moments: 6 of 13 (the 3 claims answers and the 3 service ones): 4.6 in 10.
    assert "Across all moments, about 5 in 10 clients unhappy (n=13)" in text
    # Behind the words: 3/10 is 30 %, Wilson 95 % interval 10.8–60.3 %.
    assert "30 % 11–60 n=10" in text
    # Two outages began in November outside maintenance: 2 Nov 14:00 (a Monday, 30 minutes) and the one still
    # open since 3 Nov 02:00; both reached into business hours. The degraded one and October's are not outages.
    assert "2 outages of your pages began in November 2026; 2 reached into our business hours" in text
    assert "still down" in text
    assert "Twelve months" in text and "What clients said" in text and "the claim form timed out twice" in text


def test_its_figures_are_the_partner_pages_for_the_same_month(session: Session, cast: Cast,
                                                             november: HarbourNovember) -> None:
    card = card_of(session, cast)
    page = board_.build(session, NOW, cast.harbour, card.period, partner_id=cast.acme.id).scores[0]

    assert card.score.index == page.index and card.score.feedback == page.feedback
    assert [m.name for m in card.moments] == [m.name for m in page.moments]
    assert {m.name for m in card.moments} == {"Claims and hardship", "Everyday service"}
    assert card.outages == page.probes.incidents == 2


def test_the_trend_is_twelve_months_with_n_and_gaps_below_the_minimum(session: Session, cast: Cast,
                                                                     november: HarbourNovember) -> None:
    trend = card_of(session, cast).trend

    assert [m.label for m in trend.months][0] == "Dec 2025" and trend.months[-1].label == "Nov 2026"
    assert trend.measure == "Dissatisfied clients (%)"
    # October: one answer (31 October in London), under the minimum: a gap, with its n.
    assert (trend.months[-2].value, trend.months[-2].n, trend.months[-2].enough) == (None, 1, False)
    # November: 6 of 13 dissatisfied.
    assert trend.months[-1].value == pytest.approx(46.15, abs=0.01) and trend.months[-1].n == 13
    assert all(m.value is None and m.n == 0 for m in trend.months[:-2])


def test_it_names_no_other_partner_and_no_client(session: Session, cast: Cast, november: HarbourNovember) -> None:
    card = card_of(session, cast)
    html = scorecard.render_html(card)
    text = pdf_text(scorecard.render_scorecard(card).data)

    for secret in SECRETS:
        assert secret.casefold() not in text.casefold(), secret
        assert secret.casefold() not in html.casefold(), secret
    assert ("[name removed] here: [name removed] said [partner removed] pay out faster, and [partner removed] "
            "answered her at [email removed]. Ring me on [phone removed], the claim form timed out twice.") in text


def add_promise(session: Session, cast: Cast, **data: str) -> None:
    values = {"kind": "tacit", "measure": "satisfaction", "scope": "", "quote": "", "source": "", **data}
    promises_.create_promise(session, NOW, cast.acme, cast.alice, values)
    session.commit()


def test_it_shows_the_partners_promises_kept_and_broken_with_their_evidence(session: Session, cast: Cast,
                                                                          november: HarbourNovember) -> None:
    claims, service = moment(session, cast.harbour, "claim"), moment(session, cast.harbour, "service")
    # Kept: Acme's November claims answers are satisfied (4–5 of 5) 6 times in 10: 60 %, at least the 50 % promised.
    add_promise(session, cast, target="50", scope=f"moment:{claims.id}")
    # Broken: across all its moments 6 of 13 (the claims' 6 of 10 and none of the 3 service answers): 46.2 %, and
    # the Wilson interval's top, 70.9 %, is below 90 %. The quote names another partner: it is taken out.
    add_promise(session, cast, kind="explicit", target="90", source="https://acme.test/service-terms",
                quote="Faster than Beacon Platform: 9 in 10 of our customers are satisfied")
    # Not measured: 3 service answers, under Harbour's minimum of 5.
    add_promise(session, cast, target="80", scope=f"moment:{service.id}")
    # Another partner's promise is not this scorecard's.
    promises_.create_promise(session, NOW, november.beacon, cast.alice, {"kind": "tacit", "measure": "satisfaction",
                                                                         "scope": "", "target": "95"})
    session.commit()

    card = card_of(session, cast)
    text = pdf_text(scorecard.render_scorecard(card).data)

    assert [(p.label, p.about) for p in card.promises] == [
        ("Broken", "All touchpoints"), ("Kept", "Claims and hardship"), ("Not measured", "Everyday service")]
    broken, kept, unmeasured = card.promises
    # Wilson 95 % for 6 of 13: (0.4615 + 1.96²/26 ± 1.96·√(0.4615·0.5385/13 + 1.96²/676)) / (1 + 1.96²/13)
    # = 0.4703 ∓ 0.2383: 23.2–70.9 %. For 6 of 10: (0.6 + 0.1921 ∓ 0.3593) / 1.3842: 31.3–83.2 %.
    assert broken.evidence == "46.2 % (23.2–70.9 %) of clients satisfied, n = 13"
    assert broken.quote == "Faster than [partner removed]: 9 in 10 of our customers are satisfied"
    assert kept.evidence == "60.0 % (31.3–83.2 %) of clients satisfied, n = 10" and kept.quote == ""
    assert unmeasured.evidence == "not enough answers yet (3 of 5)"
    assert "Your promises in November 2026" in text
    assert ("At least 90 % of clients satisfied You said: “Faster than [partner removed]: 9 in 10 of our customers are "
            "satisfied” All touchpoints Broken 46.2 % (23.2–70.9 %) of clients satisfied, n = 13") in text
    assert ("At least 50 % of clients satisfied What our clients expect of you Claims and hardship Kept 60.0 % "
            "(31.3–83.2 %) of clients satisfied, n = 10") in text
    html = scorecard.render_html(card)
    for secret in SECRETS:
        assert secret.casefold() not in html.casefold(), secret


def test_a_partner_without_promises_has_no_promise_section(session: Session, cast: Cast,
                                                           november: HarbourNovember) -> None:
    card = card_of(session, cast)
    assert card.promises == []
    assert "romise" not in pdf_text(scorecard.render_scorecard(card).data)


def test_a_month_with_nothing_measured_says_so(session: Session, cast: Cast) -> None:
    card = card_of(session, cast, "2026-10")
    text = pdf_text(scorecard.render_scorecard(card).data)

    assert card.nothing_measured
    assert "Nothing was measured this month" in text and "Nothing to draw yet" in text
    assert "No client left a comment about you in October 2026" in text


# --- anonymising --------------------------------------------------------------------------------------------

def test_anonymise_takes_out_names_written_as_names_and_leaves_ordinary_words() -> None:
    known = KnownNames(clients={"will", "o'brien", "smith"}, partners={"beacon", "platform"},
                       partner_names=["Beacon Platform"], brands={"beacon"})

    assert anonymise("I will ask Will O'Brien's team", known) == "I will ask [name removed] team"
    assert anonymise("beacon platform, then BEACON, beacon's", known) == ("[partner removed], then [partner removed], "
                                                                          "[partner removed]")
    assert anonymise("mail a.b@c.test or +44 7700 900 123", known) == "mail [email removed] or [phone removed]"
    assert anonymise("the smith and the platform; the Platform", known) == "the smith and the platform; the [partner removed]"
    # A probe's error: other partners only, and numbers stay.
    assert anonymise("Redirected to https://beacon-platform.test/ after 1234567890 ms (Will)", known, clients=False) == (
        "Redirected to https://[partner removed].test/ after 1234567890 ms (Will)")


def test_words_the_partners_own_name_uses_stay(session: Session, cast: Cast) -> None:
    factories.partner(session, NOW, cast.harbour, "Beacon Insurance")
    session.commit()
    known = scorecard.known_names(session, cast.harbour, cast.acme)   # Acme Insurance
    assert "beacon" in known.partners and "insurance" not in known.partners
    assert anonymise("Insurance with Beacon", known) == "Insurance with [partner removed]"


# --- finding the partner ------------------------------------------------------------------------------------

def test_a_partner_is_found_by_its_name_in_any_case_or_by_its_id_in_its_own_practice_only(session: Session,
                                                                                         cast: Cast) -> None:
    assert scorecard.find_partner(session, cast.harbour.id, "  aCME insurance ") == cast.acme
    assert scorecard.find_partner(session, cast.harbour.id, str(cast.acme.id)) == cast.acme
    with pytest.raises(NotFound, match="no partner named “Zenith Platform”"):
        scorecard.find_partner(session, cast.harbour.id, "Zenith Platform")
    with pytest.raises(NotFound):
        scorecard.find_partner(session, cast.harbour.id, str(cast.zenith.id))


def test_the_file_name_is_the_practice_partner_and_month() -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name, self.id = name, 7

    assert scorecard.file_name("harbour", Named("Acme Insurance"), "2026-11") == "scorecard-harbour-acme-insurance-2026-11.pdf"  # type: ignore[arg-type]
    assert scorecard.file_name("harbour", Named("Київ Банк"), "2026-11") == "scorecard-harbour-partner-7-2026-11.pdf"  # type: ignore[arg-type]


# --- the command --------------------------------------------------------------------------------------------

@pytest.fixture
def cli(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    return cli


def test_partnermon_scorecard_writes_the_pdf_by_name_in_any_case(cli: Callable[..., Result], session: Session,
                                                                 cast: Cast, november: HarbourNovember,
                                                                 tmp_path: Path) -> None:
    result = cli("scorecard", "--practice", "harbour", "--partner", "ACME insurance", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    written = tmp_path / "scorecard-harbour-acme-insurance-2026-11.pdf"
    assert "Wrote scorecard-harbour-acme-insurance-2026-11.pdf: Acme Insurance, November 2026" in result.stdout
    text = pdf_text(written.read_bytes())
    assert "Claims and hardship: 3 in 10 clients unhappy (n=10)" in text
    for secret in SECRETS:
        assert secret.casefold() not in text.casefold(), secret


def test_partnermon_scorecard_takes_an_id_and_an_output_file(cli: Callable[..., Result], cast: Cast,
                                                             tmp_path: Path) -> None:
    result = cli("scorecard", "--practice", "harbour", "--partner", str(cast.acme.id), "--month", "2026-10",
                 "-o", "acme.pdf")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "acme.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, message", [
    (("--practice", "nowhere", "--partner", "Acme Insurance", "--month", "2026-10"), "No practice has the slug “nowhere”"),
    (("--practice", "harbour", "--partner", "Zenith Platform", "--month", "2026-10"),
     "This practice has no partner named “Zenith Platform”"),
    (("--practice", "harbour", "--partner", "Acme Insurance", "--month", "2026-13"), "--month: “2026-13” is not a month"),
    (("--practice", "harbour", "--partner", "Acme Insurance", "--month", "2099-01"), "January 2099 has not started yet"),
    (("--practice", "harbour", "--partner", "Acme Insurance", "--month", "30d"), "a scorecard is for a calendar month"),
    (("--practice", "harbour", "--partner", "Acme Insurance", "--month", "2026-10", "-o", "missing/x.pdf"),
     "-o: the folder missing does not exist"),
])
def test_partnermon_scorecard_names_the_problem_in_one_line(cli: Callable[..., Result], cast: Cast, args: tuple[str, ...],
                                                            message: str, tmp_path: Path) -> None:
    result = cli("scorecard", *args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.glob("**/*.pdf")) == []


# --- the partner page ---------------------------------------------------------------------------------------

@pytest.fixture
def clocked(app: Flask) -> Flask:
    app.config["PARTNERMON_CLOCK"] = lambda: NOW
    return app


def test_owners_and_advisers_download_it_from_the_partner_page(clocked: Flask, browser: Browser, session: Session,
                                                               cast: Cast, november: HarbourNovember) -> None:
    browser.sign_in("bob@harbour.test")
    page = browser.get(f"/partners/{cast.acme.id}")
    assert "Scorecard for October 2026 (PDF)" in text_of(page)   # the last complete month before 23 November
    assert '<option value="2026-10" selected>October 2026</option>' in page.get_data(as_text=True)
    assert f'/partners/{cast.acme.id}/scorecard.pdf?month=2026-10' in page.get_data(as_text=True)

    response = browser.get(f"/partners/{cast.acme.id}/scorecard.pdf?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="scorecard-harbour-acme-insurance-2026-11.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response.data)
    assert "Claims and hardship: 3 in 10 clients unhappy (n=10)" in text
    for secret in SECRETS:
        assert secret.casefold() not in text.casefold(), secret
    assert browser.get(f"/partners/{cast.acme.id}/scorecard.pdf").status_code == 200   # October, by default


@pytest.mark.parametrize("month", ["2026-13", "2099-01", "30d", "nonsense"])
def test_a_month_that_is_not_one_is_not_found(clocked: Flask, browser: Browser, cast: Cast, month: str) -> None:
    browser.sign_in("alice@harbour.test")
    assert browser.get(f"/partners/{cast.acme.id}/scorecard.pdf?month={month}").status_code == 404


def test_another_practices_partner_is_not_found_and_viewers_get_no_scorecard(clocked: Flask, browser: Browser,
                                                                             new_browser, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    browser.sign_in("alice@harbour.test")
    assert browser.get(f"/partners/{cast.zenith.id}/scorecard.pdf?month=2026-11").status_code == 404
    viewer = new_browser().sign_in("vera@harbour.test")
    assert viewer.get(f"/partners/{cast.acme.id}/scorecard.pdf?month=2026-11").status_code == 403
    assert "Scorecard for" not in text_of(viewer.get(f"/partners/{cast.acme.id}"))
    signed_out = new_browser().get(f"/partners/{cast.acme.id}/scorecard.pdf")
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]


def test_an_open_incident_counts_up_to_now(session: Session, cast: Cast, november: HarbourNovember) -> None:
    # The incident still open since 3 Nov 02:00 is listed with its business-hours time up to NOW.
    card = card_of(session, cast)
    open_rows = [r for r in card.incidents if r.still_open]
    assert len(open_rows) == 1 and open_rows[0].seconds == int((NOW - utc(2026, 11, 3, 2)).total_seconds())
    assert open_rows[0].bh_seconds > 0 and card.incidents[0] is open_rows[0]   # most business-hours time first


def test_a_comment_from_another_month_or_the_open_link_is_left_out(session: Session, cast: Cast,
                                                                   november: HarbourNovember) -> None:
    late = respond(session, cast.acme, utc(2026, 12, 1, 1), "claim", satisfaction=1)
    late.comment = "December's comment"
    unverified = respond(session, cast.acme, utc(2026, 11, 9), "claim", satisfaction=1, verified=False)
    unverified.comment = "Unverified comment"
    session.commit()
    texts = [c.text for c in card_of(session, cast).comments]
    assert texts and not any("December" in t or "Unverified" in t for t in texts)


def test_what_users_typed_is_escaped_and_nothing_outside_is_fetched(session: Session, cast: Cast) -> None:
    cast.acme.name = 'Acme </style><script>alert(1)</script> <img src="http://127.0.0.1:9/x.png">'
    for i in range(5):
        answer = respond(session, cast.acme, utc(2026, 11, 5, i), "claim", satisfaction=1)
        answer.comment = '<img src="file:///etc/passwd"> <b>bold</b> & more'
    session.commit()
    card = card_of(session, cast)
    html = scorecard.render_html(card)
    pdf = scorecard.render_scorecard(card)

    assert "<script>" not in html and "<img src=\"http" not in html and "<b>bold" not in html
    assert pdf.refused == []
    text = pdf_text(pdf.data)
    assert '<b>bold</b> & more' in text and "</style><script>alert(1)</script>" in text


def test_outages_in_business_hours_are_all_counted_past_the_listed_twenty(session: Session, cast: Cast,
                                                                          november: HarbourNovember) -> None:
    from datetime import timedelta

    from partnermon.reports import content
    from tests.scoring_fixtures import incident

    # 25 more outages in business hours and 3 at night, on top of November's 2 in business hours (the one from
    # 2 Nov 14:00 and the one still open since 3 Nov 02:00) and one in maintenance: 27 in business hours.
    for hour in range(25):
        incident(session, cast.acme_claims, utc(2026, 11, 9, 9) + timedelta(hours=hour), seconds=300, bh_seconds=300)
    for night in range(3):
        incident(session, cast.acme_claims, utc(2026, 11, 14 + night, 1), seconds=300, bh_seconds=0)
    session.commit()
    card = card_of(session, cast)
    assert card.bh_outages == 27
    assert len(card.incidents) <= 20   # the table stays the partner page's recent list
    report = content.gather(session, NOW, cast.harbour, month_of(utc(2026, 11, 1).date(), cast.harbour.timezone))
    assert report.incidents.in_business_hours == card.bh_outages
