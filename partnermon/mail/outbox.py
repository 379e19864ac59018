"""Putting emails in the outbox. Each email is three templates: subject, plain text and HTML.

``enqueue`` joins the caller's transaction, so an email exists exactly when the change that
caused it was committed. A dedupe key makes enqueueing the same email twice a no-op.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from partnermon.mail.rendering import render
from partnermon.models import OutboxEmail


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    subject = " ".join(render(f"emails/{template}.subject.txt", **context).split())
    return subject, render(f"emails/{template}.txt", **context), render(f"emails/{template}.html", **context)


def new_message_id(base_url: str) -> str:
    domain = urlsplit(base_url).hostname or "partnermon.localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def enqueue(session: Session, now: datetime, *, template: str, to: str, dedupe_key: str,
            base_url: str, practice_id: int | None, context: dict[str, Any],
            not_before: datetime | None = None, list_unsubscribe: str | None = None,
            attachment: tuple[str, str, bytes] | None = None, reply_to: str | None = None) -> OutboxEmail:
    """Queue one email. ``not_before`` holds it back (quiet hours); ``list_unsubscribe`` is the one-click
    unsubscribe URL the sender puts in the List-Unsubscribe headers (non-essential alerts only);
    ``attachment`` is (file name, MIME type, content); ``reply_to`` where answers go (a person's address)."""
    existing = session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    email = enqueue_first(session, now, template=template, to=to, dedupe_key=dedupe_key, base_url=base_url,
                          practice_id=practice_id, context=context, not_before=not_before,
                          list_unsubscribe=list_unsubscribe, attachment=attachment, reply_to=reply_to)
    if email is None:   # a concurrent transaction queued it first
        email = session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key))
    assert email is not None
    return email


def enqueue_first(session: Session, now: datetime, *, template: str, to: str, dedupe_key: str,
                  base_url: str, practice_id: int | None, context: dict[str, Any],
                  not_before: datetime | None = None, list_unsubscribe: str | None = None,
                  attachment: tuple[str, str, bytes] | None = None, reply_to: str | None = None) -> OutboxEmail | None:
    """Queue one email as ``enqueue`` does, or return None when an email with this key was queued already
    (also by a concurrent transaction): for steps that must not be recorded twice when their email was."""
    subject, text_body, html_body = render_email(template, {"base_url": base_url, **context})
    values = dict(
        practice_id=practice_id,
        dedupe_key=dedupe_key,
        message_id=new_message_id(base_url),
        kind=template,
        to_addr=to,
        reply_to=reply_to,
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        status="queued",
        attempts=0,
        next_attempt_at=max(now, not_before) if not_before is not None else now,
        list_unsubscribe=list_unsubscribe,
        created_at=now,
    )
    if attachment is not None:
        values.update(attachment_name=attachment[0], attachment_type=attachment[1], attachment=attachment[2])
    # ON CONFLICT DO NOTHING: a concurrent enqueue of the same email leaves one row and no error,
    # without disturbing the caller's transaction; RETURNING says whether this one wrote it.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(insert(OutboxEmail).values(**values)
                               .on_conflict_do_nothing(index_elements=["dedupe_key"])
                               .returning(OutboxEmail.id)).scalar()
    if inserted is None:
        return None
    return session.get(OutboxEmail, inserted)


def enqueue_new(session: Session, now: datetime, *, template: str, base_url: str, practice_id: int | None,
                emails: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Queue many emails of one template, each (to, dedupe key, context), in one INSERT: for keys that cannot
    have been used before (made from a fresh token), so the lookups ``enqueue`` makes to dedupe are not needed.
    A key used before is an IntegrityError, which leaves the caller's transaction to roll back."""
    rows = []
    for to, dedupe_key, context in emails:
        subject, text_body, html_body = render_email(template, {"base_url": base_url, **context})
        rows.append(dict(practice_id=practice_id, dedupe_key=dedupe_key, message_id=new_message_id(base_url),
                         kind=template, to_addr=to, reply_to=None, subject=subject[:300], text_body=text_body,
                         html_body=html_body,
                         status="queued", attempts=0, next_attempt_at=now, list_unsubscribe=None, created_at=now))
    if rows:
        session.execute(insert(OutboxEmail).execution_options(render_nulls=True), rows)
