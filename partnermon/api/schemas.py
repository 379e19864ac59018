"""The API's shapes as marshmallow schemas: the single source of truth for what the views answer (they dump
through these), what query strings they accept (they load through these) and the OpenAPI document (apispec
reads these). Change a field here and the answers, the validation and the document change together.

Output schemas mark every field required (``Output``): each answer always carries every key, null when unknown.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from partnermon.api import pagination
from partnermon.validators import FIRST_MONTH, LAST_MONTH


class Output(Schema):
    """An answer's shape: every key is always present (null where the schema allows it)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if not field_obj.metadata.get("optional"):
            field_obj.required = True


def _null(field: fields.Field) -> fields.Field:
    field.allow_none = True
    return field


# --- query strings ------------------------------------------------------------------------------------------

class UTCDateTime(fields.AwareDateTime):
    """A time with its offset, loaded as UTC and only within the years a period may be (validators.month).

    Converting here, not at the database, keeps the calendar's edges a 400: 0001-01-01T00:00:00+01:00 is a year
    before ``datetime.min`` in UTC, and 9999-12-31T23:59:59-01:00 a year after ``datetime.max``.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            utc = moment.astimezone(timezone.utc)
        except OverflowError:
            raise self.make_error("out_of_range") from None
        if not FIRST_MONTH.year <= utc.year <= LAST_MONTH.year:
            raise self.make_error("out_of_range")
        return utc



class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE   # clients may send more (a cache-buster, say); only these are read

    cursor = fields.String(validate=validate.Length(max=200), metadata={
        "description": "next_cursor from the previous page, unchanged; leave out for the first page."})
    limit = fields.Integer(
        load_default=pagination.DEFAULT_LIMIT, validate=validate.Range(1, pagination.MAX_LIMIT, error=(
            f"limit must be a whole number from 1 to {pagination.MAX_LIMIT}.")),
        error_messages={"invalid": f"limit must be a whole number from 1 to {pagination.MAX_LIMIT}."},
        metadata={"description": f"Rows per page, 1 to {pagination.MAX_LIMIT} (default {pagination.DEFAULT_LIMIT})."})
    updated_since = UTCDateTime(
        format="iso", error_messages={
            "invalid": "updated_since must be an ISO 8601 date and time with its offset, "
                       "such as 2026-11-01T00:00:00Z.",
            "invalid_awareness": "updated_since needs its UTC offset, such as 2026-11-01T00:00:00Z.",
            "out_of_range": f"updated_since is out of range; choose a time from the year {FIRST_MONTH.year} to "
                            f"{LAST_MONTH.year}."},
        metadata={"description": "Only rows changed at or after this time (ISO 8601 with offset; years "
                                 f"{FIRST_MONTH.year} to {LAST_MONTH.year})."})


class ScoresQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="30d", validate=validate.Length(max=20), metadata={
        "description": "`30d` for the rolling 30 days (default) or a month as `YYYY-MM`.", "example": "2026-11"})


# --- shared pieces ------------------------------------------------------------------------------------------

class Ref(Output):
    id = fields.Integer()
    name = fields.String()


class MomentRef(Output):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()


class Problem(Schema):
    """RFC 9457 problem details; ``errors`` names each field with its reason."""

    class FieldError(Output):
        field = fields.String()
        reason = fields.String()

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldError), metadata={"description": "Each field at fault and why."})
    scope = fields.String(metadata={"description": "On 403: the scope the key lacks."})
    error = fields.String(metadata={"description": "Same as title; kept for v1 clients written before "
                                                  "problem details.", "deprecated": True})
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields", metadata={
        "description": "Field → reason, as errors; kept for v1 clients.", "deprecated": True})


# --- rows ---------------------------------------------------------------------------------------------------

class PartnerOut(Output):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    website = _null(fields.String())
    exposure = fields.Integer(metadata={"description": "How many of the practice's clients deal with it."})
    account_manager_name = fields.String()
    account_manager_email = fields.String()
    account_manager_phone = fields.String()
    is_own_practice = fields.Boolean(metadata={
        "description": "True for the row that holds the practice's own touchpoints (its website, booking page, "
                       "portal): not a partner, never ranked among them. At most one per practice."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime(metadata={"description": "The partner's created_at: edits are not timed."})


class TouchpointState(Output):
    status = fields.String(metadata={"description": "up, degraded, down, unknown (not checked yet) or "
                                                    "not_checked (no probe: feedback only)."})
    checked = fields.Boolean()
    enabled = fields.Boolean()
    interval_seconds = _null(fields.Integer())
    last_checked_at = _null(fields.DateTime())
    last_error = _null(fields.String())
    certificate_expires_at = _null(fields.DateTime())
    open_incident_id = _null(fields.Integer())


class TouchpointOut(Output):
    id = fields.Integer()
    name = fields.String()
    url = _null(fields.String())
    partner = fields.Nested(Ref)
    moment = fields.Nested(MomentRef)
    state = fields.Nested(TouchpointState)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(metadata={"description": "The probe's last change (each check), else created_at."})


class IncidentOut(Output):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["down", "degraded"]})
    open = fields.Boolean()
    touchpoint = fields.Nested(Ref)
    partner = fields.Nested(Ref)
    started_at = fields.DateTime()
    resolved_at = _null(fields.DateTime())
    in_maintenance = fields.Boolean()
    seconds_total = _null(fields.Integer())
    seconds_in_business_hours = _null(fields.Integer())
    first_error = _null(fields.String())
    last_error = _null(fields.String())
    updated_at = fields.DateTime(metadata={"description": "resolved_at, else started_at."})


class FeedbackRequestOut(Output):
    id = fields.Integer()
    status = fields.String()
    source = fields.String()
    client_name = fields.String()
    client_email = fields.String()
    partner = fields.Nested(Ref)
    touchpoint = _null(fields.Nested(Ref))
    moment = _null(fields.Nested(MomentRef))
    adviser_email = _null(fields.String())
    external_ref = _null(fields.String())
    throttle_overridden = fields.Boolean()
    response_id = _null(fields.Integer())
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    sent_at = _null(fields.DateTime())
    opened_at = _null(fields.DateTime())
    answered_at = _null(fields.DateTime())
    revoked_at = _null(fields.DateTime())
    updated_at = fields.DateTime(metadata={"description": "The latest of created, sent, opened, answered, revoked."})


class FeedbackResponseOut(Output):
    id = fields.Integer()
    request_id = _null(fields.Integer())
    verified = fields.Boolean(metadata={"description": "False for an answer through the open link: the client "
                                                      "named themselves."})
    client_name = fields.String()
    client_email = fields.String()
    partner = fields.Nested(Ref)
    touchpoint = _null(fields.Nested(Ref))
    moment = _null(fields.Nested(MomentRef))
    satisfaction = fields.Integer(metadata={"minimum": 1, "maximum": 5})
    satisfaction_label = fields.String()
    recommend = _null(fields.Integer(metadata={"minimum": 0, "maximum": 10}))
    effort = _null(fields.Integer(metadata={"minimum": 1, "maximum": 7}))
    brand_effect = _null(fields.String(metadata={"enum": ["better", "same", "worse", None]}))
    comment = fields.String()
    wants_contact = fields.Boolean()
    contact_channel = _null(fields.String())
    contact_phone = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class Assignee(Output):
    name = fields.String()
    email = fields.String()


class FollowUpOut(Output):
    id = fields.Integer()
    status = fields.String()
    rung = fields.String()
    severity = fields.String()
    urgent = fields.Boolean()
    reasons = fields.List(fields.String())
    response_id = fields.Integer()
    request_id = _null(fields.Integer())
    partner = fields.Nested(Ref)
    moment = _null(fields.Nested(MomentRef))
    assignee = _null(fields.Nested(Assignee))
    opened_at = fields.DateTime()
    contact_due_at = fields.DateTime()
    contacted_at = _null(fields.DateTime())
    contacted_channel = _null(fields.String())
    resolved_at = _null(fields.DateTime())
    outcome_kind = _null(fields.String())
    outcome = fields.String()
    moved_to_partner = _null(fields.Nested(Ref))
    updated_at = fields.DateTime(metadata={"description": "The latest timeline event, else opened_at."})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The page wrapper for one kind of row: data, next_cursor (null on the last page) and as_of."""
    return Output.from_dict({
        "data": fields.List(fields.Nested(item)),
        "next_cursor": _null(fields.String(metadata={"description": "Pass as cursor for the next page; null on "
                                                                    "the last page."})),
        "as_of": fields.DateTime(metadata={"description": "When this page was read; use the first page's as "
                                                         "updated_since next time to fetch only changes."}),
    }, name=name)


