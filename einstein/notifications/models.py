"""The outbox: every message einstein sends is first a row here, written with the change it reports.

The database is the source of truth; the Celery queue only carries the ids of rows to send, so a
lost or repeated queue message neither loses nor doubles a message (see ``delivery``). This
layer knows no area: a row names its kind (registered by the area that sends it), its
recipient, its channel and, once sent, the address it went to; the rows it points at
(a booking, a session) are ids for the area's own message to read.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from einstein.db import Model, enum_column, utcnow


class NotificationStatus(enum.StrEnum):
    """Pending until a worker claims it; sending while its worker holds the lease on it; then
    sent, failed or cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Notification(Model):
    """One message to one person, from the moment it is decided until it is sent or given up."""

    __tablename__ = "notifications"
    __table_args__ = (
        # A reminder is unique per booking, session and offset: a retry can never add a second.
        sa.UniqueConstraint("booking_id", "session_id", "reminder_offset"),
        sa.Index("ix_notifications_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What this message is, e.g. "booking_confirmed"; each area registers the kinds it sends.
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: How it travels: "email" (the SMS channel plugs in beside it).
    channel: Mapped[str] = mapped_column(sa.String(16), default="email", server_default="email")
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    #: The person it is for.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Where it must go when the kind names it (a notice to an old address), else where it went.
    address: Mapped[str | None] = mapped_column(sa.String(254))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"), index=True)
    #: For reminders: which one of the offer's reminder offsets, e.g. "24h" or "morning".
    reminder_offset: Mapped[str | None] = mapped_column(sa.String(16))
    #: Not to be sent before this moment.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What the message needs beyond the rows it points at (e.g. a session's old time).
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the sweep last put it on the queue; it is queued again only after MAIL_REQUEUE_SECONDS.
    queued_at: Mapped[datetime | None]
    #: When a worker claimed it (the first message of its batch to go).
    claimed_at: Mapped[datetime | None]
    #: The worker sending it (with its batch), while it is "sending"; no other worker sends it...
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    #: ... until this moment, which the worker moves on while it sends; after it, the batch's
    #: rows still "sending" may be taken by another worker, and the first one stops.
    lease_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: What it cost: SMS segments (None for e-mail).
    segments: Mapped[int | None]
    #: What the gateway later reported: "delivered", "failed", "buffered", "accepted", "rejected".
    delivery: Mapped[str | None] = mapped_column(sa.String(16))
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.status.value}>"
