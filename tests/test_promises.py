"""Promises (issue 20): each month a promise is kept, broken, too close to call or not measured, with its
evidence; months are the practice's own (Harbour moved to Sydney here, so a month turns eleven hours before
London's); a broken explicit promise tells the partner's subscribers once a month; impossible targets and
answers that are not durations get a clear message and nothing is lost."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.alerts.promises import notify_broken_promises
from partnermon.errors import ValidationError
from partnermon.models import FeedbackResponse, OutboxEmail, Promise
from partnermon.promises import durations, service, verdicts
from partnermon.scoring import periods
from tests.conftest import NOW, text_of
from tests.factories import Cast
from tests.scoring_fixtures import daily, moment, respond, utc

SYDNEY = "Australia/Sydney"
OCTOBER = periods.month_of(date(2026, 10, 1), SYDNEY)
NOVEMBER = periods.month_of(date(2026, 11, 1), SYDNEY)


@pytest.fixture
def sydney(session: Session, cast: Cast) -> Cast:
    cast.harbour.timezone = SYDNEY
    session.commit()
    return cast


def promise(session: Session, cast: Cast, **data: str) -> Promise:
    values = {"kind": "tacit", "measure": "satisfaction", "scope": "", "target": "80", **data}
    made = service.create_promise(session, NOW, cast.acme, cast.alice, values)
    session.commit()
    return made


def answer(session: Session, cast: Cast, at: datetime, satisfactions: list[int], *, took: list[int] | None = None
           ) -> None:
    for i, satisfaction in enumerate(satisfactions):
        row = respond(session, cast.acme, at + timedelta(minutes=i), "claim", satisfaction=satisfaction)
        if took is not None:
            row.duration_seconds, row.duration_text = took[i], "as typed"
    session.commit()


# --- verdicts across a month boundary, in the practice's time zone ---------------------------------------

def test_satisfaction_is_kept_in_one_month_and_broken_in_the_next_by_the_practices_own_calendar(
        session: Session, sydney: Cast) -> None:
    kept = promise(session, sydney, target="80")
    # 31 Oct 12:00 UTC is 23:00 in Sydney: still October there. 14:00 UTC is 01:00 on 1 November in Sydney,
    # though still October in London and in UTC.
    answer(session, sydney, utc(2026, 10, 31, 12), [5] * 10)
    answer(session, sydney, utc(2026, 10, 31, 14), [5] + [2] * 9)
    october = verdicts.verdict(session, sydney.harbour, kept, OCTOBER)
    november = verdicts.verdict(session, sydney.harbour, kept, NOVEMBER)
    assert (october.state, october.n) == ("kept", 10)
    # 1 of 10 satisfied: Wilson 95 % interval 1.8 %–40.4 %, wholly below 80 %: clearly broken.
    assert (november.state, november.n) == ("broken", 10)
    assert november.estimate.low == pytest.approx(0.01788, abs=5e-5)
    assert november.estimate.high == pytest.approx(0.40415, abs=5e-5)
    assert november.evidence() == "10.0 % (1.8–40.4 %) of clients satisfied, n = 10"


def test_a_miss_inside_the_interval_is_too_close_to_call_and_below_the_minimum_is_not_measured(
        session: Session, sydney: Cast) -> None:
    made = promise(session, sydney, target="80")
    # 7 of 10 satisfied: 70 % misses 80 %, but the interval (39.7 %–89.2 %) reaches it.
    answer(session, sydney, utc(2026, 11, 3), [5] * 7 + [1] * 3)
    assert verdicts.verdict(session, sydney.harbour, made, NOVEMBER).state == "unclear"
    # October: four answers, one short of the practice's minimum of five.
    answer(session, sydney, utc(2026, 10, 3), [1] * 4)
    october = verdicts.verdict(session, sydney.harbour, made, OCTOBER)
    assert (october.state, october.estimate) == ("not_measured", None)
    assert october.evidence() == "not enough answers yet (4 of 5)"


def test_availability_uses_the_local_days_of_the_month(session: Session, sydney: Cast) -> None:
    made = promise(session, sydney, measure="availability", target="99.5", scope=f"touchpoint:{sydney.acme_claims.id}")
    tp = sydney.acme_claims
    daily(session, tp, date(2026, 10, 31), up=1000)                       # the last local day of October
    for day in range(1, 6):                                               # 1–5 November: 180 up, 20 down each
        daily(session, tp, date(2026, 11, day), up=180, down=20)
    session.commit()
    october = verdicts.verdict(session, sydney.harbour, made, OCTOBER)
    november = verdicts.verdict(session, sydney.harbour, made, NOVEMBER)
    assert (october.state, october.n, october.estimate.value) == ("kept", 1000, 1.0)
    # 900 of 1,000 checks working, every day alike (design effect 1): Wilson 88.0 %–91.7 %, below 99.5 %.
    assert (november.state, november.n) == ("broken", 1000)
    assert november.estimate.value == pytest.approx(0.9)
    assert november.estimate.low == pytest.approx(0.8798, abs=5e-4)
    assert november.estimate.high == pytest.approx(0.9171, abs=5e-4)


def test_p95_is_read_from_the_histogram_with_an_interval_around_its_rank(session: Session, sydney: Cast) -> None:
    made = promise(session, sydney, measure="p95_ms", target="1000")
    # 900 checks in 150–200 ms, 100 in 2–3 s: the 950th of 1,000 lies half-way through the 2–3 s bucket.
    daily(session, sydney.acme_claims, date(2026, 11, 2), up=1000, buckets={5: 900, 13: 100})
    session.commit()
    found = verdicts.verdict(session, sydney.harbour, made, NOVEMBER)
    assert found.estimate.value == pytest.approx(2500)
    # Rank 0.95 ∓ 1.96·√(0.95·0.05/1000) = 0.9365 … 0.9635 → 2,365 ms … 2,635 ms, all above 1,000 ms.
    assert found.estimate.low == pytest.approx(2364.9, abs=0.5)
    assert found.estimate.high == pytest.approx(2635.1, abs=0.5)
    assert found.state == "broken"
    assert "p95 2.5 s (2.4 s–2.6 s) over 1,000 checks" == found.evidence()


def test_a_duration_promise_counts_the_clients_who_said_it_took_no_longer(session: Session, sydney: Cast) -> None:
    made = promise(session, sydney, kind="explicit", measure="duration", target="2 days",
                   scope=f"moment:{moment(session, sydney.harbour, 'claim').id}",
                   quote="Claims acknowledged within 2 business days", source="https://acme.test/service-terms")
    assert made.target == 2 * 86400
    day = 86400
    # 4 of 10 within two days: 40 % (16.8 %–68.7 %), wholly below the 90 % the promise needs.
    answer(session, sydney, utc(2026, 11, 5), [4] * 10, took=[day, 2 * day, day // 2, 3600] + [5 * day] * 6)
    found = verdicts.verdict(session, sydney.harbour, made, NOVEMBER)
    assert (found.state, found.n) == ("broken", 10)
    assert found.estimate.value == pytest.approx(0.4)
    assert found.evidence() == "40.0 % (16.8–68.7 %) of clients said it took at most 2 days, n = 10"


# --- the alert, once ----------------------------------------------------------------------------------

def test_a_broken_explicit_promise_tells_the_partners_subscribers_once_a_month(session: Session, sydney: Cast) -> None:
    promise(session, sydney, kind="explicit", quote="9 in 10 of our customers are satisfied",
            source="acme.test/about", target="90")
    promise(session, sydney, kind="tacit", target="90")        # tacit: shown, never emailed
    answer(session, sydney, utc(2026, 11, 10), [1] * 10)
    at = utc(2026, 11, 20)
    first = notify_broken_promises(session, at, "http://partnermon.test", "test-secret-key")
    session.commit()
    again = notify_broken_promises(session, at + timedelta(hours=1), "http://partnermon.test", "test-secret-key")
    session.commit()
    emails = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "promise_broken")).all()
    assert (first.broken, first.emails, again.broken) == (1, 1, 0)
    assert [e.to_addr for e in emails] == ["alice@harbour.test"]   # the owner; Bob the adviser did not opt in
    assert "Promise broken: Acme Insurance – Satisfied clients (November 2026)" in emails[0].subject
    assert "9 in 10 of our customers are satisfied" in emails[0].text_body
    assert "0.0 % (0.0–27.8 %) of clients satisfied, n = 10" in emails[0].text_body
    # Still broken in December: that is a new month's news, told once more.
    answer(session, sydney, utc(2026, 12, 10), [1] * 10)
    december = notify_broken_promises(session, utc(2026, 12, 20), "http://partnermon.test", "test-secret-key")
    session.commit()
    assert (december.broken, december.emails) == (1, 1)


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field", "message"), [
    ({"measure": "availability", "target": "101"}, "target", "at most 100"),
    ({"measure": "satisfaction", "target": "-5"}, "target", "above 0"),
    ({"measure": "p95_ms", "target": "0"}, "target", "more than 0 ms"),
    ({"measure": "p95_ms", "target": "90000"}, "target", "at most 30,000 ms"),
    ({"measure": "duration", "target": "-2 days"}, "target", "is not a duration"),
    ({"measure": "duration", "target": "0 hours"}, "target", "longer than zero"),
    ({"measure": "availability", "target": "lots"}, "target", "as a number"),
    ({"kind": "explicit", "quote": "", "source": ""}, "quote", "Quote what the partner said"),
    ({"scope": "touchpoint:999999"}, "scope", "Choose one of this partner's touchpoints"),
])
def test_an_impossible_promise_gets_a_field_message_and_nothing_is_saved(
        session: Session, cast: Cast, data: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        promise(session, cast, **data)
    assert message in caught.value.errors[field]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Promise)) == 0


def test_another_practices_touchpoint_cannot_be_the_scope(session: Session, cast: Cast) -> None:
    from tests import factories
    theirs = factories.touchpoint(session, NOW, cast.zenith, "Zenith login", "service")
    with pytest.raises(ValidationError):
        promise(session, cast, scope=f"touchpoint:{theirs.id}")


@pytest.mark.parametrize(("text", "seconds"), [
    ("3 days", 3 * 86400), ("2 weeks", 14 * 86400), ("45 minutes", 2700), ("1h30", 5400), ("2:30", 9000),
    ("an hour", 3600), ("half an hour", 1800), ("1 day 4 hours", 28 * 3600), ("2 working days", 2 * 86400),
    ("about 3 days", 3 * 86400), ("1.5 hours", 5400), ("3d", 3 * 86400), ("  10   MINUTES ", 600),
])
def test_durations_are_read_as_people_write_them(text: str, seconds: int) -> None:
    assert durations.parse("duration", text) == seconds


@pytest.mark.parametrize("text", ["soon", "3", "ages", "-2 days", "0 days", "400 days", "3 parsecs", "x" * 61])
def test_what_is_not_a_duration_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        durations.parse("duration", text)
    assert "e.g." in caught.value.errors["duration"]


# --- the client's form --------------------------------------------------------------------------------

def _ask_about_claims(session: Session, cast: Cast) -> str:
    from partnermon.feedback import links
    claims = moment(session, cast.harbour, "claim")
    claims.ask_duration = True
    made = links.create_request(session, NOW, cast.harbour, {"partner": "Acme Insurance", "client_email": "dana@client.test",
                                                             "touchpoint": "Claims form"},
                                actor=cast.bob, source="form", base_url="http://partnermon.test", adviser=cast.bob)
    session.commit()
    assert made.link is not None
    return made.link.removeprefix("http://partnermon.test")


def test_the_form_asks_how_long_it_took_only_where_the_moment_asks_it(client, session, cast) -> None:  # type: ignore[no-untyped-def]
    path = _ask_about_claims(session, cast)
    assert "How long did it take?" in text_of(client.get(path))
    moment(session, cast.harbour, "claim").ask_duration = False
    session.commit()
    assert "How long did it take?" not in text_of(client.get(path))


def test_a_duration_that_is_not_one_is_a_field_message_and_nothing_typed_is_lost(client, session, cast) -> None:  # type: ignore[no-untyped-def]
    path = _ask_about_claims(session, cast)
    posted = {"satisfaction": "2", "comment": "Still waiting for them", "duration": "forever and a day"}
    response = client.post(path, data=posted)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is not a duration we understand" in text_of(response)
    assert 'value="forever and a day"' in html and "Still waiting for them" in html
    assert session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0
    # Fixed, it is stored with what the client wrote.
    assert client.post(path, data={**posted, "duration": "3 days"}).status_code == 303
    stored = session.scalars(select(FeedbackResponse)).one()
    assert (stored.duration_seconds, stored.duration_text, stored.comment) == (3 * 86400, "3 days", "Still waiting for them")
