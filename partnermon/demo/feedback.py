"""The demo's client feedback: feedback requests (mostly answered, some still out or expired) and the
clients' responses, spread through the history with the recent months busier, telling the stories.

Each client's mood is drawn from how the touchpoint was treating people then: the claims portal's
dissatisfaction climbs from about 10 % to nearly 40 % in the last month, the contact page without a phone
number sours its moment, and a partner new to the panel has only three answers ("not enough feedback yet").
Link tokens are made as ``feedback.links`` makes them (``secrets``, only the SHA-256 kept) and thrown
away: nobody needs them, and tokens derived from the seed would be links anyone could rebuild.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator

from sqlalchemy.orm import Session

from partnermon.accounts.security import new_token, token_hash
from partnermon.demo import catalogue, comments
from partnermon.demo.bulk import insert_returning_ids
from partnermon.demo.cast import Cast, DemoTouchpoint
from partnermon.demo.timeline import CONTACT_LOST_DAYS, Calendar
from partnermon.models import FeedbackRequest, FeedbackResponse

DAY = timedelta(days=1)
RESPONSES_PER_MONTH = 150            # at the default scale (30 touchpoints); more touchpoints, more answers
OPEN_LINK_SHARE = 0.02
UNANSWERED_SHARE = 0.2
NEUTRAL_SHARE = 0.15
SOURCES = (("form", 0.5), ("csv", 0.25), ("api", 0.2), ("cli", 0.05))
# How likely an unhappy client is to say the practice now looks worse, by moment: about what the owner's stakes
# guess (high 0.6, medium 0.4, low 0.2; the learned weight is 5 × the difference, partnermon.scoring.learned) except
# everyday service, where clients blame the adviser for the portal far more than its "low" stake supposes — the
# moments page shows that learned weight differing from the owner's.
HARSH = {"claim": 0.6, "complaint": 0.6, "service": 0.7, "return": 0.2, "advocacy": 0.2}
# Comments of the last this many days come from comments.RECENT_TOPICS, so the themes page has themes to find.
RECENT_DAYS = 90
# When clients answer, by local hour: evenings and lunchtimes more than the small hours.
ANSWER_HOURS = [0.2] * 7 + [1, 2, 2.5, 2.5, 3, 3, 2.5, 2.5, 2.5, 2.5, 3, 3.5, 4, 4, 3, 1.5, 0.5]


@dataclass
class Answer:
    """One response being made up: where, when, how the client felt, and which comments fit."""

    touchpoint: DemoTouchpoint
    at: datetime
    mood: str                                # happy, neutral, unhappy
    story_comments: tuple[str, ...] = ()
    verified: bool = True
    comment: str | None = None               # chosen already (a story's own words), else drawn


@dataclass
class FeedbackCounts:
    requests: int = 0
    responses: int = 0
    open_link: int = 0


def default_responses(months: int, touchpoints: int) -> int:
    return round(RESPONSES_PER_MONTH * months * max(1.0, touchpoints / 30))


def dissatisfaction(touchpoint: DemoTouchpoint, age: float) -> float:
    """The chance a client of this touchpoint was dissatisfied ``age`` days ago."""
    base = touchpoint.partner.spec.dissatisfaction
    story = touchpoint.spec.story
    if story == catalogue.CLAIMS_DECLINE:
        if age <= 30:
            return 0.38
        if age <= 60:
            return 0.13
        return base + (0.13 - base) * max(0.0, 1 - (age - 60) / 270)
    if story == catalogue.CONTACT_LOST and age <= CONTACT_LOST_DAYS:
        return 0.4
    return base


def _story_comments(touchpoint: DemoTouchpoint, age: float, mood: str) -> tuple[str, ...]:
    story = touchpoint.spec.story
    if story == catalogue.CLAIMS_DECLINE and age <= 120:
        return comments.CLAIMS_DECLINE.get(mood, ())
    if story == catalogue.CONTACT_LOST and age <= CONTACT_LOST_DAYS:
        return comments.CONTACT_LOST.get(mood, ())
    return ()


class Planner:
    """Decides who answered what, when, in what mood."""

    def __init__(self, cast: Cast, calendar: Calendar, rng: random.Random):
        self.cast, self.calendar, self.rng = cast, calendar, rng
        self.span = (calendar.now - calendar.start).total_seconds()

    def answer(self, touchpoint: DemoTouchpoint, at: datetime, mood: str | None = None,
               story_comments: tuple[str, ...] | None = None) -> Answer:
        age = self.calendar.age_days(at)
        if mood is None:
            roll = self.rng.random()
            bad = dissatisfaction(touchpoint, age)
            mood = "unhappy" if roll < bad else "neutral" if roll < bad + NEUTRAL_SHARE else "happy"
        found = _story_comments(touchpoint, age, mood) if story_comments is None else story_comments
        return Answer(touchpoint, at, mood, found)

    def moment_in_day(self, day_at: datetime) -> datetime:
        """A time on that local day when a client might answer, before now."""
        local_day = day_at.astimezone(self.calendar.zone).date()
        hour = self.rng.choices(range(24), weights=ANSWER_HOURS)[0]
        at = self.calendar.local(local_day, hour, self.rng.randrange(60)) + timedelta(seconds=self.rng.randrange(60))
        while at >= self.calendar.now:
            at -= DAY
        return max(at, self.calendar.start)

    def growing(self, start: datetime | None = None) -> datetime:
        """A time in [start, now), busier towards now: the practice asks more as it gets used to asking."""
        start = max(start or self.calendar.start, self.calendar.start)
        span = (self.calendar.now - start).total_seconds()
        u = self.rng.random()
        x = (-1 + math.sqrt(1 + 5.25 * u)) / 1.5     # the inverse of a density rising 1 → 2.5 across the span
        return self.moment_in_day(start + timedelta(seconds=x * span))

    def between(self, start: datetime, end: datetime) -> datetime:
        """A time in [start, end) at an hour when clients answer (it matters at the edges of the periods the
        stories are compared over)."""
        start = max(start, self.calendar.start)
        at = start
        for _ in range(5):
            at = self.moment_in_day(start + timedelta(seconds=self.rng.random() * (end - start).total_seconds()))
            if start <= at < end:
                break
        return min(max(at, start), end - timedelta(seconds=1))

    def quota(self, touchpoint: DemoTouchpoint, count: int, first: datetime, last: datetime) -> list[Answer]:
        """``count`` answers in [first, last) whose moods come in the period's exact proportions: a story
        must show whatever the seed, not only on a lucky draw."""
        bad = dissatisfaction(touchpoint, self.calendar.age_days(first + (last - first) / 2))
        unhappy, neutral = round(count * bad), round(count * NEUTRAL_SHARE)
        moods = ["unhappy"] * unhappy + ["neutral"] * neutral + ["happy"] * (count - unhappy - neutral)
        self.rng.shuffle(moods)
        answers = [self.answer(touchpoint, self.between(first, last), mood) for mood in moods]
        # The unhappy clients say the story's own words, each in turn, so every one of them is there to read.
        told = [a for a in answers if a.mood == "unhappy" and a.story_comments]
        for index, answer in enumerate(told):
            answer.comment = answer.story_comments[index % len(answer.story_comments)]
        return answers

    def plan(self, total: int) -> list[Answer]:
        now, rng = self.calendar.now, self.rng
        answers: list[Answer] = []
        quiet = [p for p in self.cast.partners if p.spec.story == catalogue.QUIET]
        for partner in quiet:
            for _ in range(3):
                answers.append(self.answer(rng.choice(partner.touchpoints), self.between(now - 120 * DAY, now)))
        claims = self.cast.story(catalogue.CLAIMS_DECLINE)
        if claims is not None:
            # Enough claims answers in each of the last two 30-day periods for the change to be significant.
            per_period = max(100, round(0.055 * total))
            for first, last in ((now - 30 * DAY, now), (now - 60 * DAY, now - 30 * DAY)):
                if last > self.calendar.start:
                    answers += self.quota(claims, per_period, first, last)
        contact = self.cast.story(catalogue.CONTACT_LOST)
        if contact is not None:
            lost = now - CONTACT_LOST_DAYS * DAY
            answers += self.quota(contact, max(12, round(0.01 * total)), lost, now)
        for story, words, day in ((catalogue.NIGHT_OUTAGE, comments.NIGHT_OUTAGE, self.calendar.night_outage_day),
                                  (catalogue.DAY_OUTAGE, comments.DAY_OUTAGE, self.calendar.day_outage_day)):
            touchpoint = self.cast.story(story)
            if touchpoint is not None:
                # Answers in the days after the outage, from clients who met it.
                after = self.calendar.local(day + DAY, 12, 0)
                answers += [self.answer(touchpoint, self.between(after, min(now, after + 3 * DAY)), "unhappy", words)
                            for _ in range(2)]
        ordinary = [p for p in self.cast.partners if p.spec.story != catalogue.QUIET and p.touchpoints]
        weights = [p.spec.exposure for p in ordinary]
        generic = []
        for _ in range(max(0, total - len(answers))):
            partner = rng.choices(ordinary, weights=weights)[0]
            generic.append(self.answer(rng.choice(partner.touchpoints), self.growing()))
        # A few answers came through the practice's open link (at least a handful, to be seen).
        for answer in rng.sample(generic, min(len(generic), max(3, round(OPEN_LINK_SHARE * len(generic))))):
            answer.verified = False
        answers += generic
        if len(answers) > total:
            # A small total: the stories' answers alone are more than asked for, so keep a fair sample.
            answers = rng.sample(answers, total)
        return sorted(answers, key=lambda a: a.at)


class Clients:
    """Invented clients, each with an address of their own (the throttle keeps asking one client rarely)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: dict[str, int] = {}

    def next(self) -> tuple[str, str]:
        first, last = self.rng.choice(catalogue.CLIENT_FIRST), self.rng.choice(catalogue.CLIENT_LAST)
        local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
        self.seen[local] = self.seen.get(local, 0) + 1
        number = self.seen[local]
        domain = self.rng.choice(catalogue.CLIENT_DOMAINS)
        return f"{first} {last}", f"{local}{number if number > 1 else ''}@{domain}"


