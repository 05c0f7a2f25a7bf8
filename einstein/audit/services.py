"""Write the audit trail in the caller's transaction, and read it back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from einstein.audit.models import AuditEvent
from einstein.db import db


def record(
    action: str,
    *,
    actor_id: int | None,
    subject_id: int | None = None,
    offer_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add one event to the trail; it is committed (or rolled back) with the change it records."""
    event = AuditEvent(action=action, actor_id=actor_id, subject_id=subject_id, offer_id=offer_id, details=details)
    db.session.add(event)
    return event


def events_about(*, subject_id: int | None = None, offer_id: int | None = None, limit: int = 100) -> list[AuditEvent]:
    """The latest events about one person or one offer, newest first."""
    query = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    if offer_id is not None:
        query = query.where(AuditEvent.offer_id == offer_id)
    return list(db.session.scalars(query))
