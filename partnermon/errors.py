"""Errors services raise for people to read. Views, the API and the CLI each present them their way."""

from __future__ import annotations


class ValidationError(ValueError):
    """One or more fields are wrong. ``errors`` maps a field name to a sentence saying why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors

    def first_line(self) -> str:
        field, message = next(iter(self.errors.items()))
        return f"{field}: {message}" if not message.lower().startswith(field.replace("_", " ")) else message


class NotFound(LookupError):
    """The thing asked for does not exist in this practice (or at all: callers must not tell which)."""