def _answers_of(answer: Answer, rng: random.Random) -> dict[str, Any]:
    mood, moment = answer.mood, answer.touchpoint.moment.key
    if mood == "happy":
        satisfaction = 5 if rng.random() < 0.55 else 4
        recommend, effort = rng.choice((8, 9, 9, 10, 10, 10)), rng.randint(5, 7)
        brand = "better" if rng.random() < 0.3 else "same"
    elif mood == "neutral":
        satisfaction, recommend, effort = 3, rng.randint(5, 8), rng.randint(3, 5)
        brand = "worse" if rng.random() < 0.1 else "same"
    else:
        satisfaction = 2 if rng.random() < 0.6 else 1
        recommend, effort = rng.randint(0, 6), rng.randint(1, 4)
        brand = "worse" if rng.random() < HARSH.get(moment, 0.4) else "same"
    pool = answer.story_comments if answer.story_comments and rng.random() < 0.75 else (
        comments.BY_MOMENT.get(moment, {}).get(mood, ()) + comments.GENERAL[mood])
    wants_contact = rng.random() < {"happy": 0.02, "neutral": 0.07, "unhappy": 0.4}[mood]
    channel = ("phone" if rng.random() < 0.65 else "email") if wants_contact else None
    return {
        "satisfaction": satisfaction,
        "recommend": recommend if rng.random() < 0.82 else None,
        "effort": effort if rng.random() < 0.7 else None,
        "brand_effect": brand if rng.random() < 0.45 or brand == "worse" and answer.story_comments else None,
        "comment": answer.comment if answer.comment is not None else
        rng.choice(pool) if pool and rng.random() < (0.8 if mood == "unhappy" else 0.5) else "",
        "wants_contact": wants_contact,
        "contact_channel": channel,
        "contact_phone": f"07700 900{rng.randint(0, 999):03d}" if channel == "phone" else "",
    }


