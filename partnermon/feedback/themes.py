"""Themes in client comments (DESIGN.md §3): groups of comments about the same thing, found from their words.

The method: each practice's verified comments of the last ``PERIOD_DAYS`` (open-link answers are kept apart, as
in the scores), with the client's name, email address and phone numbers taken out first, become TF-IDF vectors
(scikit-learn's ``TfidfVectorizer``: words of three letters or more, in at least two comments; English stop
words and the practice's own name, its partners' names and its clients' names left out, so a theme is never "Acme"
or "Smith"). Non-negative matrix factorisation (``NMF``, ``init="nndsvda"``, ``random_state=SEED``: the same
comments always give the same themes) splits them into k themes; each comment belongs to the theme it weighs
most on (a comment with none of the kept words belongs to none). k is chosen among 2…min(8, comments ÷ 10) as the
one whose themes are best separated — the highest mean silhouette (cosine) of the comments — the smaller k on a tie.

Each theme keeps its top words, three example comments (the ones that weigh most on it, redacted), its count per
partner and per moment, and its trend: how many of the period before's comments (the same length, read through
the same model) fall in it, with the two-proportion test the early warnings use. A theme whose comments name at
least two moments, none holding half or more of them (and at least ``CANDIDATE_MIN`` comments naming one), sits
across moments rather than inside one: it is offered as a candidate moment of truth.

It needs about ``MIN_COMMENTS`` comments; below that nothing is stored and the themes found before are kept. The
result is stored (models.ThemeRun) by a daily job and by the owner's "Find themes now"; pages read the stored run.
scikit-learn is imported only inside ``find_themes``, so nothing on the command line's path loads it.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnermon.errors import NotFound, ValidationError
from partnermon.models import FeedbackRequest, FeedbackResponse, MomentOfTruth, Partner, Practice, ThemeRun, User
from partnermon.reports.sections import REDACTED, redact
from partnermon.scoring.stats import two_proportion_test

log = logging.getLogger(__name__)

PERIOD_DAYS = 90
MIN_COMMENTS = 30
MAX_COMMENTS = 2000       # the most recent; more would only slow the model, not change its themes
MAX_THEMES = 8
# How much worse (in silhouette, −1 to 1) a smaller number of themes may be separated and still be preferred.
SILHOUETTE_TOLERANCE = 0.02
TOP_WORDS = 8
EXAMPLES = 3
SEED = 20
CANDIDATE_MIN = 5
RUN_EVERY = timedelta(hours=20)   # the daily job's "due": a little under a day, so it keeps to its hour
NO_MOMENT = "Moment not given"
# What is left of a contraction once the word pattern stops at its apostrophe ("couldn't" → "couldn"): no meaning.
CONTRACTIONS = frozenset({"aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "mustn", "shan",
                          "shouldn", "wasn", "weren", "won", "wouldn"})


class TooFewComments(ValidationError):
    def __init__(self, count: int):
        super().__init__({"themes": f"Themes appear once there are about {MIN_COMMENTS} comments (you have {count}). "
                                    "Nothing was changed."})
        self.count = count


@dataclass(frozen=True)
class Comment:
    text: str                 # as the client wrote it
    partner: str
    moment_id: int | None
    moment: str
    names: tuple[str, ...]    # what identifies the client, to take out


@dataclass
class Theme:
    number: int
    words: list[str]
    count: int
    share: float
    examples: list[dict[str, str]]
    partners: list[tuple[str, int]]
    moments: list[tuple[str, int]]
    previous: int
    previous_total: int
    trend: str
    how_we_know: str
    candidate: bool
    candidate_reason: str
    added_moment_id: int | None = None
    moment_ids: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ", ".join(self.words[:3])

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def of(data: dict[str, Any]) -> "Theme":
        return Theme(**{**data, "partners": [tuple(p) for p in data["partners"]],
                        "moments": [tuple(m) for m in data["moments"]]})


# --- reading comments ---------------------------------------------------------------------------------------

def _comments_query(practice_id: int, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    r, q = FeedbackResponse, FeedbackRequest
    return (select(r.comment, Partner.name, r.moment_id, MomentOfTruth.name, r.client_name, r.client_email,
                   q.client_name, q.client_email)
            .join(Partner, Partner.id == r.partner_id)
            .outerjoin(MomentOfTruth, MomentOfTruth.id == r.moment_id)
            .outerjoin(q, q.id == r.request_id)
            .where(r.practice_id == practice_id, r.verified.is_(True), r.comment != "",
                   r.created_at >= start, r.created_at < end)
            .order_by(r.created_at.desc(), r.id.desc())
            .limit(MAX_COMMENTS))


def load_comments(session: Session, practice_id: int, start: datetime, end: datetime) -> list[Comment]:
    found = [Comment(text, partner, moment_id, moment or NO_MOMENT, tuple(n for n in names if n))
             for text, partner, moment_id, moment, *names in session.execute(_comments_query(practice_id, start, end))]
    found.reverse()   # oldest first: the order the model reads them in never depends on ties in time
    return found


def comment_count(session: Session, practice_id: int, now: datetime) -> int:
    r = FeedbackResponse
    return int(session.scalar(select(func.count()).select_from(r).where(
        r.practice_id == practice_id, r.verified.is_(True), r.comment != "",
        r.created_at >= now - timedelta(days=PERIOD_DAYS), r.created_at < now)) or 0)


def _name_words(names: Sequence[str]) -> set[str]:
    words: set[str] = set()
    for name in names:
        if "@" in name:
            name = name.split("@", 1)[0].replace(".", " ")
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", name))
    return words


def stop_words_for(practice_name: str, partner_names: Sequence[str], comments: Sequence[Comment]) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    own = _name_words([practice_name, *partner_names, *(n for c in comments for n in c.names), REDACTED,
                       "email removed", "phone removed"])
    return set(ENGLISH_STOP_WORDS) | CONTRACTIONS | own


# --- the model ------------------------------------------------------------------------------------------------

def _assign(weights: Any) -> list[int]:
    """Each comment's theme: the one it weighs most on, or −1 when it weighs on none."""
    return [int(row.argmax()) if row.max() > 0 else -1 for row in weights]


