"""The messages about an account: confirm your address, reset your password, and security notices."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from einstein.auth.models import User
from einstein.auth.tokens import address_to_confirm, make_reset_token, make_verify_token
from einstein.db import db
from einstein.mail import link_in, render_email
from einstein.notifications import registry, sms
from einstein.notifications.channels import Outgoing
from einstein.notifications.models import Notification
from einstein.notifications.segments import cost
from einstein.urls import external_url


class AccountMessage(enum.StrEnum):
    """The kinds of message about an account."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a kind of message, not a password)
    #: To an address someone tried to sign up with, or to add to another account.
    ACCOUNT_EXISTS = "account_exists"
    #: To the old address, when the account's address or phone number changed.
    CONTACT_CHANGED = "contact_changed"
    #: The code that proves a phone number is the person's.
    PHONE_CODE = "phone_code"


def recipient(notification: Notification) -> User:
    """The person a message is for (loaded with the batch)."""
    user = db.session.get(User, notification.user_id)
    if user is None:
        raise LookupError(f"no person {notification.user_id}")
    return user


def verify_email(notification: Notification) -> Outgoing | None:
    """Write the link that confirms the address, unless another one is being confirmed by now."""
    user = recipient(notification)
    email = notification.payload.get("email")
    if not email or email != address_to_confirm(user):
        return None
    link = link_in(user.locale, "auth.verify_email", token=make_verify_token(user, email))
    return Outgoing(email, render_email("auth/verify_email", email, user.locale, user=user, link=link))


def password_reset(notification: Notification) -> Outgoing | None:
    """Write a single-use link to choose a new password, only ever to a confirmed address."""
    user = recipient(notification)
    if not user.email_verified or not user.email:
        return None
    link = link_in(user.locale, "auth.reset_password", token=make_reset_token(user))
    return Outgoing(user.email, render_email("auth/password_reset", user.email, user.locale, user=user, link=link))


def account_exists(notification: Notification) -> Outgoing | None:
    """Tell the owner of an address that someone tried to sign up with it, or add it elsewhere."""
    user = recipient(notification)
    if not user.email:
        return None
    unconfirmed = not user.email_verified
    link = (
        link_in(user.locale, "auth.verify_email", token=make_verify_token(user, user.email))
        if unconfirmed
        else link_in(user.locale, "auth.reset_request")
    )
    message = render_email(
        "auth/account_exists",
        user.email,
        user.locale,
        user=user,
        link=link,
        unconfirmed=unconfirmed,
        reason=notification.payload.get("reason", "signup"),
        login_link=link_in(user.locale, "auth.login"),
    )
    return Outgoing(user.email, message)


def contact_changed(notification: Notification) -> Outgoing | None:
    """Tell the address the account had that its address or phone number was changed."""
    user, to = recipient(notification), notification.payload.get("to")
    if not to:
        return None
    message = render_email(
        "auth/contact_changed",
        to,
        user.locale,
        user=user,
        what=notification.payload.get("what", "email"),
        reset_link=link_in(user.locale, "auth.reset_request"),
    )
    return Outgoing(to, message)


def phone_code(notification: Notification) -> Outgoing | None:
    """Text the code that proves the number, unless another number is being verified by now."""
    user = recipient(notification)
    if notification.address != user.phone_to_verify:
        return None
    text = sms.render_text("auth/phone_code", user.locale, code=notification.payload.get("code", ""))
    return Outgoing(notification.address or "", text, segments=cost(text).segments)


def account_exists_sms(notification: Notification) -> Outgoing | None:
    """Text the owner of a number that someone tried to sign up with it, or add it elsewhere."""
    user = recipient(notification)
    if not user.phone:
        return None
    link = sms.bare(external_url("auth.login"))
    reason = notification.payload.get("reason", "signup")
    text = sms.render_text("auth/account_exists", user.locale, reason=reason, link=link)
    return Outgoing(user.phone, text, segments=cost(text).segments)


def contact_changed_sms(notification: Notification) -> Outgoing | None:
    """Text the old number that the account's number was changed."""
    user, to = recipient(notification), notification.payload.get("to")
    if not to:
        return None
    text = sms.render_text("auth/contact_changed", user.locale)
    return Outgoing(to, text, segments=cost(text).segments)


def preload(rows: list[Notification]) -> None:
    """Load the people of a batch in one query."""
    ids = {row.user_id for row in rows}
    if ids:
        db.session.scalars(sa.select(User).where(User.id.in_(ids))).all()


def register() -> None:
    """Tell the notification layer about the account messages."""
    registry.register_preload("auth.people", preload)
    registry.register(AccountMessage.VERIFY_EMAIL, _l("Confirm your e-mail address"), email=verify_email)
    registry.register(AccountMessage.PASSWORD_RESET, _l("Password reset"), email=password_reset)
    registry.register(
        AccountMessage.ACCOUNT_EXISTS, _l("Someone used your address"), email=account_exists, sms=account_exists_sms
    )
    registry.register(
        AccountMessage.CONTACT_CHANGED,
        _l("Your contact details changed"),
        email=contact_changed,
        sms=contact_changed_sms,
    )
    registry.register(AccountMessage.PHONE_CODE, _l("Code for your phone number"), sms=phone_code)
