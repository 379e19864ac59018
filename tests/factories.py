"""Tiny factories for test data: build rows through the same services the product uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from partnermon.accounts import service as accounts
from partnermon.models import Partner, Practice, Touchpoint, User
from partnermon.partners import service as partners
from partnermon.practices import service as practices


@dataclass
class Cast:
    harbour: Practice
    quay: Practice
    alice: User       # owner of Harbour Advice
    bob: User         # adviser at Harbour Advice
    vera: User        # viewer at Harbour Advice
    charlie: User     # owner of Quay Wealth
    acme: Partner     # Harbour's insurer
    acme_claims: Touchpoint
    zenith: Partner   # Quay's platform


def practice(session: Session, now: datetime, slug: str, name: str) -> Practice:
    return practices.create_practice(session, now, slug=slug, name=name, timezone="Europe/London")


def user(session: Session, now: datetime, where: Practice, email: str, role: str, password: str) -> User:
    return accounts.create_user(session, now, where, email=email, role=role, password=password)


def partner(session: Session, now: datetime, where: Practice, name: str, **fields: str) -> Partner:
    return partners.create_partner(session, now, where.id, "test", {"name": name, **fields})


def touchpoint(session: Session, now: datetime, of: Partner, name: str, moment: str = "claim", url: str = "") -> Touchpoint:
    return partners.create_touchpoint(session, now, of, "test", {"name": name, "moment": moment, "url": url})


def make_cast(session: Session, now: datetime, password: str) -> Cast:
    harbour = practice(session, now, "harbour", "Harbour Advice")
    quay = practice(session, now, "quay", "Quay Wealth")
    cast = Cast(
        harbour=harbour,
        quay=quay,
        alice=user(session, now, harbour, "alice@harbour.test", "owner", password),
        bob=user(session, now, harbour, "bob@harbour.test", "adviser", password),
        vera=user(session, now, harbour, "vera@harbour.test", "viewer", password),
        charlie=user(session, now, quay, "charlie@quay.test", "owner", password),
        acme=partner(session, now, harbour, "Acme Insurance", category="insurer", exposure="120"),
        acme_claims=None,  # type: ignore[arg-type]
        zenith=partner(session, now, quay, "Zenith Platform", category="platform", exposure="40"),
    )
    cast.acme_claims = touchpoint(session, now, cast.acme, "Claims form", "claim", "https://claims.acme.test/")
    session.commit()
    return cast
