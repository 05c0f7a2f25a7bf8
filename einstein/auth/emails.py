"""The e-mails about an account: confirm your address, reset your password, and security notices."""

from __future__ import annotations

from email.message import Message

from einstein.auth.tokens import address_to_confirm, make_reset_token, make_verify_token
from einstein.mail import render_email
from einstein.notifications.messages import builds
from einstein.notifications.models import Notification, NotificationKind
from einstein.urls import external_url


@builds(NotificationKind.VERIFY_EMAIL)
def verify_email(notification: Notification) -> Message | None:
    """Write the link that confirms the address, unless another one is being confirmed by now."""
    user = notification.user
    email = notification.payload.get("email")
    if not email or email != address_to_confirm(user):
        return None
    link = external_url("auth.verify_email", token=make_verify_token(user, email))
    return render_email("auth/verify_email", email, user.locale, user=user, link=link)


@builds(NotificationKind.PASSWORD_RESET)
def password_reset(notification: Notification) -> Message | None:
    """Write a single-use link to choose a new password, only ever to a confirmed address."""
    user = notification.user
    if not user.email_verified or not user.email:
        return None
    link = external_url("auth.reset_password", token=make_reset_token(user))
    return render_email("auth/password_reset", user.email, user.locale, user=user, link=link)


@builds(NotificationKind.ACCOUNT_EXISTS)
def account_exists(notification: Notification) -> Message | None:
    """Tell the owner of an address that someone tried to sign up with it, or add it elsewhere."""
    user = notification.user
    if not user.email:
        return None
    unconfirmed = not user.email_verified
    link = (
        external_url("auth.verify_email", token=make_verify_token(user, user.email))
        if unconfirmed
        else external_url("auth.reset_request")
    )
    return render_email(
        "auth/account_exists",
        user.email,
        user.locale,
        user=user,
        link=link,
        unconfirmed=unconfirmed,
        reason=notification.payload.get("reason", "signup"),
        login_link=external_url("auth.login"),
    )


@builds(NotificationKind.CONTACT_CHANGED)
def contact_changed(notification: Notification) -> Message | None:
    """Tell the address the account had that its address or phone number was changed."""
    user, to = notification.user, notification.payload.get("to")
    if not to:
        return None
    return render_email(
        "auth/contact_changed",
        to,
        user.locale,
        user=user,
        what=notification.payload.get("what", "email"),
        reset_link=external_url("auth.reset_request"),
    )
