"""The rules of accounts: passwords, sign-in sessions and who may do what."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from einstein.auth.models import Audience, LoginSession, Role, User
from einstein.db import db, utcnow


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Check a password, upgrading the stored hash when the parameters have been raised."""
    if user.password_hash is None:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, remember: bool = False) -> str:
    """Record a new sign-in for ``user`` and return the token that identifies it."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["LOGIN_SESSION_DAYS"] if remember else 1
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_token_hash(token),
            remember=remember,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    user.last_login_at = utcnow()
    user.login_token = token
    return token


def load_user(token: str) -> User | None:
    """Return the user of a live sign-in session, or None if it ended, expired or never was."""
    if not token or len(token) > 128:
        return None
    user = db.session.scalar(
        sa.select(User)
        .join(LoginSession)
        .where(
            LoginSession.token_hash == _token_hash(token),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utcnow(),
        )
    )
    if user is not None:
        user.login_token = token
    return user


def end_login_session(token: str | None) -> None:
    """End one sign-in session on the server, so its cookie is refused from now on."""
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_login_sessions(user: User) -> None:
    """End every sign-in session of ``user`` (after a password change or a role change)."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def normalise_email(email: str | None) -> str | None:
    """Lower-case and trim an e-mail address; empty means none."""
    email = (email or "").strip().lower()
    return email or None


def find_by_identifier(identifier: str) -> User | None:
    """Find an account by e-mail address or phone number."""
    from einstein.auth.phones import normalise_phone

    identifier = identifier.strip()
    if "@" in identifier:
        return db.session.scalar(sa.select(User).where(User.email == normalise_email(identifier)))
    phone = normalise_phone(identifier)
    if phone is None:
        return None
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def create_user(
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    role: Role = Role.PARTICIPANT,
    locale: str = "nl",
    audience: Audience = Audience.UNSAID,
) -> User:
    """Add an account (the caller commits)."""
    user = User(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        password_hash=hash_password(password) if password else None,
        role=role,
        locale=locale,
        audience=audience,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.flush()
    return user