# --- POST /feedback-requests ----------------------------------------------------------------------------------

_NAME_OR_ID: dict[str, Any] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


class FeedbackRequestIn(Schema):
    """Documents the POST body; web/api.py checks it field by field (its checks predate this schema)."""

    client_email = fields.String(required=True, metadata={"example": "dana@example.com"})
    client_name = fields.String(metadata={"example": "Dana Client"})
    partner = fields.Raw(required=True, metadata={**_NAME_OR_ID, "description": "The partner's name or id."})
    touchpoint = fields.Raw(metadata={**_NAME_OR_ID, "description": "A touchpoint of that partner (name or id), "
                                                                    "or a moment of truth's key such as claim."})
    adviser_email = fields.String(metadata={"description": "Who follows up if the client is unhappy."})
    external_ref = fields.Raw(metadata={**_NAME_OR_ID, "description": "Your own id for the interaction; sending "
                                                                     "it again returns the same request."})
    override_throttle = fields.Boolean(metadata={"description": "true to ask a client who was asked recently."})


class FeedbackRequestCreated(FeedbackRequestOut):
    class Meta:
        exclude = ("source", "response_id", "sent_at", "opened_at", "answered_at", "revoked_at", "updated_at")

    link = _null(fields.String(metadata={"description": "The client's personal link; null when external_ref "
                                                       "was used before (only its hash is kept)."}))
    link_note = fields.String(metadata={"optional": True, "description": "Why link is null."})


