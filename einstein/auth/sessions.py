"""Sign-in sessions kept on the server: one row per device, so each can be listed and ended."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm.attributes import set_committed_value

from einstein.auth.models import LoginSession, User
from einstein.db import db, reading_request, utcnow, write_aside
from einstein.extensions import login_manager


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, remember: bool = False, device: str = "") -> str:
    """Record a new sign-in for ``user`` on ``device`` and return the token that identifies it."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["LOGIN_SESSION_DAYS"] if remember else 1
    now = utcnow()
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_token_hash(token),
            remember=remember,
            expires_at=now + timedelta(days=days),
            last_seen_at=now,
            device=device[:80],
        )
    )
    user.last_login_at = now
    user.login_token = token
    return token


#: The person's household members, a name the auth layer can use (the same table, another row).
_MEMBER = sa.orm.aliased(User)
#: ``translator_languages`` (kept by the catalogue, a layer above): read as a table, not a model.
_GRANTS = sa.table("translator_languages", sa.column("user_id"))

#: Built once: it runs on every request of everyone signed in. It also answers two questions that
#: every page's menu and booking buttons ask, so that they cost no statement of their own: does the
#: person have household members, and any languages to translate into?
_LOAD_USER = (
    sa.select(
        User,
        LoginSession.id,
        LoginSession.remember,
        LoginSession.last_seen_at,
        sa.exists().where(_MEMBER.household_of_id == User.id).label("has_household"),
        sa.exists().where(_GRANTS.c.user_id == User.id).label("translates"),
    )
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        LoginSession.token_hash == sa.bindparam("token_hash"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > sa.bindparam("now"),
    )
)


def idle_limit(remember: bool) -> timedelta:
    """How long a sign-in may go unused before it ends (longer for "remember me")."""
    config = current_app.config
    return timedelta(seconds=config["REMEMBER_IDLE_SECONDS"] if remember else config["LOGIN_IDLE_SECONDS"])


def load_user(token: str) -> User | None:
    """Return the user of a live sign-in session, or None if it ended, expired, sat idle too long
    or never was. A sign-in in use is marked seen, at most every few minutes, on a page that only
    reads (a writing request on SQLite holds the write lock already; people read pages often)."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    row = db.session.execute(_LOAD_USER, {"token_hash": _token_hash(token), "now": now}).one_or_none()
    if row is None:
        return None
    user, session_id, remember, last_seen_at, has_household, translates = row
    if last_seen_at + idle_limit(remember) <= now:
        return None
    user.has_household = bool(has_household)
    if not translates and "translator_languages" in sa.inspect(user).unloaded:
        set_committed_value(user, "translator_languages", [])  # known empty: no lazy load for the menu
    every = timedelta(seconds=current_app.config["LOGIN_SEEN_EVERY_SECONDS"])
    if now - last_seen_at >= every and reading_request():
        write_aside(sa.update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))
    user.login_token = token
    return user


def live_login_sessions(user: User) -> list[LoginSession]:
    """The person's sign-ins that still work, the most recently used first."""
    now = utcnow()
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None), LoginSession.expires_at > now)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return [row for row in rows if row.last_seen_at + idle_limit(row.remember) > now]


def is_current(login_session: LoginSession, token: str | None) -> bool:
    """Whether ``login_session`` is the sign-in this request came with."""
    return token is not None and login_session.token_hash == _token_hash(token)


def end_login_session_by_id(user: User, session_id: int) -> bool:
    """End one of the person's own sign-ins (from the list of devices)."""
    result = db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_login_session(token: str | None) -> None:
    """End one sign-in session on the server, so its cookie is refused from now on."""
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_login_sessions(user: User, *, keep: str | None = None) -> int:
    """End every sign-in session of ``user`` (but the one of token ``keep``); return how many."""
    query = sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep:
        query = query.where(LoginSession.token_hash != _token_hash(keep))
    result = db.session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Let Flask-Login find the person of a request through their server-side sign-in."""
    login_manager.user_loader(load_user)
