"""The OpenAPI 3.1 document of the JSON API, generated from the code: apispec reads the marshmallow schemas the
views dump and load through, and each operation as the views declared it (web/api_common.operation).

Built once per process (it only changes with the code) and served at /api/v1/openapi.json; the reference page
at /api/v1/docs is rendered from the same dictionary.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Protocol

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from partnermon.api import schemas
from partnermon.api.rate_limits import DEFAULT_LIMIT, WINDOW

VERSION = "1.1.0"
DESCRIPTION = f"""\
The practice's own systems read its partners, touchpoints, incidents, feedback and follow-ups, read its scores,
and make feedback requests.

**Keys.** Send the practice's API key as `Authorization: Bearer <key>` (or `X-API-Key: <key>`). Owners create
keys under Settings › API keys and choose their scopes: `read` for every GET, `write` to make feedback requests.
Keys made before scopes existed have `write` only. A key only ever sees its own practice: another practice's id
is 404.

**Pages.** Lists come a page at a time in id order (`limit`, default 100, at most 500). Pass `next_cursor` back
as `cursor` for the next page; it is null on the last. Rows added while you page appear on later pages and never
shift or repeat earlier ones. `updated_since` keeps rows changed at or after a time; each list says which of its
row's times that is. Pass the first page's `as_of` as the next sync's `updated_since`.

**Rate limit.** {DEFAULT_LIMIT} calls per key per {int(WINDOW.total_seconds())} seconds, counted across all of
partnermon's processes. Every answer to a keyed call carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds); a 429 also carries `Retry-After`.

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and `errors`, a list
of `{{field, reason}}` for each parameter or body field at fault. `error` and `fields` repeat `title` and
`errors` for clients written before problem details.

**Scores** carry their n and 95 % interval; below the practice's minimum n a value is null and `note` says why.
"""

_RATE_HEADERS = {
    "RateLimit-Limit": {"description": "Calls allowed per window.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Calls left in this window.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window ends.", "schema": {"type": "integer"}},
}


class Documented(Protocol):
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: str | None
    query: type[Schema] | None
    body: type[Schema] | None
    responses: dict[int, type[Schema] | None]
    problems: tuple[int, ...]


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/partners/<int:partner_id>`` → ``/partners/{partner_id}`` and its path parameters."""
    names = re.findall(r"<int:(\w+)>", rule)
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}} for name in names]
    return re.sub(r"<int:(\w+)>", r"{\1}", rule), parameters


def _problem(status: int) -> dict[str, Any]:
    from partnermon.web.api_common import TITLES

    response: dict[str, Any] = {"description": TITLES.get(status, "Error"),
                                "content": {"application/problem+json": {"schema": "Problem"}}}
    if status == 429:
        response["headers"] = {**_RATE_HEADERS, "Retry-After": {"description": "Seconds to wait.",
                                                                  "schema": {"type": "integer"}}}
    elif status != 401:
        response["headers"] = dict(_RATE_HEADERS)
    return response


def _operation(op: Documented) -> dict[str, Any]:
    path_parameters = _path(op.rule)[1]
    found: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary, "tags": [op.tag],
                             "responses": {}}
    if op.description:
        found["description"] = op.description
    parameters: list[Any] = list(path_parameters)
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if parameters:
        found["parameters"] = parameters
    if op.body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    for status, schema in op.responses.items():
        found["responses"][str(status)] = {"description": "OK" if status == 200 else "Created",
                                           "headers": dict(_RATE_HEADERS)}
        if schema is not None:
            found["responses"][str(status)]["content"] = {"application/json": {"schema": schema}}
    problems = set(op.problems)
    if op.scope is not None:
        problems |= {401, 403, 429}
        found["security"] = [{"apiKey": []}, {"bearer": []}]
        found["x-scope"] = op.scope
    for status in sorted(problems | {405, 503}):
        found["responses"][str(status)] = _problem(status)
    return found


def build(operations: Iterable[Documented], *, server_url: str = "/") -> dict[str, Any]:
    spec = APISpec(title="partnermon API", version=VERSION, openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()], info={"description": DESCRIPTION},
                   servers=[{"url": server_url}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "Authorization: Bearer <key>"})
    spec.components.security_scheme("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    spec.components.schema("Problem", schema=schemas.Problem)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path, _ = _path("/api/v1" + op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    for path, operations_here in paths.items():
        spec.path(path=path, operations=operations_here)
    return spec.to_dict()
