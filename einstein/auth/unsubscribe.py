"""The one-click "unsubscribe" of reminder e-mails (RFC 8058), with a signed link like the cancel links.

A reminder carries ``List-Unsubscribe: <https://.../unsubscribe/<token>>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail program's "unsubscribe" button
POSTs to that address, and the person's e-mails about bookings and reminders stop (their own
switch on the profile, "Send me e-mails about my bookings and reminders"). Opening the address
(a GET, as mail scanners do) only shows a page that asks. The token names the person and the
address the e-mail went to: it never expires (an unsubscribe link must keep working), and it
dies when the person's address changes.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from einstein.auth.models import User
from einstein.auth.services import follow_reach
from einstein.db import db

SALT = "einstein.unsubscribe"
#: The body a mail program POSTs (RFC 8058, section 3.1).
ONE_CLICK = "List-Unsubscribe=One-Click"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _address_digest(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]


def unsubscribe_token(user: User) -> str:
    """A token that stops this person's reminder e-mails, for the address they have now."""
    return _serializer().dumps([user.id, _address_digest(user.email or "")])


def read_unsubscribe_token(token: str) -> User | None:
    """The person an unsubscribe token is for, if it is genuine and their address is the same."""
    if not token or len(token) > 256:
        return None
    try:
        user_id, digest = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not 0 < user_id < 2**31 or not isinstance(digest, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.email or digest != _address_digest(user.email):
        return None
    return user


def stop_emails(user: User) -> bool:
    """Turn off the person's e-mails about bookings and reminders; say whether they were on.

    Messages still to go take the way the person can be reached now (a text message, or a
    coordinator's call for the ones that matter), as when they untick the box on their profile.
    """
    if not user.email_notifications:
        return False
    user.email_notifications = False
    follow_reach(user)
    return True
