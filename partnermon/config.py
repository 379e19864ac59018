"""Settings from the PARTNERMON_* environment variables (DESIGN.md §9).

Everything is optional: with no variables set partnermon runs on a SQLite file in
``./instance`` with a secret key generated once and kept there. This module reads the
environment only when :func:`load_settings` is called, never at import time.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "partnermon@localhost"


def default_report_processes() -> int:
    """The machine's cores, at most four (a report's parts rarely keep more busy)."""
    return max(1, min(os.cpu_count() or 1, 4))


class ConfigError(ValueError):
    """A setting has a value partnermon cannot use; the message names it and the fix."""


def envint(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.")
    return value


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    secret_key: str
    base_url: str = DEFAULT_BASE_URL
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    probe_allow_cidrs: tuple[str, ...] = ()
    result_retention_days: int = 90
    # Seconds an outbox row stays claimed by a sender before another may take it over.
    mail_lease_seconds: int = 120
    # Where archived monthly reports are kept (PARTNERMON_REPORT_DIR); None: ``reports/`` in the instance folder.
    report_dir: Path | None = None
    # Processes that lay out a long monthly report's parts side by side (PARTNERMON_REPORT_PROCESSES); 1: one.
    report_processes: int = 1
    # Larger uploads (a logo is the only upload for now) are refused with 413.
    max_content_length: int = 2 * 1024 * 1024
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reports_path(self) -> Path:
        return self.report_dir or self.instance_dir / "reports"

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _secret_key(instance_dir: Path) -> str:
    """Return the key kept in the instance folder, creating it once (mode 0600)."""
    path = instance_dir / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes start at once, the second reads the first one's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    instance_dir = Path(env.get("PARTNERMON_INSTANCE_DIR", "").strip() or "instance").resolve()
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"PARTNERMON_INSTANCE_DIR {instance_dir} cannot be created ({exc.strerror})."
        ) from None
    database_url = env.get("PARTNERMON_DATABASE_URL", "").strip() or (
        f"sqlite:///{instance_dir / 'partnermon.sqlite3'}"
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    secret_key = env.get("PARTNERMON_SECRET_KEY", "").strip() or _secret_key(instance_dir)
    cidrs = tuple(
        part.strip() for part in env.get("PARTNERMON_PROBE_ALLOW_CIDRS", "").split(",") if part.strip()
    )
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"PARTNERMON_PROBE_ALLOW_CIDRS: {cidr!r} is not a network like 10.1.2.0/24.") from None
    base_url = (env.get("PARTNERMON_BASE_URL", "").strip() or DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"PARTNERMON_BASE_URL must start with http:// or https://, not {base_url!r}.")
    return Settings(
        instance_dir=instance_dir,
        database_url=database_url,
        secret_key=secret_key,
        base_url=base_url,
        smtp_url=env.get("PARTNERMON_SMTP_URL", "").strip() or None,
        mail_from=env.get("PARTNERMON_MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM,
        probe_allow_cidrs=cidrs,
        result_retention_days=envint(env, "PARTNERMON_RESULT_RETENTION_DAYS", 90, minimum=1),
        report_dir=Path(env["PARTNERMON_REPORT_DIR"].strip()).resolve() if env.get("PARTNERMON_REPORT_DIR", "").strip()
        else None,
        report_processes=envint(env, "PARTNERMON_REPORT_PROCESSES", default_report_processes(), minimum=1),
    )
