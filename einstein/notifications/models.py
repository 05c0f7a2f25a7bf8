"""The outbox: every e-mail einstein sends is first a row here, written with the change it reports.

The database is the source of truth; the Celery queue only carries the ids of rows to send, so a
lost or repeated queue message neither loses nor doubles an e-mail (see ``services``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from einstein.auth.models import User
from einstein.bookings.models import Booking
from einstein.courses.models import OfferSession
from einstein.db import db, enum_column, utcnow


class NotificationKind(enum.StrEnum):
    """Which e-mail this is; each kind has templates in ``templates/emails/``."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a kind of e-mail, not a password)
    #: To an address someone tried to sign up with, or to add to another account.
    ACCOUNT_EXISTS = "account_exists"
    #: To the old address, when the account's address or phone number changed.
    CONTACT_CHANGED = "contact_changed"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_WAITLISTED = "booking_waitlisted"
    BOOKING_PROMOTED = "booking_promoted"
    BOOKING_CANCELLED = "booking_cancelled"
    SESSION_CHANGED = "session_changed"
    SESSION_CANCELLED = "session_cancelled"
    OFFER_CANCELLED = "offer_cancelled"
    REMINDER = "reminder"

    @property
    def label(self) -> str:
        """What this e-mail is, in plain words (for the E-mails page)."""
        return str(KIND_LABELS[self])


KIND_LABELS = {
    NotificationKind.VERIFY_EMAIL: _l("Confirm your e-mail address"),
    NotificationKind.PASSWORD_RESET: _l("Password reset"),
    NotificationKind.ACCOUNT_EXISTS: _l("Someone used your address"),
    NotificationKind.CONTACT_CHANGED: _l("Your contact details changed"),
    NotificationKind.BOOKING_CONFIRMED: _l("Booking confirmed"),
    NotificationKind.BOOKING_WAITLISTED: _l("On the waiting list"),
    NotificationKind.BOOKING_PROMOTED: _l("Place from the waiting list"),
    NotificationKind.BOOKING_CANCELLED: _l("Booking cancelled"),
    NotificationKind.SESSION_CHANGED: _l("Session changed"),
    NotificationKind.SESSION_CANCELLED: _l("Session cancelled"),
    NotificationKind.OFFER_CANCELLED: _l("Course or activity cancelled"),
    NotificationKind.REMINDER: _l("Reminder"),
}


class NotificationStatus(enum.StrEnum):
    """Pending until a worker claims it; sending while claimed; then sent, failed or cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Notification(db.Model):
    """One e-mail to one person, from the moment it is decided until it is sent or given up."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A reminder is unique per booking, session and offset: a retry can never add a second.
        sa.UniqueConstraint("booking_id", "session_id", "reminder_offset"),
        sa.Index("ix_notifications_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, length=24))
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"), index=True)
    #: For reminders: which one of the offer's reminder offsets, e.g. "24h" or "morning".
    reminder_offset: Mapped[str | None] = mapped_column(sa.String(16))
    #: Not to be sent before this moment.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What the e-mail needs beyond the rows it points at (e.g. a session's old time).
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the sweep last put it on the queue; it is queued again only after MAIL_REQUEUE_SECONDS.
    queued_at: Mapped[datetime | None]
    #: When a worker claimed it; a claim older than MAIL_CLAIM_SECONDS is handed out again.
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    booking: Mapped[Booking | None] = relationship()
    session: Mapped[OfferSession | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind.value} {self.status.value}>"
