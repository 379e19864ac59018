"""The API's OpenAPI 3.1 document (/api/v1/openapi.json) and its reference page (/api/v1/docs), both public:
they describe the API and hold no practice's data. The page is rendered on the server from the same document,
with no script and nothing from another origin (the CSP forbids both).
"""

from __future__ import annotations

from typing import Any

import markdown
from flask import Response, current_app, render_template, url_for
from markupsafe import Markup

from partnermon.api import spec
from partnermon.web.api_common import OPERATIONS, TITLES, TYPES, answer, operation

_CACHE_KEY = "partnermon.openapi"


def document() -> dict[str, Any]:
    """Built once per app: the document only changes with the code."""
    built = current_app.extensions.get(_CACHE_KEY)
    if built is None:
        built = current_app.extensions[_CACHE_KEY] = spec.build(OPERATIONS)
    return built


@operation("/openapi.json", "GET", tag="Reference", scope=None, summary="This document",
           responses={200: None})
def openapi() -> Response:
    response = answer(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _schema_name(schema: dict[str, Any] | None) -> str | None:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


@operation("/docs", "GET", tag="Reference", scope=None, summary="This reference as a page", responses={200: None})
def docs() -> Response:
    doc = document()
    page = render_template("api/docs.html", doc=doc, schema_name=_schema_name,
                           intro=Markup(markdown.markdown(doc["info"]["description"])),
                           problems=[(TYPES[code], code, TITLES[code]) for code in sorted(TYPES)],
                           openapi_url=url_for("api.openapi"))
    return Response(page, mimetype="text/html")
