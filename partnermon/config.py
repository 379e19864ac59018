"""Settings from the PARTNERMON_* environment variables (DESIGN.md §9).

Everything is optional: with no variables set partnermon runs on a SQLite file in
``./instance`` with a secret key generated once and kept there. This module reads the
environment only when :func:`load_settings` is called, never at import time.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote, urlsplit


DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "partnermon@localhost"


class ConfigError(ValueError):
    """A setting has a value partnermon cannot use; the message names it and the fix."""


MAX_SHOWN = 100


def shown(raw: str) -> str:
    """A value as a message quotes it: in quotes, cut short, with any password in a URL starred out."""
    # Up to the last "@": a password may itself hold an "@" or a "/" (hiding too much is the safe mistake).
    hidden = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):.*@", r"\1:***@", raw)
    return repr(hidden if len(hidden) <= MAX_SHOWN else hidden[:MAX_SHOWN] + "…")


def envtext(env: Mapping[str, str], name: str) -> str:
    """The variable's value without surrounding blanks; '' when unset. A control character (a pasted
    newline, a NUL) or bytes that are not UTF-8 are refused here, once for every variable, rather than
    surfacing later as a half-written header, a path the system cannot open or a driver's traceback."""
    raw = env.get(name, "").strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in raw):
        raise ConfigError(f"{name} contains a control character (such as a line break); set it on one line.")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in raw):  # bytes that are not UTF-8, as Python decodes them
        raise ConfigError(f"{name} is not UTF-8 text; set it again in UTF-8 (or plain ASCII).")
    return raw


def envint(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int:
    raw = envtext(env, name)
    if not raw:
        return default
    # ASCII digits only: int() would also take "²"-like digits of other scripts, and 5,000-digit numbers.
    if re.fullmatch(r"[+-]?[0-9]{1,12}", raw) is None or not minimum <= int(raw) <= maximum:
        raise ConfigError(f"{name} must be a whole number from {minimum} to {maximum}, not {shown(raw)}; "
                          f"set it like {name}={default} or leave it unset.")
    return int(raw)


def database_url(env: Mapping[str, str], instance_dir: Path) -> str:
    """PARTNERMON_DATABASE_URL, checked and given the psycopg 3 driver we ship; unset: the SQLite file."""
    # Imported here: `partnermon probe` reads this module's settings and must start without SQLAlchemy.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = envtext(env, "PARTNERMON_DATABASE_URL")
    if not raw:
        return f"sqlite:///{instance_dir / 'partnermon.sqlite3'}"
    example = ("Write it like postgresql://user:password@host:5432/name, or leave it unset for the SQLite file "
               "in the instance folder.")
    try:
        url = make_url(raw)
        port = url.port  # make_url has read it as a number (or raised ValueError); its range is checked below
    except (ArgumentError, ValueError):
        raise ConfigError(f"PARTNERMON_DATABASE_URL {shown(raw)} is not a database URL. {example}") from None
    backend, _, driver = url.drivername.lower().partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "sqlite" and driver in ("", "pysqlite"):
        pass
    elif backend in ("postgres", "postgresql"):
        raise ConfigError(f"PARTNERMON_DATABASE_URL asks for the {driver} driver, which partnermon does not ship; "
                          f"write postgresql://… and it uses psycopg 3.")
    else:
        raise ConfigError(f"PARTNERMON_DATABASE_URL is for {url.drivername!r}, which partnermon does not support. "
                          f"{example}")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"PARTNERMON_DATABASE_URL has the port {port}; a port is from 1 to 65535. {example}")
    return url.render_as_string(hide_password=False)


def probe_allow_cidrs(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = envtext(env, "PARTNERMON_PROBE_ALLOW_CIDRS")
    cidrs = tuple(part.strip() for part in raw.split(",") if part.strip())
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"PARTNERMON_PROBE_ALLOW_CIDRS: {shown(cidr)} is not a network; list them like "
                              f"10.1.2.0/24,192.168.0.0/16.") from None
    return cidrs


def base_url(env: Mapping[str, str]) -> str:
    given = envtext(env, "PARTNERMON_BASE_URL") or DEFAULT_BASE_URL
    raw = given.rstrip("/")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - reading it checks it is a number in range
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or any(char.isspace() for char in raw)):
        raise ConfigError(f"PARTNERMON_BASE_URL must be the address people open partnermon at, starting with "
                          f"http:// or https://, like https://partnermon.example.com; not {shown(given)}.")
    return raw


