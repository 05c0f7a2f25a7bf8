"""Turn an outbox row into the e-mail it stands for, in the recipient's language.

Each kind has a builder that loads what it needs, decides whether the e-mail is still relevant
(a reminder for a booking cancelled since is not) and renders ``templates/emails/...``.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

from einstein.auth.models import User
from einstein.notifications.models import Notification, NotificationKind

Builder = Callable[[Notification], Message | None]

#: kind -> builder; each area registers its e-mails with ``@builds(kind)``.
BUILDERS: dict[NotificationKind, Builder] = {}


def builds(kind: NotificationKind) -> Callable[[Builder], Builder]:
    """Register the builder of one kind of e-mail."""

    def register(builder: Builder) -> Builder:
        BUILDERS[kind] = builder
        return builder

    return register


def _load_builders() -> None:
    # Each area keeps its e-mails beside its rules; importing registers them.
    import einstein.auth.emails
    import einstein.bookings.emails
    import einstein.courses.emails  # noqa: F401


def can_email(user: User | None) -> bool:
    """Booking e-mails go only to a confirmed address of someone who wants them."""
    return user is not None and user.email_verified and user.email_notifications


def build_message(notification: Notification) -> Message | None:
    """Return the e-mail for ``notification``, or None if it should no longer be sent."""
    if not BUILDERS:
        _load_builders()
    builder = BUILDERS.get(notification.kind)
    if builder is None:
        raise LookupError(f"no e-mail is written for {notification.kind.value}")
    return builder(notification)
