"""A fixed synthetic corpus with planted topics for tests/test_themes.py: three topics with vocabularies of their own,
20 comments each, plus 10 comments of noise that belong to none. Topic "hold" is told at three moments (a
candidate moment); "login" only at everyday service and "premium" only at renewal."""

from __future__ import annotations

import random

TOPICS: dict[str, dict[str, object]] = {
    "hold": {"moments": ("opening", "service", "claim"),
             "words": ("hold", "phone", "waiting", "queue", "minutes", "answered", "line", "call")},
    "login": {"moments": ("service",),
              "words": ("login", "password", "portal", "reset", "locked", "account", "website", "error")},
    "premium": {"moments": ("renewal",),
                "words": ("premium", "price", "increase", "expensive", "letter", "cost", "rise", "quote")},
}
NOISE = ("Thanks.", "Fine overall.", "No comment really.", "All good here, nothing to add.", "Okay I suppose.",
         "Nothing more to say.", "Cheers for asking.", "Good enough.", "As expected.", "Not sure.")
TEMPLATES = ("The {0} and the {1} were a problem, {2} again.", "I had trouble with the {0}; {1} and {2}.",
             "Really annoyed about the {0}, the {1}, the {2}.", "{0}, {1} — and then {2} too.")


def planted(seed: int = 7) -> list[tuple[str, str | None, str]]:
    """(comment, moment key, planted topic or "noise"), shuffled by a fixed seed."""
    rng = random.Random(seed)
    found: list[tuple[str, str | None, str]] = []
    for topic, spec in TOPICS.items():
        words, moments = spec["words"], spec["moments"]
        for i in range(20):
            chosen = rng.sample(words, 3)  # type: ignore[arg-type]
            found.append((TEMPLATES[i % len(TEMPLATES)].format(*chosen), moments[i % len(moments)], topic))  # type: ignore[index]
    for i, text in enumerate(NOISE):
        found.append((text, ("claim", "service", None)[i % 3], "noise"))
    rng.shuffle(found)
    return found
