"""Users: creating and inviting them, signing in (rate-limited), passwords, roles and deactivation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from partnermon import validators as v
from partnermon.accounts import audit, sign_ins
from partnermon.accounts.security import hash_password, new_token, password_problem, token_hash, verify_password
from partnermon.errors import NotFound, ValidationError
from partnermon.followups import service as followups
from partnermon.mail import outbox
from partnermon.models import ROLES, Invitation, Practice, SignInFailure, User

INVITATION_LIFETIME = timedelta(days=7)
# Failed sign-ins: at most this many per email address, and per client address, in the window.
SIGN_IN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30


class SignInRefused(Exception):
    """Wrong email or password, or too many attempts; the message is safe to show."""


@dataclass(frozen=True)
class NewInvitation:
    user: User
    link: str


def by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, practice_id: int, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.practice_id == practice_id))
    if user is None:
        raise NotFound("No such user in this practice.")
    return user


def list_users(session: Session, practice_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.practice_id == practice_id).order_by(User.email)))


def _validate_new_user(session: Session, form: v.Form, email: str, role: str, name: str) -> tuple[str, str, str]:
    email = form.check(v.email, "email", email)
    role = form.check(v.choice, "role", role, ROLES, "Role")
    name = form.check(v.text, "name", name, required=False, label="Name")
    if email and by_email(session, email) is not None:
        form.add("email", f"{email} already has a partnermon account.")
    return email, role, name or ""


def create_user(session: Session, now: datetime, practice: Practice, *, email: str, role: str,
                password: str | None, name: str = "", actor: User | str = "cli") -> User:
    """Create a user with a password set now (the CLI and first-run setup)."""
    form = v.Form()
    email, role, name = _validate_new_user(session, form, email, role, name)
    if password is not None and (problem := password_problem(password)):
        form.add("password", problem)
    form.raise_if_errors()
    user = User(practice_id=practice.id, email=email, name=name, role=role, is_active=True,
                password_hash=hash_password(password) if password is not None else None, created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, now, practice.id, actor, "user.created", "user", user.id, f"Added {email} as {role}")
    return user


def invite_user(session: Session, now: datetime, practice: Practice, *, email: str, role: str,
                name: str = "", actor: User | str, base_url: str) -> NewInvitation:
    """Create a user without a password and queue an invitation email with a one-time link."""
    user = create_user(session, now, practice, email=email, role=role, password=None, name=name, actor=actor)
    return NewInvitation(user, _send_invitation(session, now, user, actor, base_url))


def resend_invitation(session: Session, now: datetime, user: User, *, actor: User, base_url: str) -> NewInvitation:
    if user.has_password:
        raise ValidationError({"user": f"{user.email} has already set a password."})
    # Older links stop working: only the newest invitation is valid.
    session.execute(delete(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None)))
    return NewInvitation(user, _send_invitation(session, now, user, actor, base_url))


def _send_invitation(session: Session, now: datetime, user: User, actor: User | str, base_url: str) -> str:
    token = new_token()
    invitation = Invitation(user_id=user.id, token_hash=token_hash(token), created_at=now,
                            expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    link = f"{base_url}/invitation/{token}"
    inviter = actor.display_name if isinstance(actor, User) else "Your practice"
    outbox.enqueue(
        session, now, template="invitation", to=user.email, dedupe_key=f"invitation:{invitation.token_hash}",
        base_url=base_url, practice_id=user.practice_id,
        context={"user": user, "practice": user.practice, "inviter": inviter, "link": link,
                 "expires_at": invitation.expires_at},
    )
    return link


def open_invitation(session: Session, now: datetime, token: str) -> Invitation | None:
    """The invitation behind a link if it can still be used; None for unknown, used or expired alike."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    if not invitation.user.is_active:
        return None
    return invitation


def accept_invitation(session: Session, now: datetime, token: str, password: str, confirm: str) -> User:
    invitation = open_invitation(session, now, token)
    if invitation is None:
        raise NotFound("This invitation link has expired or was already used.")
    _check_new_password(password, confirm)
    user = invitation.user
    user.password_hash = hash_password(password)
    invitation.used_at = now
    audit.record(session, now, user.practice_id, user, "user.joined", "user", user.id, f"{user.email} set a password")
    return user