def _source(rng: random.Random) -> str:
    return rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]


def _request_row(cast: Cast, touchpoint: DemoTouchpoint, created: datetime, client: tuple[str, str],
                 rng: random.Random, reference: Iterator[int]) -> dict[str, Any]:
    practice = cast.practice
    source = _source(rng)
    # Advisers send most requests; the owner a few.
    adviser = rng.choices(cast.staff, weights=[1 if u.role == "owner" else 3 for u in cast.staff])[0]
    return {
        "practice_id": practice.id, "partner_id": touchpoint.partner.id, "touchpoint_id": touchpoint.id,
        "moment_id": touchpoint.moment.id, "adviser_id": adviser.id, "client_name": client[0],
        "client_email": client[1], "external_ref": f"CRM-{next(reference):06d}" if source == "api" else None,
        "token_hash": token_hash(new_token()), "source": source, "created_at": created,
        "expires_at": created + practice.feedback_link_days * DAY, "sent_at": created + timedelta(minutes=rng.randint(1, 3)),
        "opened_at": None, "answered_at": None, "revoked_at": None, "throttle_overridden": False,
    }


def write_feedback(session: Session, calendar: Calendar, cast: Cast, total: int, rng: random.Random
                   ) -> tuple[FeedbackCounts, list[dict[str, Any]]]:
    """Insert requests and responses; returns the counts and the response rows (with ids and the request's
    adviser) for the follow-ups."""
    answers = Planner(cast, calendar, rng).plan(total)
    recent = random.Random(RECENT_DAYS)
    clients, reference = Clients(rng), iter(range(10_000, 10_000_000))
    counts = FeedbackCounts()
    answered: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for answer in answers:
        fields = _answers_of(answer, rng)
        if answer.at >= calendar.now - RECENT_DAYS * DAY:
            # A stream of its own, so the rest of the demo is drawn exactly as before.
            if answer.mood == "happy":
                fields["comment"] = ""
            elif fields["comment"] and fields["comment"] not in comments.KEPT_RECENT:
                fields["comment"] = comments.recent_comment(answer.touchpoint.moment.key, recent)
        row = {"practice_id": cast.practice.id, "partner_id": answer.touchpoint.partner.id,
               "moment_id": answer.touchpoint.moment.id, "created_at": answer.at, "updated_at": answer.at,
               "verified": answer.verified, "client_name": None, "client_email": None, "submission_key": None,
               "request_id": None, **fields}
        client = clients.next()
        if answer.verified:
            created = max(calendar.start, answer.at - timedelta(minutes=rng.randint(10, 4 * 24 * 60)))
            request = _request_row(cast, answer.touchpoint, created, client, rng, reference)
            request["sent_at"] = min(request["sent_at"], answer.at)
            request.update(status="answered", answered_at=answer.at,
                           opened_at=max(request["sent_at"], answer.at - timedelta(minutes=rng.randint(1, 120))))
            answered.append(request)
        else:
            # The open link: the client gives a name and address only to be contacted.
            counts.open_link += 1
            row["submission_key"] = "%032x" % rng.getrandbits(128)
            if row["wants_contact"]:
                row["client_name"], row["client_email"] = client
        responses.append(row)
    unanswered = []
    planner = Planner(cast, calendar, rng)
    askable = [t for p in cast.partners if p.spec.story != catalogue.QUIET for t in p.touchpoints]
    for _ in range(round(len(answered) * UNANSWERED_SHARE) if askable else 0):
        touchpoint = rng.choice(askable)
        created = planner.growing()
        request = _request_row(cast, touchpoint, created, clients.next(), rng, reference)
        if request["expires_at"] <= calendar.now:
            request["status"] = "expired"
        elif rng.random() < 0.4:
            request.update(status="opened", opened_at=min(calendar.now, created + timedelta(hours=rng.randint(1, 48))))
        else:
            request["status"] = "sent"
        request["sent_at"] = min(request["sent_at"], calendar.now)
        unanswered.append(request)
    request_ids = insert_returning_ids(session, FeedbackRequest, answered + unanswered)
    ids = iter(request_ids[:len(answered)])
    advisers = {}
    for row in responses:
        if row["verified"]:
            row["request_id"] = next(ids)
    for request, request_id in zip(answered, request_ids):
        advisers[request_id] = request["adviser_id"]
    response_ids = insert_returning_ids(session, FeedbackResponse, responses)
    for row, response_id in zip(responses, response_ids):
        row["id"] = response_id
        row["adviser_id"] = advisers.get(row["request_id"])
    counts.requests, counts.responses = len(request_ids), len(response_ids)
    return counts, responses

