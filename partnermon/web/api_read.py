"""The JSON API, version 1, reading (issue 21): a key with the "read" scope lists its practice's partners,
touchpoints with their state, incidents, feedback requests and responses, and follow-ups a cursor page at a
time, fetches one by id, and reads the scores of a period.

Views only authorise, load the query string through its schema, call one service and dump through the answer's
schema (partnermon.api.schemas, also the OpenAPI document's). Another practice's id is 404, as on the pages.
"""

from __future__ import annotations


from flask import Response
from marshmallow import Schema

from partnermon.api import pagination, reads, schemas, scores
from partnermon.errors import NotFound, ValidationError
from partnermon.models import Practice
from partnermon.scoring import periods
from partnermon.web.api_common import answer, authorise, load_query, operation, problem
from partnermon.web.context import db, now

_LIST_QUERY = schemas.ListQuery()


def _list(kind: str, page: Schema) -> Response:
    key = authorise("read")
    if isinstance(key, Response):
        return key
    query = load_query(_LIST_QUERY)
    if isinstance(query, Response):
        return query
    try:
        after = pagination.decode(query.get("cursor"))
    except ValidationError as exc:
        return problem(400, "The cursor could not be used.", exc.errors)
    rows, next_cursor = reads.list_rows(db(), now(), key.practice_id, kind, after=after, limit=query["limit"],
                                        since=query.get("updated_since"))
    return answer(page.dump({"data": rows, "next_cursor": next_cursor, "as_of": now()}))


def _one(kind: str, item: Schema, row_id: int) -> Response:
    key = authorise("read")
    if isinstance(key, Response):
        return key
    try:
        row = reads.get_row(db(), now(), key.practice_id, kind, row_id)
    except NotFound as exc:
        return problem(404, str(exc))
    return answer(item.dump(row))


# (kind in reads.RESOURCES, path, id placeholder, item schema, tag, what one row is)
_TABLE: list[tuple[str, str, str, type[Schema], str, str]] = [
    ("partners", "/partners", "partner_id", schemas.PartnerOut, "Partners", "partner"),
    ("touchpoints", "/touchpoints", "touchpoint_id", schemas.TouchpointOut, "Touchpoints",
     "touchpoint with its current state"),
    ("incidents", "/incidents", "incident_id", schemas.IncidentOut, "Incidents", "incident"),
    ("feedback_requests", "/feedback-requests", "request_id", schemas.FeedbackRequestOut, "Feedback requests",
     "feedback request"),
    ("feedback_responses", "/feedback-responses", "response_id", schemas.FeedbackResponseOut, "Feedback responses",
     "feedback response"),
    ("follow_ups", "/follow-ups", "follow_up_id", schemas.FollowUpOut, "Follow-ups", "follow-up"),
]


def _views(kind: str, path: str, placeholder: str, item: type[Schema], tag: str, what: str) -> None:
    page = schemas.page_of(item, f"{item.__name__.removesuffix('Out')}Page")
    page_schema, item_schema = page(), item()
    since_doc = item._declared_fields["updated_at"].metadata.get("description", "when the row changed.")

    def list_view() -> Response:
        return _list(kind, page_schema)

    def one_view(**ids: int) -> Response:
        return _one(kind, item_schema, ids[placeholder])

    list_view.__name__, one_view.__name__ = f"list_{kind}", f"get_{kind.removesuffix('s')}"
    operation(path, "GET", tag=tag, summary=f"List the practice's {tag.lower()}", query=schemas.ListQuery,
              description=f"One page of rows in id order; pass next_cursor back for the next. updated_since "
                          f"compares updated_at: {since_doc}",
              responses={200: page}, problems=(400,))(list_view)
    operation(f"{path}/<int:{placeholder}>", "GET", tag=tag, summary=f"One {what}",
              responses={200: item}, problems=(404,))(one_view)


for _row in _TABLE:
    _views(*_row)


@operation("/scores", "GET", tag="Scores", summary="Scores of a period", query=schemas.ScoresQuery,
           description="Every partner scored for the period, ranked by brand damage: the figures of the pages, "
                       "each with its n and 95 % interval; below the minimum n a value is null and note says why.",
           responses={200: schemas.ScoresOut}, problems=(400,))
def get_scores() -> Response:
    key = authorise("read")
    if isinstance(key, Response):
        return key
    query = load_query(schemas.ScoresQuery())
    if isinstance(query, Response):
        return query
    practice = db().get(Practice, key.practice_id)
    assert practice is not None  # the key's row cascades away with its practice
    try:
        period = periods.parse(query["period"], now(), practice.timezone)
    except ValidationError as exc:
        return problem(400, "The period could not be used.", exc.errors)
    return answer(schemas.ScoresOut().dump(scores.scores(db(), now(), practice, period)))


