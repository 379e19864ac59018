"""Partners, their touchpoints, and the practice's moments of truth.

Every lookup takes the practice id: an id from another practice is simply not found.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from partnermon import validators as v
from partnermon.accounts import audit
from partnermon.errors import NotFound, ValidationError
from partnermon.models import PARTNER_CATEGORIES, STAGES, STAKES, MomentOfTruth, Partner, Touchpoint, User


# --- partners ---------------------------------------------------------------------------------

def list_partners(session: Session, practice_id: int) -> list[Partner]:
    return list(session.scalars(
        select(Partner).where(Partner.practice_id == practice_id)
        .options(selectinload(Partner.touchpoints)).order_by(func.lower(Partner.name))
    ))


def get_partner(session: Session, practice_id: int, partner_id: int) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.id == partner_id, Partner.practice_id == practice_id))
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def partner_by_name(session: Session, practice_id: int, name: str) -> Partner:
    partner = session.scalar(
        select(Partner).where(Partner.practice_id == practice_id, func.lower(Partner.name) == name.strip().lower())
    )
    if partner is None:
        raise NotFound(f"This practice has no partner named “{name}”.")
    return partner


def _partner_fields(session: Session, practice_id: int, partner_id: int | None, data: dict[str, str]) -> dict[str, object]:
    form = v.Form()
    fields = {
        "name": form.check(v.text, "name", data.get("name"), label="Name"),
        "category": form.check(v.choice, "category", data.get("category") or "other", PARTNER_CATEGORIES, "Category"),
        "website": form.check(v.web_url, "website", data.get("website")),
        "exposure": form.check(v.whole_number, "exposure", data.get("exposure"), default=0,
                               label="Clients who deal with this partner"),
        "notes": form.check(v.text, "notes", data.get("notes"), required=False, max_length=4000, multiline=True, label="Notes"),
        "account_manager_name": form.check(v.text, "account_manager_name", data.get("account_manager_name"),
                                           required=False, label="Account manager"),
        "account_manager_email": form.check(v.email, "account_manager_email", data.get("account_manager_email"), required=False),
        "account_manager_phone": form.check(v.text, "account_manager_phone", data.get("account_manager_phone"),
                                            required=False, max_length=40, label="Phone"),
    }
    if fields["name"]:
        clash = select(Partner.id).where(Partner.practice_id == practice_id,
                                         func.lower(Partner.name) == str(fields["name"]).lower())
        if partner_id is not None:
            clash = clash.where(Partner.id != partner_id)
        if session.scalar(clash) is not None:
            form.add("name", f"You already have a partner named “{fields['name']}”.")
    form.raise_if_errors()
    return fields


def create_partner(session: Session, now: datetime, practice_id: int, actor: User | str, data: dict[str, str]) -> Partner:
    fields = _partner_fields(session, practice_id, None, data)
    partner = Partner(practice_id=practice_id, created_at=now, **fields)
    session.add(partner)
    session.flush()
    audit.record(session, now, practice_id, actor, "partner.created", "partner", partner.id, f"Added partner {partner.name}")
    return partner


def update_partner(session: Session, now: datetime, partner: Partner, actor: User, data: dict[str, str]) -> Partner:
    fields = _partner_fields(session, partner.practice_id, partner.id, data)
    for name, value in fields.items():
        setattr(partner, name, value)
    audit.record(session, now, partner.practice_id, actor, "partner.updated", "partner", partner.id, f"Edited partner {partner.name}")
    return partner


def delete_partner(session: Session, now: datetime, partner: Partner, actor: User) -> None:
    count = len(partner.touchpoints)
    audit.record(session, now, partner.practice_id, actor, "partner.deleted", "partner", partner.id,
                 f"Deleted partner {partner.name} and its {count} touchpoint{'s' if count != 1 else ''}")
    session.delete(partner)


# --- touchpoints ------------------------------------------------------------------------------

def get_touchpoint(session: Session, practice_id: int, partner_id: int, touchpoint_id: int) -> Touchpoint:
    touchpoint = session.scalar(select(Touchpoint).where(
        Touchpoint.id == touchpoint_id, Touchpoint.partner_id == partner_id, Touchpoint.practice_id == practice_id))
    if touchpoint is None:
        raise NotFound("No such touchpoint.")
    return touchpoint


def _touchpoint_fields(session: Session, partner: Partner, touchpoint_id: int | None, data: dict[str, str]) -> dict[str, object]:
    form = v.Form()
    name = form.check(v.text, "name", data.get("name"), label="Name")
    url = form.check(v.web_url, "url", data.get("url"))
    moment = None
    moment_ref = form.check(v.text, "moment", data.get("moment"), required=False, max_length=120,
                            label="Moment of truth")
    if moment_ref == "":
        form.add("moment", "Choose the moment of truth this touchpoint belongs to.")
    elif moment_ref is not None:
        moment = _moment_by_ref(session, partner.practice_id, moment_ref)
        if moment is None:
            form.add("moment", f"“{moment_ref[:40]}” is not one of this practice's moments of truth.")
        elif moment.retired:
            form.add("moment", f"The moment “{moment.name}” is retired; choose an active one.")
    if name:
        clash = select(Touchpoint.id).where(Touchpoint.partner_id == partner.id, func.lower(Touchpoint.name) == name.lower())
        if touchpoint_id is not None:
            clash = clash.where(Touchpoint.id != touchpoint_id)
        if session.scalar(clash) is not None:
            form.add("name", f"{partner.name} already has a touchpoint named “{name}”.")
    form.raise_if_errors()
    assert moment is not None
    return {"name": name, "url": url, "moment_id": moment.id}


def _moment_by_ref(session: Session, practice_id: int, ref: str) -> MomentOfTruth | None:
    """A moment by id (from forms) or key (from the CLI), within the practice."""
    query = select(MomentOfTruth).where(MomentOfTruth.practice_id == practice_id)
    if v.looks_like_id(ref):
        moment_id = v.as_row_id(ref)
        return session.scalar(query.where(MomentOfTruth.id == moment_id)) if moment_id is not None else None
    return session.scalar(query.where(MomentOfTruth.key == ref.lower()))


def create_touchpoint(session: Session, now: datetime, partner: Partner, actor: User | str, data: dict[str, str]) -> Touchpoint:
    fields = _touchpoint_fields(session, partner, None, data)
    touchpoint = Touchpoint(practice_id=partner.practice_id, partner_id=partner.id, created_at=now, **fields)
    session.add(touchpoint)
    session.flush()
    audit.record(session, now, partner.practice_id, actor, "touchpoint.created", "touchpoint", touchpoint.id,
                 f"Added touchpoint {touchpoint.name} to {partner.name}")
    return touchpoint


def update_touchpoint(session: Session, now: datetime, touchpoint: Touchpoint, actor: User, data: dict[str, str]) -> Touchpoint:
    fields = _touchpoint_fields(session, touchpoint.partner, touchpoint.id, data)
    for name, value in fields.items():
        setattr(touchpoint, name, value)
    audit.record(session, now, touchpoint.practice_id, actor, "touchpoint.updated", "touchpoint", touchpoint.id,
                 f"Edited touchpoint {touchpoint.name} of {touchpoint.partner.name}")
    return touchpoint


def delete_touchpoint(session: Session, now: datetime, touchpoint: Touchpoint, actor: User) -> None:
    audit.record(session, now, touchpoint.practice_id, actor, "touchpoint.deleted", "touchpoint", touchpoint.id,
                 f"Deleted touchpoint {touchpoint.name} of {touchpoint.partner.name}")
    session.delete(touchpoint)


# --- moments of truth -------------------------------------------------------------------------

def list_moments(session: Session, practice_id: int, *, include_retired: bool = True) -> list[MomentOfTruth]:
    query = select(MomentOfTruth).where(MomentOfTruth.practice_id == practice_id)
    if not include_retired:
        query = query.where(MomentOfTruth.retired.is_(False))
    return list(session.scalars(query.order_by(MomentOfTruth.position, MomentOfTruth.id)))


def get_moment(session: Session, practice_id: int, moment_id: int) -> MomentOfTruth:
    moment = session.scalar(select(MomentOfTruth).where(MomentOfTruth.id == moment_id, MomentOfTruth.practice_id == practice_id))
    if moment is None:
        raise NotFound("No such moment of truth.")
    return moment


def touchpoint_count(session: Session, moment: MomentOfTruth) -> int:
    return session.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.moment_id == moment.id)) or 0


def _moment_fields(session: Session, practice_id: int, moment_id: int | None, data: dict[str, str], *, with_key: bool) -> dict[str, object]:
    form = v.Form()
    fields: dict[str, object] = {
        "name": form.check(v.text, "name", data.get("name"), max_length=120, label="Name"),
        "stage": form.check(v.choice, "stage", data.get("stage"), STAGES, "Lifecycle stage"),
        "stake": form.check(v.choice, "stake", data.get("stake"), tuple(STAKES), "Stake"),
        "examples": form.check(v.text, "examples", data.get("examples"), required=False, max_length=500, label="Examples"),
    }
    if "ask_duration" in data:   # the moment form's box; other callers leave the setting alone
        fields["ask_duration"] = str(data.get("ask_duration") or "").strip().lower() in ("1", "on", "yes", "true")
    if with_key:
        key = form.check(v.key, "key", data.get("key"))
        if key and session.scalar(select(MomentOfTruth.id).where(MomentOfTruth.practice_id == practice_id, MomentOfTruth.key == key)):
            form.add("key", f"A moment with the key “{key}” already exists.")
        fields["key"] = key
    form.raise_if_errors()
    return fields


def create_moment(session: Session, now: datetime, practice_id: int, actor: User, data: dict[str, str]) -> MomentOfTruth:
    fields = _moment_fields(session, practice_id, None, data, with_key=True)
    position = (session.scalar(select(func.max(MomentOfTruth.position)).where(MomentOfTruth.practice_id == practice_id)) or 0) + 1
    moment = MomentOfTruth(practice_id=practice_id, position=position, retired=False, **fields)
    session.add(moment)
    session.flush()
    audit.record(session, now, practice_id, actor, "moment.created", "moment", moment.id, f"Added moment of truth {moment.name}")
    return moment


def update_moment(session: Session, now: datetime, moment: MomentOfTruth, actor: User, data: dict[str, str]) -> MomentOfTruth:
    fields = _moment_fields(session, moment.practice_id, moment.id, data, with_key=False)
    for name, value in fields.items():
        setattr(moment, name, value)
    audit.record(session, now, moment.practice_id, actor, "moment.updated", "moment", moment.id, f"Edited moment of truth {moment.name}")
    return moment


def set_moment_retired(session: Session, now: datetime, moment: MomentOfTruth, actor: User, retired: bool) -> MomentOfTruth:
    moment.retired = retired
    verb = "Retired" if retired else "Restored"
    audit.record(session, now, moment.practice_id, actor, "moment.retired" if retired else "moment.restored",
                 "moment", moment.id, f"{verb} moment of truth {moment.name}")
    return moment


def delete_moment(session: Session, now: datetime, moment: MomentOfTruth, actor: User) -> None:
    used = touchpoint_count(session, moment)
    if used:
        raise ValidationError({"moment": f"{used} touchpoint{'s use' if used != 1 else ' uses'} this moment; retire it instead, "
                                         "or move those touchpoints first."})
    audit.record(session, now, moment.practice_id, actor, "moment.deleted", "moment", moment.id, f"Deleted moment of truth {moment.name}")
    session.delete(moment)