def served_base_url(env: Mapping[str, str], host: str, port: int) -> str:
    """The base URL for ``partnermon serve``: PARTNERMON_BASE_URL when set, else the address it listens at (so
    ``serve --port 8080`` puts :8080 in the links of its emails and pages, not the default :8000)."""
    if envtext(env, "PARTNERMON_BASE_URL"):
        return base_url(env)
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


# A bare address, or a name and an address in angle brackets; a domain needs no dot (partnermon@localhost).
_ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_MAIL_FROM = re.compile(rf'(?:{_ADDRESS}|(?:"[^"\\]*" *|[^"<>@,;:\\]*)<{_ADDRESS}>)')


def mail_from(env: Mapping[str, str]) -> str:
    raw = envtext(env, "PARTNERMON_MAIL_FROM") or DEFAULT_MAIL_FROM
    if _MAIL_FROM.fullmatch(raw) is None:
        raise ConfigError(f"PARTNERMON_MAIL_FROM must be one email address, like alerts@partnermon.example.com "
                          f"or 'Partnermon <alerts@partnermon.example.com>'; not {shown(raw)}.")
    return raw


def _folder(name: str, raw: str, unset: str, *, writable: bool) -> Path:
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        problem = None if not writable or os.access(path, os.W_OK | os.X_OK) else "it is not writable"
    except OSError as exc:
        problem = exc.strerror or type(exc).__name__
    if problem is not None:
        raise ConfigError(f"{name} {shown(str(path))} is not a folder partnermon can use ({problem}); create it for "
                          f"partnermon's user, or leave {name} unset for {unset}.")
    return path


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
    try:
        return _kept_secret_key(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"PARTNERMON_INSTANCE_DIR {shown(str(instance_dir))} cannot keep the generated secret key "
                          f"({reason}); let partnermon's user write there, or set "
                          f"PARTNERMON_SECRET_KEY.") from None


def _kept_secret_key(path: Path) -> str:
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
    """Every PARTNERMON_* variable, each checked here: a value partnermon cannot use stops every command and
    wsgi.py at start with one ConfigError naming the variable and the fix, not a failure hours later."""
    env = os.environ if env is None else env
    # PARTNERMON_REPORT_PROCESSES (a long report's parts laid out side by side) is no longer read: a report is one
    # WeasyPrint document. An old setting of it is left alone, whatever it holds, so an upgrade starts as before.
    # Only made sure of: with PostgreSQL, a secret key and a report folder given, it may be read-only.
    instance_dir = _folder("PARTNERMON_INSTANCE_DIR", envtext(env, "PARTNERMON_INSTANCE_DIR") or "instance",
                           "./instance", writable=False)
    report_dir = envtext(env, "PARTNERMON_REPORT_DIR")
    smtp_url = envtext(env, "PARTNERMON_SMTP_URL") or None
    if smtp_url is not None:
        parse_smtp_url(smtp_url)
    return Settings(
        instance_dir=instance_dir,
        database_url=database_url(env, instance_dir),
        secret_key=envtext(env, "PARTNERMON_SECRET_KEY") or _secret_key(instance_dir),
        base_url=base_url(env),
        smtp_url=smtp_url,
        mail_from=mail_from(env),
        probe_allow_cidrs=probe_allow_cidrs(env),
        result_retention_days=envint(env, "PARTNERMON_RESULT_RETENTION_DAYS", 90, minimum=1, maximum=36_500),
        report_dir=_folder("PARTNERMON_REPORT_DIR", report_dir, "reports/ in the instance folder", writable=True)
        if report_dir else None,
    )


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    mode: str  # "plain", "starttls" or "tls"
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.mode})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """PARTNERMON_SMTP_URL as host, port, TLS mode and credentials (load_settings checks it at start)."""
    example = "write it like smtp://user:pass@host:587?starttls=1 or smtps://host:465"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number from 0 to 65535, an unclosed [ in the host
        raise ConfigError(f"PARTNERMON_SMTP_URL {shown(url)} has a host or port that cannot be used; {example}.") \
            from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"PARTNERMON_SMTP_URL must name an SMTP server: {example}.")
    if port == 0:
        raise ConfigError(f"PARTNERMON_SMTP_URL has the port 0; {example}.")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    mode = "tls" if parts.scheme == "smtps" else ("starttls" if starttls else "plain")
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if mode == "tls" else 587 if mode == "starttls" else 25),
        mode=mode,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
