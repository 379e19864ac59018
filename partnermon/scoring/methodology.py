"""docs/methodology.md as HTML: the one text that explains the scores, in the app and in the report's appendix."""

from __future__ import annotations

from functools import lru_cache

import markdown
from markupsafe import Markup

from partnermon.paths import methodology_path


@lru_cache(maxsize=1)
def methodology_html() -> Markup:
    # Our own text, not user input: rendered once per process. Raw HTML in it would be passed through, so the
    # file holds none (tests/test_scores_pages.py checks).
    text = methodology_path().read_text(encoding="utf-8")
    return Markup(markdown.markdown(text, extensions=["tables", "toc", "sane_lists"], output_format="html"))
