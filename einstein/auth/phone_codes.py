"""Phone numbers proven by a code texted to them: at sign-up, and when a person changes theirs.

A number is the person's only once they typed the code we sent to it. Until then it counts for
nothing: messages do not go to it by SMS, and it does not keep anyone else from claiming it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from einstein.auth.messages import AccountMessage
from einstein.auth.models import User
from einstein.db import db, utcnow
from einstein.notifications import outbox

#: A new code may be asked for once this long after the last.
RESEND_SECONDS = 60


def _digest(user: User, phone: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"phone-code:{user.id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def digits(typed: str) -> str:
    """The digits typed, as ASCII: a phone set to Arabic or Farsi types ٤٨٢ or ۴۸۲ for 482."""
    return "".join(str(unicodedata.decimal(ch)) for ch in typed if ch.isdecimal())


def can_send_again(user: User) -> bool:
    """Whether a new code may go out now (not more often than once a minute)."""
    sent = user.phone_code_sent_at
    return sent is None or utcnow() - sent >= timedelta(seconds=RESEND_SECONDS)


def send_code(user: User) -> bool:
    """Text a new six-digit code to the number being verified; False if there is none."""
    phone = user.phone_to_verify
    if phone is None:
        return False
    code = f"{secrets.randbelow(10**6):06d}"
    user.phone_code_hash = _digest(user, phone, code)
    user.phone_code_sent_at = utcnow()
    user.phone_code_attempts = 0
    # to this number, whatever the person's other channels: it is the number being proven
    outbox.queue(AccountMessage.PHONE_CODE, user.id, channel="sms", address=phone, payload={"code": code})
    return True


def check_code(user: User, code: str) -> bool:
    """Whether ``code`` is the one texted last, within its time and its tries (each wrong one counts)."""
    phone = user.phone_to_verify
    config = current_app.config
    if phone is None or user.phone_code_hash is None or user.phone_code_sent_at is None:
        return False
    if user.phone_code_attempts >= config["PHONE_CODE_ATTEMPTS"]:
        return False
    if utcnow() - user.phone_code_sent_at > timedelta(seconds=config["PHONE_CODE_SECONDS"]):
        return False
    cleaned = digits(code)[:6]
    if not hmac.compare_digest(_digest(user, phone, cleaned), user.phone_code_hash):
        user.phone_code_attempts += 1
        return False
    return True


def confirm_number(user: User) -> str:
    """The code was right: the number is the person's now. Returns the number.

    A number someone else holds without having proven it is taken from them (they never showed
    it was theirs); the stamp that signs reset links is renewed.
    """
    phone = user.phone_to_verify
    assert phone is not None  # noqa: S101 - check_code passed, so there is one
    others = db.session.scalars(sa.select(User).where(User.phone == phone, User.id != user.id))
    for other in others:
        other.phone, other.phone_verified_at = None, None
    db.session.flush()
    user.phone, user.pending_phone = phone, None
    user.phone_verified_at = utcnow()
    user.phone_code_hash, user.phone_code_attempts = None, 0
    user.security_stamp = secrets.token_hex(16)
    return phone