# --- scores -------------------------------------------------------------------------------------------------

_WHY = "Why value is null (not enough answers yet, nothing measured), else null."


class Figure(Output):
    value = _null(fields.Float())
    low = _null(fields.Float(metadata={"description": "95 % interval, lower bound."}))
    high = _null(fields.Float(metadata={"description": "95 % interval, upper bound."}))
    note = _null(fields.String(metadata={"description": _WHY}))


class Measure(Figure):
    n = fields.Integer(metadata={"description": "Clients who answered this measure's question."})
    minimum = fields.Integer(metadata={"description": "The practice's minimum n; below it value is null."})


class Counted(Figure):
    n = fields.Integer(metadata={"description": "Checks behind the figure."})


class Measures(Output):
    csat = fields.Nested(Measure, metadata={"description": "Share satisfied (4–5 of 5)."})
    dissatisfaction = fields.Nested(Measure, metadata={"description": "Share dissatisfied."})
    brand_harm = fields.Nested(Measure, metadata={"description": "Share whose view of the practice got worse."})
    ces = fields.Nested(Measure, metadata={"description": "Share who found it easy (5–7 of 7)."})
    nps = fields.Nested(Measure, metadata={"description": "Net promoter score, −100 to 100."})


class ProbeFigures(Output):
    checks = fields.Integer()
    bh_checks = fields.Integer(metadata={"description": "Checks in business hours."})
    availability = fields.Nested(Counted)
    bh_availability = fields.Nested(Counted)
    slow_share = fields.Nested(Counted)
    p95_ms = _null(fields.Integer())
    incidents = fields.Integer()
    bh_incident_minutes = fields.Integer()


class MomentScoreOut(Output):
    moment = _null(fields.Nested(MomentRef, metadata={"description": "null: answers that named no moment."}))
    stake = _null(fields.String(metadata={"description": "The owner's stake: high, medium or low; null with no "
                                                         "moment."}))
    weight = fields.Float(metadata={"description": "The weight this moment's harm had in the index: the stake's "
                                                   "(high 3, medium 2, low 1) or the learned weight the owner "
                                                   "adopted; answers naming no moment weigh 2."})
    weight_source = fields.String(validate=validate.OneOf(("owner", "learned", "default")), metadata={
        "description": "owner: the stake's weight; learned: learned from clients' answers and adopted by the owner; "
                       "default: answers that named no moment."})
    responses = fields.Integer()
    harm_rate = fields.Nested(Figure)
    left_out = _null(fields.String())
    measures = fields.Nested(Measures)
    probes = fields.Nested(ProbeFigures)


class LeftOut(Output):
    moment = fields.String()
    reason = fields.String()


class PartnerScoreOut(Output):
    partner = fields.Nested(Ref)
    category = fields.String()
    rank = _null(fields.Integer(metadata={"description": "By brand damage; null when there is no index."}))
    exposure = fields.Integer()
    exposure_assumed = fields.Boolean()
    experience_index = fields.Nested(Figure, metadata={"description": "0–100."})
    brand_damage = fields.Nested(Figure)
    index_basis = _null(fields.String())
    left_out = fields.List(fields.Nested(LeftOut))
    responses = fields.Integer()
    measures = fields.Nested(Measures)
    probes = fields.Nested(ProbeFigures)
    moments = fields.List(fields.Nested(MomentScoreOut))


class PeriodOut(Output):
    key = fields.String()
    label = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()


class ScoresOut(Output):
    period = fields.Nested(PeriodOut)
    minimum_responses = fields.Integer()
    weights_note = fields.String(metadata={"description": "Which moment weights the scores used, in words: "
                                                          "\"weights: the owner's\" or learned ones, from how many "
                                                          "answers and when."})
    partners = fields.List(fields.Nested(PartnerScoreOut))
