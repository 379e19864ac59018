"""What a URL may carry. The converters every route uses make a part of a URL that cannot name anything a
plain 404 before any view or query sees it (DESIGN.md §8: "ids out of range are simply not found"), and a
query string with control characters in it is refused with 400.

* ``<int:…>`` takes ASCII digits naming an id from 1 to 2³¹−1 (ids are PostgreSQL INTEGER columns). Werkzeug's
  own converter takes any Unicode digit (``/partners/٣`` was partner 3) and any size (``/partners/2147483648``
  reached the database, which refused it with a 500).
* ``<name>`` (the default, and ``<string:…>``) refuses control characters: a ``%00`` in a slug or a month
  would otherwise be sent to PostgreSQL, which refuses NUL in text.

Registered on the app's URL map before any blueprint, so each rule is built with them; views need nothing.
Query arguments are filters and page numbers that no person types a control character into, so one check
here covers every ``request.args`` (a NUL would otherwise reach PostgreSQL through a search box).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from partnermon.validators import MAX_ROW_ID, has_control_characters


class RowIdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"   # 2147483647 has ten digits; more is no id, and int() never sees 5,000 of them

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]", 1)


def _refuse_control_characters_in_query() -> None:
    if any(has_control_characters(name) or has_control_characters(value)
           for name, value in request.args.items(multi=True)):
        abort(400, description="The address has control characters in its query; remove them and try again.")


def init_app(app: Flask) -> None:
    app.url_map.converters.update(int=RowIdConverter, default=TextConverter, string=TextConverter)
    app.before_request(_refuse_control_characters_in_query)