@dataclass
class Fitted:
    vectorizer: Any
    model: Any
    weights: Any
    labels: list[int]        # each comment's theme (−1: none)
    k: int
    silhouette: float


def fit(texts: Sequence[str], stop_words: set[str], seed: int = SEED) -> Fitted | None:
    """TF-IDF and NMF at the fewest themes that are (near enough) best separated; None when there is nothing in
    common to find."""
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score

    vectorizer = TfidfVectorizer(stop_words=sorted(stop_words), token_pattern=r"(?u)\b[a-zA-Z]{3,}\b",
                                 min_df=2, max_df=0.8, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:   # no word in two comments
        return None
    fits: list[Fitted] = []
    for k in range(2, max(2, min(MAX_THEMES, len(texts) // 10, matrix.shape[1] - 1)) + 1):
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000)
        # An exact fit leaves a reconstruction error a rounding step below zero (sqrt of it warns), and a fit that
        # stops at max_iter still gives the same themes every time: neither is worth a line in the log.
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            weights = model.fit_transform(matrix)
        labels = _assign(weights)
        kept = np.array(labels) >= 0
        if len(set(np.array(labels)[kept])) < 2:
            continue
        score = float(silhouette_score(matrix[kept], np.array(labels)[kept], metric="cosine"))
        fits.append(Fitted(vectorizer, model, weights, labels, k, score))
    if not fits:
        return None
    # The fewest themes whose separation is as good as the best within SILHOUETTE_TOLERANCE: comments that repeat
    # each other's sentences score almost as well split into sub-themes ("call back", "on hold") as kept whole,
    # and a near tie should not turn one complaint into three depending on which comments fall in the period.
    best = max(fit.silhouette for fit in fits)
    return next(fit for fit in fits if fit.silhouette >= best - SILHOUETTE_TOLERANCE)


def find_themes(comments: Sequence[Comment], previous: Sequence[Comment], stop_words: set[str],
                seed: int = SEED) -> list[Theme]:
    """The themes of ``comments`` (see the module docstring); ``previous`` are the period before's, for trends."""
    import numpy as np

    texts = [redact(c.text, c.names) for c in comments]
    fitted = fit(texts, stop_words, seed)
    if fitted is None:
        return []
    model, weights, labels = fitted.model, fitted.weights, fitted.labels
    vocabulary = fitted.vectorizer.get_feature_names_out()
    previous_labels = _assign(model.transform(fitted.vectorizer.transform(
        [redact(c.text, c.names) for c in previous]))) if previous else []
    themes = []
    for topic in range(fitted.k):
        members = [i for i, label in enumerate(labels) if label == topic]
        if not members:
            continue
        order = np.argsort(-model.components_[topic], kind="stable")
        words = [str(vocabulary[i]) for i in order[:TOP_WORDS] if model.components_[topic][i] > 0]
        strongest = sorted(members, key=lambda i: (-weights[i][topic], i))[:EXAMPLES]
        examples = [{"text": texts[i], "partner": comments[i].partner, "moment": comments[i].moment}
                    for i in strongest]
        before = sum(1 for label in previous_labels if label == topic)
        themes.append(_theme(words, [comments[i] for i in members], len(comments), examples, before, len(previous)))
    themes.sort(key=lambda t: (-t.count, t.words))
    for number, theme in enumerate(themes, start=1):
        theme.number = number
    return themes


def _theme(words: list[str], members: list[Comment], total: int, examples: list[dict[str, str]], before: int,
           before_total: int) -> Theme:
    partners = Counter(c.partner for c in members).most_common()
    moments = Counter(c.moment for c in members).most_common()
    named = Counter(c.moment_id for c in members if c.moment_id is not None)
    candidate, reason = _candidate(named)
    trend, how = _trend(len(members), total, before, before_total)
    return Theme(0, words, len(members), len(members) / total, examples, sorted(partners, key=lambda p: (-p[1], p[0])),
                 sorted(moments, key=lambda m: (-m[1], m[0])), before, before_total, trend, how, candidate, reason,
                 moment_ids=sorted(named))


def _candidate(named: Counter[int]) -> tuple[bool, str]:
    """A theme across moments: at least CANDIDATE_MIN comments naming a moment, in two or more moments, the largest
    holding less than half of them."""
    total = sum(named.values())
    if total < CANDIDATE_MIN:
        return False, f"only {total} of its comments name a moment"
    largest = max(named.values())
    if len(named) < 2 or largest * 2 >= total:
        return False, f"{largest} of its {total} comments that name a moment are about one moment"
    return True, (f"its {total} comments that name a moment spread over {len(named)} moments, the largest holding "
                  f"{largest} ({round(100 * largest / total)} %)")


def _trend(count: int, total: int, before: int, before_total: int) -> tuple[str, str]:
    now_share = f"{count} of {total} comments ({round(100 * count / total)} %)"
    if not before_total:
        return f"{now_share}; no comments in the period before to compare", ""
    was = f"{before} of {before_total} ({round(100 * before / before_total)} %)"
    test = two_proportion_test(before, before_total, count, total)
    if test is None:
        return f"{now_share}, against {was} in the period before", ""
    direction = "up" if count / total > before / before_total else "down"
    verdict = "unlikely to be chance" if test.significant() else "could be chance"
    return f"{direction}: {now_share}, against {was} in the period before — {verdict}", test.describe()


# --- runs -----------------------------------------------------------------------------------------------------

def run_themes(session: Session, now: datetime, practice: Practice, trigger: str) -> ThemeRun:
    """Find the practice's themes now and store them; raises TooFewComments (storing nothing) below the minimum."""
    start = now - timedelta(days=PERIOD_DAYS)
    comments = load_comments(session, practice.id, start, now)
    if len(comments) < MIN_COMMENTS:
        raise TooFewComments(len(comments))
    previous = load_comments(session, practice.id, start - timedelta(days=PERIOD_DAYS), start)
    partners = list(session.scalars(select(Partner.name).where(Partner.practice_id == practice.id)))
    themes = find_themes(comments, previous, stop_words_for(practice.name, partners, [*comments, *previous]))
    run = ThemeRun(practice_id=practice.id, created_at=now, period_start=start, period_end=now,
                   comments=len(comments), previous_comments=len(previous), trigger=trigger[:254],
                   themes=[t.as_json() for t in themes])
    session.add(run)
    session.flush()
    return run


def latest_run(session: Session, practice_id: int, before: datetime | None = None) -> ThemeRun | None:
    query = select(ThemeRun).where(ThemeRun.practice_id == practice_id)
    if before is not None:
        query = query.where(ThemeRun.created_at < before)
    return session.scalars(query.order_by(ThemeRun.created_at.desc(), ThemeRun.id.desc()).limit(1)).first()


def themes_of(run: ThemeRun | None) -> list[Theme]:
    return [Theme.of(data) for data in run.themes] if run is not None else []


def run_due(session: Session, now: datetime) -> int:
    """The daily job: every practice whose last run is older than RUN_EVERY and that has enough comments.
    Each practice is committed on its own, so one practice's failure loses no other's themes."""
    found = 0
    for practice in session.scalars(select(Practice).order_by(Practice.id)).all():
        last = latest_run(session, practice.id)
        if last is not None and last.created_at > now - RUN_EVERY:
            continue
        if comment_count(session, practice.id, now) < MIN_COMMENTS:
            continue
        try:
            run_themes(session, now, practice, "schedule")
            session.commit()
        except Exception:  # one practice's failure must not keep the others' themes from being found
            session.rollback()
            log.exception("themes: finding themes for practice %s failed", practice.id)
            continue
        found += 1
    return found


def get_run(session: Session, practice_id: int, run_id: int) -> ThemeRun:
    run = session.scalar(select(ThemeRun).where(ThemeRun.id == run_id, ThemeRun.practice_id == practice_id))
    if run is None:
        raise NotFound("No such theme.")
    return run


def add_as_moment(session: Session, now: datetime, practice: Practice, run: ThemeRun, number: int,
                  actor: User) -> MomentOfTruth:
    """Make a candidate theme a moment of truth of the practice, its words as the examples (once per theme).

    A double click posts twice at once: the run's row is read again under a lock (PostgreSQL; SQLite writes one
    at a time anyway), so the second post waits for the first and finds the theme added. Should two posts still
    pick the same free key, the unique key turns the second away with the same message, and only its insert is
    undone (a savepoint)."""
    from partnermon.partners import service as partners

    session.refresh(run, with_for_update=True)
    themes = themes_of(run)
    theme = next((t for t in themes if t.number == number), None)
    if theme is None:
        raise NotFound("No such theme.")
    if not theme.candidate:
        raise ValidationError({"theme": f"The theme “{theme.label}” sits inside one moment already, so it is not "
                                        "offered as a new one."})
    if theme.added_moment_id is not None:
        raise ValidationError({"theme": f"The theme “{theme.label}” was added as a moment already."})
    taken = set(session.scalars(select(MomentOfTruth.key).where(MomentOfTruth.practice_id == practice.id)))
    base = re.sub(r"[^a-z0-9]+", "_", "_".join(theme.words[:2]).lower()).strip("_")[:30] or "theme"
    key = base
    suffix = 2
    while key in taken:
        key, suffix = f"{base}_{suffix}", suffix + 1
    try:
        with session.begin_nested():
            moment = partners.create_moment(session, now, practice.id, actor, {
                "key": key, "name": f"Clients on {theme.label}"[:120], "stage": "satisfaction", "stake": "medium",
                "examples": ", ".join(theme.words)[:500]})
    except IntegrityError:
        raise ValidationError({"theme": f"The theme “{theme.label}” was added as a moment already."}) from None
    run.themes = [{**data, "added_moment_id": moment.id} if data["number"] == number else data for data in run.themes]
    return moment
