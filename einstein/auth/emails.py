"""The e-mails about an account: confirm your address, reset your password."""

from __future__ import annotations

from email.message import Message

from einstein.auth.tokens import make_reset_token, make_verify_token
from einstein.mail import render_email
from einstein.notifications.messages import builds
from einstein.notifications.models import Notification, NotificationKind
from einstein.urls import external_url


@builds(NotificationKind.VERIFY_EMAIL)
def verify_email(notification: Notification) -> Message | None:
    """Write the link that confirms the address, unless it changed or is confirmed already."""
    user = notification.user
    if not user.email or user.email != notification.payload.get("email") or user.email_verified_at is not None:
        return None
    link = external_url("auth.verify_email", token=make_verify_token(user))
    return render_email("auth/verify_email", user.email, user.locale, user=user, link=link)


@builds(NotificationKind.PASSWORD_RESET)
def password_reset(notification: Notification) -> Message | None:
    """Write a single-use link to choose a new password."""
    user = notification.user
    if not user.email:
        return None
    link = external_url("auth.reset_password", token=make_reset_token(user))
    return render_email("auth/password_reset", user.email, user.locale, user=user, link=link)
