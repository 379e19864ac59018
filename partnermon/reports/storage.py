"""The report archive: PDFs on disk under PARTNERMON_REPORT_DIR (default ``reports/`` in the instance folder),
one file per practice and month, ``<slug>/partnermon-<slug>-<YYYY-MM>.pdf``.

Writes go to a temporary file that is renamed into place, so a reader (a download, an email being built) sees
the old report or the new one, never half of one. Keys are built here from a validated slug and a month and
are checked again on reading, so no key can point outside the archive.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}/partnermon-[a-z0-9][a-z0-9-]{0,62}-\d{4}-\d{2}\.pdf$")


class ReportMissing(LookupError):
    """The archive has no file for that key (removed by hand, or another machine's disk)."""


def file_name(slug: str, month: str) -> str:
    return f"partnermon-{slug}-{month}.pdf"


class ReportStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def key_for(self, slug: str, month: str) -> str:
        key = f"{slug}/{file_name(slug, month)}"
        if not _KEY.match(key):
            raise ValueError(f"not a report key: {key!r}")
        return key

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ReportMissing(key)
        return self.root / key

    def save(self, key: str, content: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ReportMissing(key) from None
