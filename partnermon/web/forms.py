"""Small helpers views share for forms: the submitted fields, and re-rendering with field errors."""

from __future__ import annotations

from typing import Any

from flask import render_template, request


def fields(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def rerender(template: str, errors: dict[str, str], **context: Any) -> tuple[str, int]:
    """The same form again, with what the person typed and a message per field (422)."""
    return render_template(template, errors=errors, form=request.form, **context), 422
