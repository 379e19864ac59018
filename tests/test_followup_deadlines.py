"""Follow-up deadlines in the practice's business hours (Harbour: Europe/London, Mon–Fri 09:00–17:30):
normal ones one business day, urgent ones (claims, complaints) 4 business hours, across weekends and from
outside business hours; an overdue follow-up tells the owners once and reminds the assignee once, whatever
the clock, retries and restarts do. NOW is Monday 23 November 2026, 10:00 GMT.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import Session

from partnermon import jobs, scheduler
from partnermon.followups import deadlines, rules, service
from partnermon.followups.deadlines import DeadlineReport
from partnermon.runtime import Runtime
from tests.conftest import NOW
from tests.factories import Cast
from tests.smtp_server import SmtpServer, make_smtp_server, smtp_server  # noqa: F401 - fixtures
from tests.test_followups import BASE, answer, emails, the_follow_up
from tests.test_outbox import with_smtp

UTC = timezone.utc
URGENT = "Claims form"   # a claim: high stake
NORMAL = "service"       # everyday service: low stake


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026 (GMT, so UTC is London's wall clock)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("answered, about, due", [
    (at(23, 10), NORMAL, at(24, 10)),          # Monday morning: Tuesday, same time
    (at(23, 10), URGENT, at(23, 14)),          # Monday morning, urgent: 4 hours later
    (at(27, 16), NORMAL, at(30, 16)),          # Friday 16:00: 1.5 h on Friday, 7 h on Monday
    (at(27, 16), URGENT, at(30, 11, 30)),      # Friday 16:00, urgent: 1.5 h on Friday, 2.5 h on Monday
    (at(28, 11), NORMAL, at(30, 17, 30)),      # Saturday: the whole of Monday
    (at(28, 22), URGENT, at(30, 13)),          # Saturday night, urgent: Monday 09:00 + 4 h
    (at(23, 20), URGENT, at(24, 13)),          # Monday evening, urgent: Tuesday 09:00 + 4 h
    (at(24, 7), NORMAL, at(24, 17, 30)),       # Tuesday before opening: Tuesday's closing time
], ids=["mon-normal", "mon-urgent", "fri-normal", "fri-urgent", "sat-normal", "sat-night-urgent",
        "evening-urgent", "early-normal"])
def test_the_deadline_counts_only_business_hours(session: Session, cast: Cast, answered: datetime, about: str,
                                                 due: datetime) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=about, at=answered)
    follow_up = the_follow_up(session)
    assert follow_up.urgent == (about == URGENT)
    assert follow_up.contact_due_at == due


def test_the_deadline_lands_right_across_the_weekend_the_clocks_go_forward(session: Session, cast: Cast) -> None:
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)   # 16:00 GMT; London is on BST from Sunday
    answer(session, cast, {"satisfaction": "2"}, about=URGENT, at=friday)
    # Monday 30 March 11:30 BST.
    assert the_follow_up(session).contact_due_at == datetime(2026, 3, 30, 10, 30, tzinfo=UTC)


def test_owners_can_change_the_deadlines_and_which_stakes_are_urgent(session: Session, cast: Cast) -> None:
    rules.update_settings(session, NOW, cast.harbour, cast.alice, on_dissatisfied=True, on_brand_harm=True,
                          on_contact_request=True, due_days="2", urgent_hours="2", urgent_stakes=["high", "low"])
    session.commit()
    answer(session, cast, {"satisfaction": "2"}, about=NORMAL)   # low stake: urgent now
    answer(session, cast, {"satisfaction": "2"}, about="renewal", client_email="erin@client.test")   # medium
    urgent, normal = session.scalars(service.list_follow_ups(cast.harbour.id)).all()   # soonest deadline first
    assert (urgent.urgent, urgent.contact_due_at) == (True, at(23, 12))
    assert (normal.urgent, normal.contact_due_at) == (False, at(25, 10))


# --- escalation ---------------------------------------------------------------------------------------------

def test_an_overdue_follow_up_tells_the_owners_once_and_reminds_the_adviser_once(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=URGENT)   # due 14:00
    assert jobs.follow_up_deadlines(runtime, at(23, 13, 59)) == DeadlineReport()
    # The deadline passing also steps it up the ladder (phone → meeting, issue 19), with a new deadline
    # (Tuesday 09:30): only the runs before that are quiet now.
    assert jobs.follow_up_deadlines(runtime, at(23, 14)) == DeadlineReport(escalated=1, reminded=1, stepped=1)
    for later in (at(23, 14, 1), at(23, 15), at(24, 9, 29)):
        assert jobs.follow_up_deadlines(runtime, later) == DeadlineReport()

    [overdue] = emails(session, "followup_overdue")
    [reminder] = emails(session, "followup_reminder")
    assert overdue.to_addr == "alice@harbour.test" and reminder.to_addr == "bob@harbour.test"
    assert overdue.subject == "Overdue and urgent: Dana is unhappy with Acme Insurance"
    assert "Monday 23 November 2026 at 14:00 GMT" in overdue.text_body and "Bob" not in overdue.text_body
    assert "bob@harbour.test has been reminded" in overdue.text_body
    assert "the owners of Harbour Advice have been told" in reminder.text_body
    follow_up = the_follow_up(session)
    # The step gave it a new deadline, so the notices for that one have not been given yet.
    assert (follow_up.escalated_at, follow_up.assignee_reminded_at) == (None, None)
    assert (follow_up.rung, follow_up.contact_due_at) == ("meeting", at(24, 9, 30))
    assert [(e.action, e.actor) for e in follow_up.events][1:] == [("escalated", "partnermon"),
                                                                   ("reminded", "partnermon"),
                                                                   ("stepped_up", "partnermon"),
                                                                   ("top_told", "partnermon")]


def test_a_follow_up_contacted_in_time_is_never_escalated(session: Session, runtime: Runtime, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=URGENT)
    service.record_contacted(session, at(23, 13), the_follow_up(session), cast.bob, channel="phone")
    session.commit()
    assert jobs.follow_up_deadlines(runtime, at(24, 10)) == DeadlineReport()
    assert emails(session, "followup_overdue") == []


def test_a_run_that_dies_before_committing_leaves_the_next_run_to_tell_everyone_once(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=URGENT)
    with runtime.session_factory() as crashed:
        assert deadlines.check_deadlines(crashed, at(23, 14), BASE) == DeadlineReport(escalated=1, reminded=1,
                                                                                     stepped=1)
        crashed.rollback()   # the worker died: its claims and its emails go with its transaction
    assert emails(session, "followup_overdue") == []
    assert jobs.follow_up_deadlines(runtime, at(23, 14, 1)) == DeadlineReport(escalated=1, reminded=1, stepped=1)
    assert jobs.follow_up_deadlines(runtime, at(23, 14, 2)) == DeadlineReport()
    assert len(emails(session, "followup_overdue")) == len(emails(session, "followup_reminder")) == 1


def test_an_owner_who_has_the_follow_up_gets_the_overdue_notice_and_no_second_reminder(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=URGENT, adviser_email="")   # Alice's
    assert jobs.follow_up_deadlines(runtime, at(23, 14)) == DeadlineReport(escalated=1, reminded=0, stepped=1)
    assert [e.to_addr for e in emails(session, "followup_overdue")] == ["alice@harbour.test"]
    assert emails(session, "followup_reminder") == []
    assert jobs.follow_up_deadlines(runtime, at(23, 15)) == DeadlineReport()


def test_a_reopened_follow_up_gets_a_new_deadline_and_may_be_escalated_once_more(
        session: Session, runtime: Runtime, cast: Cast) -> None:
    answer(session, cast, {"satisfaction": "2"}, about=URGENT)
    jobs.follow_up_deadlines(runtime, at(23, 14))
    follow_up = the_follow_up(session)
    service.record_resolved(session, at(23, 15), follow_up, cast.bob, outcome="stayed", note="Called; all fine.", channel="phone")
    service.reopen(session, at(27, 16), follow_up, cast.alice, note="Dana wrote again.")   # Friday 16:00
    session.commit()
    assert the_follow_up(session).contact_due_at == at(30, 11, 30)
    assert jobs.follow_up_deadlines(runtime, at(30, 11, 29)) == DeadlineReport()
    assert jobs.follow_up_deadlines(runtime, at(30, 11, 30)) == DeadlineReport(escalated=1, reminded=1)
    assert jobs.follow_up_deadlines(runtime, at(30, 12)) == DeadlineReport()
    assert len(emails(session, "followup_overdue")) == len(emails(session, "followup_reminder")) == 2


def test_the_overdue_notice_reaches_the_owner_through_a_real_mail_server(
        session: Session, runtime: Runtime, cast: Cast, smtp_server: SmtpServer) -> None:
    answer(session, cast, {"satisfaction": "1"}, about=NORMAL)   # due Tuesday 10:00
    jobs.follow_up_deadlines(runtime, at(24, 10))
    live = with_smtp(runtime, smtp_server.url())
    # invitation, alert, overdue, reminder, and the ladder's step (to Bob) and top rung (to Alice)
    assert jobs.send_emails(live, at(24, 10), worker="w1").sent == 6
    assert jobs.send_emails(live, at(24, 11), worker="w1").sent == 0
    received = {r.rcpt_tos[0]: r for r in smtp_server.wait_for(6)}
    overdue = [r for r in smtp_server.messages if r.message["Subject"].startswith("Overdue")]
    assert [r.rcpt_tos for r in overdue] == [["alice@harbour.test"]]
    html = overdue[0].message.get_body(("html",)).get_content()
    assert "Tuesday 24 November 2026 at 10:00 GMT" in html and f"{BASE}/follow-ups/" in html
    assert set(received) == {"dana@client.test", "bob@harbour.test", "alice@harbour.test"}


def test_the_deadline_check_is_in_the_schedulers_table() -> None:
    job = next(job for job in scheduler.PERIODIC_JOBS if job.name == "follow-up-deadlines")
    assert job.seconds == 60
