"""Signed, expiring links for confirming an e-mail address and resetting a password."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from einstein.auth.models import User
from einstein.db import db

VERIFY_SALT = "einstein.verify-email"
RESET_SALT = "einstein.password-reset"
#: A confirmation link works for three days, a reset link for one hour.
VERIFY_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600


class TokenError(Exception):
    """The link is expired, tampered with, or already used."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    # Changes whenever the password (or the stamp: a new address or phone) does, so a reset link
    # works once; the stamp is random per account, so password-less accounts never share one.
    return hashlib.sha256(f"{user.security_stamp}:{user.password_hash or ''}".encode()).hexdigest()[:16]


def _load(token: str, salt: str, max_age: int) -> dict[str, Any]:
    if not token or len(token) > 512:
        raise TokenError()
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenError(expired=True) from error
    except BadSignature as error:
        raise TokenError() from error
    if not isinstance(data, dict):
        raise TokenError()
    return data


def address_to_confirm(user: User) -> str | None:
    """The address a confirmation link is for: the new one asked for, else an unconfirmed one."""
    if user.pending_email:
        return user.pending_email
    return user.email if user.email and user.email_verified_at is None else None


def make_verify_token(user: User, email: str) -> str:
    """Sign "this person asked for this address" for a confirmation link."""
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": email})


def read_verify_token(token: str) -> tuple[User, str]:
    """Return the person and the address the link confirms, or raise TokenError.

    A link is good only for the address the person is confirming now: after another change it
    is dead.
    """
    data = _load(token, VERIFY_SALT, VERIFY_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    email = data.get("e")
    if user is None or not isinstance(email, str) or email != address_to_confirm(user):
        raise TokenError()
    return user, email


def make_reset_token(user: User) -> str:
    """Sign a single-use password reset for ``user``."""
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})


def read_reset_token(token: str) -> User:
    """Return the person a reset link is for, or raise TokenError if expired, forged or used."""
    data = _load(token, RESET_SALT, RESET_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or data.get("p") != _password_fingerprint(user):
        raise TokenError()
    return user
