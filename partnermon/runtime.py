"""What every entry point needs: settings, one engine and a session factory.

The web app, the CLI, the scheduler and workers each build one Runtime at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from partnermon.config import Settings, load_settings
from partnermon.db import make_engine, make_session_factory
from partnermon.mail.sender import Transport
from probes.fetch import FetchPolicy


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Runtime":
        settings = settings or load_settings()
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine))

    def close(self) -> None:
        """Close pooled connections; one-shot commands call this so none outlive them."""
        self.engine.dispose()

    @cached_property
    def probe_policy(self) -> FetchPolicy:
        """How probes may reach out: the safety rules of DESIGN.md §8 plus this installation's exceptions."""
        from partnermon import __version__

        return FetchPolicy(allow_cidrs=self.settings.probe_allow_cidrs,
                           user_agent=f"partnermon-probe/{__version__} (+{self.settings.base_url})")

    @cached_property
    def webhook_policy(self) -> FetchPolicy:
        """How webhooks reach out: the probes' rules and exceptions, shorter deadlines, a small answer kept."""
        from partnermon import __version__

        return FetchPolicy(allow_cidrs=self.settings.probe_allow_cidrs, connect_timeout=5.0, read_timeout=10.0,
                           total_timeout=10.0, max_bytes=16_384, max_redirects=0,
                           user_agent=f"partnermon-webhooks/{__version__} (+{self.settings.base_url})")

    @cached_property
    def mail_transport_factory(self) -> Callable[[], Transport] | None:
        """None when PARTNERMON_SMTP_URL is unset: emails then stay queued and are logged."""
        if not self.settings.smtp_url:
            return None
        from partnermon.config import parse_smtp_url
        from partnermon.mail.smtp import SmtpTransport

        target = parse_smtp_url(self.settings.smtp_url)
        return lambda: SmtpTransport(target)
