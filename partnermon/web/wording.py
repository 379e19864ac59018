"""Names inside sentences on the client's pages, so the copy reads aloud as speech: "how your recent experience
with the claims form went", "How satisfied were you with Acme Insurance's claims form?". Jinja filters."""

from __future__ import annotations

from flask import Flask


def in_a_sentence(name: str, partner_name: str = "", article: str = "the ") -> str:
    """A touchpoint's name after "with": "Claims form" → "the claims form". A name that starts with a brand (a word
    of the partner's name, "Northgate app"), an acronym ("API docs") or a capital inside ("MyAcme portal") keeps
    its capitals. ``article=""`` for "Acme Insurance's claims form"."""
    first = name.split(" ", 1)[0]
    brand = first.lower() in partner_name.lower().split()
    if not first or brand or first[1:] != first[1:].lower():
        return f"{article}{name}"
    return f"{article}{first[0].lower()}{name[1:]}"


def possessive(name: str) -> str:
    """ "Acme Insurance's", "Kestrel Park Investments'"."""
    return name + ("'" if name.endswith("s") else "'s")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["in_a_sentence"] = in_a_sentence
    app.jinja_env.filters["possessive"] = possessive
