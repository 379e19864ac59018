"""How right and how cheap the human-contact finder is (see bench/README.md).

    .venv/bin/python bench/human_contact.py [--repeat 20]

Judges every page of the labelled corpus in tests/data/human_contact (manifest.json says what a careful
reader finds) and prints, as one JSON document: precision and recall of "a person can be reached", the
pages still judged wrong (with what was found and left out), pages right on the verdict but not on the
kinds of contact; and the time per page for a dense 200 KB page (all the corpus pages' bodies put
together: every line a contact, a number or a link) and a typical one (one page with a mega menu, inline
CSS and a big inline script), beside two
floors measured in the same run on the same page: lxml's HTML parser (which the finder uses) reporting
to a target that does nothing, and the standard library's HTMLParser doing nothing (what the finder used
before). Also the time for a 10 MB page (only the first 2 MB are read). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from probes.human_contact import judge_page  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "human_contact"


def accuracy() -> dict[str, Any]:
    manifest = json.loads((CORPUS / "manifest.json").read_text("utf-8"))["pages"]
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    wrong, kinds_differ = [], []
    for entry in manifest:
        verdict = judge_page((CORPUS / entry["file"]).read_bytes(), entry["url"], entry["practice_country"],
                             "text/html; charset=utf-8")
        expected, got = entry["reachable"], bool(verdict.reachable)
        counts[("t" if got == expected else "f") + ("p" if got else "n")] += 1
        seen = {"file": entry["file"], "expected": expected, "got": got, "why_labelled": entry["why"],
                "found": [f"{c.kind}: {c.text}" for c in verdict.found],
                "left_out": [f"{d.kind}: {d}" for d in verdict.discarded], "region": verdict.region}
        if got != expected:
            wrong.append(seen)
        elif verdict.kinds != entry["kinds"]:
            kinds_differ.append({**seen, "expected_kinds": entry["kinds"], "got_kinds": verdict.kinds})
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "pages": len(manifest), "traps": sum(e["trap"] for e in manifest),
        "countries": sorted({e["country"] for e in manifest}),
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "confusion": counts, "wrong": wrong, "right_verdict_other_kinds": kinds_differ,
    }


def big_page(target: int) -> str:
    """The corpus pages' bodies, one after another, inside one document, until ``target`` characters."""
    bodies = []
    for path in sorted(CORPUS.glob("*/*.html")):
        text = path.read_text("utf-8")
        bodies.append(text[text.index("<body"):text.index("</body>")].split(">", 1)[1])
    parts, size, i = [], 0, 0
    while size < target:
        parts.append(f"<section>{bodies[i % len(bodies)]}</section>")
        size += len(parts[-1])
        i += 1
    return f'<!doctype html><html lang="en-GB"><head><title>Big</title></head><body>{"".join(parts)}</body></html>'


def typical_page(target: int) -> str:
    """One corpus page grown as real pages grow: a 300-link mega menu, a big inline script (framework state),
    inline CSS; about 10 % of it text. ``target`` characters in all."""
    text = (CORPUS / "uk" / "mega_footer.html").read_text("utf-8")
    menu = "".join(f'<li><a href="/products/{i}" class="menu__link menu__link--{i % 7}">Product {i}</a></li>'
                   for i in range(300))
    css = "<style>" + "".join(f".c{i}{{margin:{i % 9}px;color:#{i % 4096:03x}}}" for i in range(800)) + "</style>"
    state = '{"items": [' + ",".join(f'{{"id": {i}, "price": "{i * 3 % 997}.99", "sku": "SKU-{i:08d}"}}'
                                     for i in range(20_000)) + "]}"
    filler = max(0, target - len(text) - len(menu) - len(css) - 60)
    script = f"<script>window.__STATE__ = {state[:filler]};</script>"
    return text.replace("<body", f"{css}<body", 1).replace('<ul class="nav">', f'<ul class="nav">{menu}', 1) \
               .replace("</body>", f"{script}</body>", 1)


def timed(work: Callable[[], object], repeat: int) -> dict[str, float]:
    work()  # warm: phonenumbers loads its metadata on first use
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(runs), 2), "min_ms": round(min(runs), 2),
            "max_ms": round(max(runs), 2), "runs": repeat}


def stdlib_parse_only(page: str) -> None:
    parser = HTMLParser(convert_charrefs=True)
    parser.feed(page)
    parser.close()


class _Nothing:
    def start(self, tag: str, attributes: dict[str, str]) -> None: ...
    def end(self, tag: str) -> None: ...
    def data(self, text: str) -> None: ...
    def comment(self, text: str) -> None: ...
    def close(self) -> None: ...


def lxml_parse_only(page: str) -> None:
    parser = etree.HTMLParser(target=_Nothing(), recover=True, no_network=True, huge_tree=True)
    parser.feed(page)
    parser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per measurement (default 20)")
    args = parser.parse_args()
    page = big_page(200_000)
    typical = typical_page(200_000)
    huge = big_page(10 * 1024 * 1024)
    result = {
        "python": platform.python_version(),
        "accuracy": accuracy(),
        "speed_200kb": {
            "page_chars": len(page),
            "finder": timed(lambda: judge_page(page, "https://www.harbourmutual.co.uk/", "GB"), args.repeat),
            "floor_lxml_parser_only": timed(lambda: lxml_parse_only(page), args.repeat),
            "floor_stdlib_htmlparser_only": timed(lambda: stdlib_parse_only(page), args.repeat),
        },
        "speed_200kb_typical": {
            "page_chars": len(typical),
            "finder": timed(lambda: judge_page(typical, "https://www.harbourmutual.co.uk/", "GB"), args.repeat),
            "floor_lxml_parser_only": timed(lambda: lxml_parse_only(typical), args.repeat),
        },
        "speed_10mb": {
            "page_chars": len(huge),
            "finder": timed(lambda: judge_page(huge, "https://www.harbourmutual.co.uk/", "GB"), max(3, args.repeat // 5)),
        },
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
