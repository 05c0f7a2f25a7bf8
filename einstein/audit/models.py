"""One row per action that changes someone else's data, or that a coordinator must be able to trace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from einstein.db import Model, utcnow


class AuditEvent(Model):
    """Who did what to whom, and when.

    It holds ids and short codes, not copies of personal data: when a person is erased, the
    rows about them keep only that it happened (the ids become NULL).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_subject_id_created_at", "subject_id", "created_at"),
        sa.Index("ix_audit_events_offer_id_created_at", "offer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Who did it; None for einstein itself (a task) or a person erased since.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: What was done, a dotted code such as "person.exported" or "offer.approved".
    action: Mapped[str] = mapped_column(sa.String(40))
    #: The person it was done to, if any.
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offers.id", ondelete="SET NULL"))
    #: Ids and codes that tell what exactly (a booking reference, a new role), never free text.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