def _check_new_password(password: str, confirm: str) -> None:
    form = v.Form()
    if problem := password_problem(password):
        form.add("password", problem)
    elif password != confirm:
        form.add("confirm", "The two passwords are different.")
    form.raise_if_errors()


def authenticate(session: Session, now: datetime, email: str, password: str, ip: str) -> User:
    """Return the user, or raise SignInRefused (which commits the failure record first)."""
    email = (email or "").strip().lower()[:254]
    if v.has_control_characters(email):
        # No account has one, and PostgreSQL refuses a NUL in the lookups (and the failure record) below.
        raise SignInRefused("That email and password do not match an active account.")
    since = now - SIGN_IN_WINDOW
    by_email_count = session.scalar(
        select(func.count()).select_from(SignInFailure).where(SignInFailure.email == email, SignInFailure.at > since)
    ) or 0
    by_ip_count = session.scalar(
        select(func.count()).select_from(SignInFailure).where(SignInFailure.ip == ip, SignInFailure.at > since)
    ) or 0
    if by_email_count >= MAX_FAILURES_PER_EMAIL or by_ip_count >= MAX_FAILURES_PER_IP:
        raise SignInRefused("Too many failed sign-ins. Wait 15 minutes and try again, or ask an owner to reset your password.")
    user = by_email(session, email) if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok or not user.is_active:
        session.add(SignInFailure(email=email, ip=ip[:45], at=now))
        session.commit()
        raise SignInRefused("That email and password do not match an active account.")
    user.last_sign_in_at = now
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
    return user


def change_password(session: Session, now: datetime, user: User, current: str, new: str, confirm: str, *,
                    keep_sign_in: int | None = None) -> User:
    """Set a new password and end the user's other sign-ins: all but ``keep_sign_in``, the one making the change."""
    if not verify_password(user.password_hash, current or ""):
        raise ValidationError({"current": "Your current password is not right."})
    _check_new_password(new, confirm)
    user.password_hash = hash_password(new)
    sign_ins.end_all(session, now, user.id, keep=keep_sign_in)
    audit.record(session, now, user.practice_id, user, "user.password_changed", "user", user.id, "Changed their password")
    return user


def update_user(session: Session, now: datetime, user: User, actor: User, *, role: str, name: str, active: bool,
                base_url: str) -> User:
    """Change a user's role, name or whether they are active. A user who can no longer work follow-ups
    (deactivated, or made a viewer) hands their unresolved ones to the owners, who are told."""
    form = v.Form()
    role = form.check(v.choice, "role", role, ROLES, "Role")
    name = form.check(v.text, "name", name, required=False, label="Name")
    is_last_owner = user.role == "owner" and user.is_active and _active_owner_count(session, user.practice_id) == 1
    if is_last_owner and (role != "owner" or not active):
        form.add("role", "A practice needs at least one active owner; make someone else an owner first.")
    form.raise_if_errors()
    changes = []
    if role != user.role:
        changes.append(f"role {user.role} → {role}")
    if active != user.is_active:
        changes.append("reactivated" if active else "deactivated")
        if not active:
            # Deactivation ends their sign-ins at once.
            sign_ins.end_all(session, now, user.id)
    could_work = followups.can_work_follow_ups(user)
    user.role, user.name, user.is_active = role, name or "", active
    audit.record(session, now, user.practice_id, actor, "user.updated", "user", user.id,
                 f"Updated {user.email}" + (f": {', '.join(changes)}" if changes else ""))
    if could_work and not followups.can_work_follow_ups(user):
        followups.reassign_from_user(session, now, user, actor, base_url)
    return user


def _active_owner_count(session: Session, practice_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(User).where(User.practice_id == practice_id, User.role == "owner", User.is_active)
    ) or 0


def prune_sign_in_failures(session: Session, now: datetime) -> int:
    """Forget failed sign-ins once they no longer count towards the limit. Does not commit."""
    result = session.execute(delete(SignInFailure).where(SignInFailure.at <= now - SIGN_IN_WINDOW))
    return result.rowcount or 0
