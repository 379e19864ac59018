"""Business hours: whether a moment is inside them and how much of a period is, across zones and DST."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from partnermon.practices.business_hours import BusinessHours

UTC = timezone.utc
LONDON = BusinessHours("Europe/London", 9 * 60, 17 * 60 + 30, 0b0011111)  # Mon–Fri 09:00–17:30


def test_it_knows_a_weekday_morning_is_inside_and_a_saturday_is_not() -> None:
    assert LONDON.contains(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))        # Monday 10:00 GMT
    assert not LONDON.contains(datetime(2026, 11, 23, 8, 59, tzinfo=UTC))
    assert not LONDON.contains(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))   # closing time is outside
    assert not LONDON.contains(datetime(2026, 11, 28, 11, 0, tzinfo=UTC))    # Saturday


def test_it_reads_the_clock_in_the_practices_time_zone_in_summer() -> None:
    # 08:30 UTC in July is 09:30 BST: open.
    assert LONDON.contains(datetime(2026, 7, 6, 8, 30, tzinfo=UTC))
    sydney = BusinessHours("Australia/Sydney", 9 * 60, 17 * 60, 0b0011111)
    # Monday 23:00 UTC is Tuesday 10:00 in Sydney.
    assert sydney.contains(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))


def test_it_counts_only_the_business_part_of_a_period_spanning_a_weekend() -> None:
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    monday_10am = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    # Friday 17:00–17:30 and Monday 09:00–10:00: 90 minutes.
    assert LONDON.seconds_within(friday_5pm, monday_10am) == 90 * 60


def test_it_counts_a_whole_week_as_five_business_days() -> None:
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert LONDON.seconds_within(start, start + timedelta(days=7)) == 5 * int(8.5 * 3600)


def test_it_counts_nothing_for_an_empty_or_reversed_period_or_a_practice_with_no_days() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert LONDON.seconds_within(at, at) == 0
    assert LONDON.seconds_within(at, at - timedelta(hours=1)) == 0
    closed = BusinessHours("Europe/London", 9 * 60, 17 * 60, 0)
    assert closed.seconds_within(at, at + timedelta(days=7)) == 0


def test_it_handles_the_night_the_clocks_go_back() -> None:
    # 24-hour business "hours" on Sunday 25 Oct 2026, when London gains an hour: the day lasts 25 hours.
    always = BusinessHours("Europe/London", 0, 24 * 60, 0b1111111)
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)   # local midnight, BST
    end = datetime(2026, 10, 26, 0, 0, tzinfo=UTC)      # local midnight, GMT
    assert always.seconds_within(start, end) == 25 * 3600


# --- deadlines: "N business seconds after" ------------------------------------------------------------

HOUR = 3600


def test_a_deadline_inside_one_business_day_is_plain_arithmetic() -> None:
    monday_10am = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert LONDON.deadline_after(monday_10am, 4 * HOUR) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_a_deadline_skips_the_evening_and_the_weekend() -> None:
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    # Friday 16:00–17:30 is 1.5 hours; the other 2.5 run from Monday 09:00.
    assert LONDON.deadline_after(friday_4pm, 4 * HOUR) == datetime(2026, 11, 30, 11, 30, tzinfo=UTC)


def test_a_deadline_counted_from_outside_business_hours_starts_at_the_next_opening() -> None:
    saturday_night = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    assert LONDON.deadline_after(saturday_night, 4 * HOUR) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    monday_evening = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    # One business day from Monday evening is Tuesday's closing time: a whole day to act.
    assert LONDON.deadline_after(monday_evening, LONDON.day_seconds) == datetime(2026, 11, 24, 17, 30, tzinfo=UTC)


def test_one_business_day_from_inside_business_hours_is_the_same_time_next_business_day() -> None:
    assert LONDON.day_seconds == int(8.5 * HOUR)
    friday_11am = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert LONDON.deadline_after(friday_11am, LONDON.day_seconds) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


def test_a_budget_that_runs_out_at_closing_time_ends_then_not_at_the_next_opening() -> None:
    monday_9am = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert LONDON.deadline_after(monday_9am, LONDON.day_seconds) == datetime(2026, 11, 23, 17, 30, tzinfo=UTC)


def test_a_deadline_across_the_weekend_the_clocks_go_forward_lands_on_monday_local_time() -> None:
    # London moves to BST on Sunday 29 March 2026; Friday 16:00 GMT + 4 business hours is Monday 11:30 BST.
    friday_4pm = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    assert LONDON.deadline_after(friday_4pm, 4 * HOUR) == datetime(2026, 3, 30, 10, 30, tzinfo=UTC)


def test_a_deadline_counts_the_extra_hour_of_the_night_the_clocks_go_back() -> None:
    always = BusinessHours("Europe/London", 0, 24 * 60, 0b1111111)
    sunday_midnight_bst = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert always.deadline_after(sunday_midnight_bst, 24 * HOUR) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert always.deadline_after(sunday_midnight_bst, 25 * HOUR) == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)


def test_a_deadline_and_the_business_time_it_leaves_agree() -> None:
    start = datetime(2026, 11, 26, 15, 17, tzinfo=UTC)
    for seconds in (1, 59 * 60, 4 * HOUR, LONDON.day_seconds, 3 * LONDON.day_seconds + 123):
        assert LONDON.seconds_within(start, LONDON.deadline_after(start, seconds)) == seconds


def test_a_practice_without_business_hours_gets_plain_elapsed_time_rather_than_no_deadline() -> None:
    closed = BusinessHours("Europe/London", 9 * 60, 17 * 60, 0)
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert closed.deadline_after(at, 4 * HOUR) == at + timedelta(hours=4)
