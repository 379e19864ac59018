"""What checking a feedback request looks up, read once and kept for as many requests as the caller checks.

``requests.check_request`` resolves a partner, a touchpoint or moment and an adviser by name or id, and asks
whether an external reference was used before and whether the client was asked recently. One request asks
each question once; a CSV file of 10,000 rows asked them 50,000 times, one query each. ``Lookups`` answers
from the practice's partners, moments and active users read once (a practice has tens or hundreds), each
partner's touchpoints read when first needed, and, for the rows of a file, the earlier requests with their
references and clients read in a few queries up front (``expect``). A question it was not told to expect is
one query, as before.

Names match case-insensitively (Python's ``str.lower``), the first by id where two would match. Reads only:
it writes nothing and is meant to live for one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnermon.models import FeedbackRequest, MomentOfTruth, Partner, Practice, RecoveryCheckIn, Touchpoint, User

# Values per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 1_000


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    it = iter(values)
    while chunk := list(islice(it, _CHUNK)):
        yield chunk


class Lookups:
    def __init__(self, session: Session, practice: Practice, now: datetime) -> None:
        self.session, self.practice, self.now = session, practice, now
        self._partners: tuple[dict[int, Partner], dict[str, Partner]] | None = None
        self._touchpoints: dict[int, tuple[dict[int, Touchpoint], dict[str, Touchpoint]]] = {}
        self._moments: dict[str, MomentOfTruth] | None = None
        self._all_moments: Sequence[MomentOfTruth] = ()
        self._advisers: dict[str, User] | None = None
        self._by_ref: dict[str, FeedbackRequest | None] = {}
        self._recent: dict[str, FeedbackRequest | None] = {}
        self._checked_in: dict[str, datetime | None] = {}

    # --- the practice's own lists ---------------------------------------------------------------------

    def _partner_maps(self) -> tuple[dict[int, Partner], dict[str, Partner]]:
        if self._partners is None:
            found = self.session.scalars(select(Partner).where(Partner.practice_id == self.practice.id)
                                         .order_by(Partner.id)).all()
            by_name: dict[str, Partner] = {}
            for partner in found:
                by_name.setdefault(partner.name.lower(), partner)
            self._partners = ({p.id: p for p in found}, by_name)
        return self._partners

    def partner_by_id(self, partner_id: int | None) -> Partner | None:
        return self._partner_maps()[0].get(partner_id)

    def partner_by_name(self, name: str) -> Partner | None:
        return self._partner_maps()[1].get(name.lower())

    def _touchpoint_maps(self, partner: Partner) -> tuple[dict[int, Touchpoint], dict[str, Touchpoint]]:
        if partner.id not in self._touchpoints:
            self._load_moments()   # a touchpoint's moment then comes from the session, not a query each
            found = self.session.scalars(select(Touchpoint).where(
                Touchpoint.partner_id == partner.id, Touchpoint.practice_id == self.practice.id)
                .order_by(Touchpoint.id)).all()
            by_name: dict[str, Touchpoint] = {}
            for touchpoint in found:
                by_name.setdefault(touchpoint.name.lower(), touchpoint)
            self._touchpoints[partner.id] = ({t.id: t for t in found}, by_name)
        return self._touchpoints[partner.id]

    def touchpoint_by_id(self, partner: Partner, touchpoint_id: int | None) -> Touchpoint | None:
        return self._touchpoint_maps(partner)[0].get(touchpoint_id)

    def touchpoint_by_name(self, partner: Partner, name: str) -> Touchpoint | None:
        return self._touchpoint_maps(partner)[1].get(name.lower())

    def _load_moments(self) -> dict[str, MomentOfTruth]:
        if self._moments is None:
            # Retired moments too: touchpoints may still carry one.
            found = self.session.scalars(select(MomentOfTruth).where(MomentOfTruth.practice_id == self.practice.id)
                                         .order_by(MomentOfTruth.id)).all()
            self._all_moments = found   # held: the session's identity map keeps only objects someone holds
            self._moments = {}
            for moment in found:
                if not moment.retired:
                    self._moments.setdefault(moment.key, moment)
                    self._moments.setdefault(moment.name.lower(), moment)
        return self._moments

    def moment(self, key_or_name: str) -> MomentOfTruth | None:
        """A moment in use, by its key or its name."""
        return self._load_moments().get(key_or_name.lower())

    def adviser(self, email: str) -> User | None:
        """An active user of the practice, by email address (given in lowercase)."""
        if self._advisers is None:
            found = self.session.scalars(select(User).where(User.practice_id == self.practice.id,
                                                            User.is_active.is_(True)).order_by(User.id)).all()
            self._advisers = {}
            for user in found:
                self._advisers.setdefault(user.email.lower(), user)
        return self._advisers.get(email)

    # --- earlier requests -----------------------------------------------------------------------------

    def _by_refs(self, refs: list[str]) -> None:
        for chunk in _chunks(refs):
            self._by_ref.update(dict.fromkeys(chunk))
            for request in self.session.scalars(select(FeedbackRequest).where(
                    FeedbackRequest.practice_id == self.practice.id, FeedbackRequest.external_ref.in_(chunk))):
                self._by_ref[request.external_ref] = request   # type: ignore[index]

    def _recent_of(self, emails: list[str]) -> None:
        since = self.now - timedelta(days=self.practice.feedback_throttle_days)
        for chunk in _chunks(emails):
            self._recent.update(dict.fromkeys(chunk))
            for request in self.session.scalars(select(FeedbackRequest).where(
                    FeedbackRequest.practice_id == self.practice.id, func.lower(FeedbackRequest.client_email).in_(chunk),
                    FeedbackRequest.created_at > since, FeedbackRequest.revoked_at.is_(None))
                    .order_by(FeedbackRequest.created_at)):
                self._recent[request.client_email.lower()] = request   # the latest stays
            # A recovery check-in asks the client something too, so it counts against the throttle as well.
            self._checked_in.update(dict.fromkeys(chunk))
            for email, sent_at in self.session.execute(select(func.lower(RecoveryCheckIn.client_email),
                                                              RecoveryCheckIn.sent_at).where(
                    RecoveryCheckIn.practice_id == self.practice.id,
                    func.lower(RecoveryCheckIn.client_email).in_(chunk), RecoveryCheckIn.sent_at > since)
                    .order_by(RecoveryCheckIn.sent_at)):
                self._checked_in[email] = sent_at

    def expect(self, refs: Iterable[str], emails: Iterable[str]) -> None:
        """Read at once the requests with these external references, and each of these clients' latest
        request within the throttle period (emails in lowercase); values already read are skipped."""
        self._by_refs(sorted({r for r in refs if r and r not in self._by_ref}))
        self._recent_of(sorted({e for e in emails if e and e not in self._recent}))

    def by_external_ref(self, ref: str) -> FeedbackRequest | None:
        if ref not in self._by_ref:
            self._by_refs([ref])
        return self._by_ref[ref]

    def recent_request(self, client_email: str) -> FeedbackRequest | None:
        """The client's latest request within the practice's throttle period (revoked ones do not count)."""
        if client_email not in self._recent:
            self._recent_of([client_email])
        return self._recent[client_email]

    def recent_check_in(self, client_email: str) -> datetime | None:
        """When the client was last sent a recovery check-in within the throttle period, if they were."""
        if client_email not in self._checked_in:
            self._recent_of([client_email])
        return self._checked_in[client_email]
