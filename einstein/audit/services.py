"""Write the audit trail in the caller's transaction, and read it back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from einstein.audit.models import AuditEvent
from einstein.db import db

#: What each action is called on the history pages.
ACTION_LABELS = {
    "booking.made_for": _l("booked a place for"),
    "booking.cancelled_for": _l("cancelled a booking of"),
    "offer.approved": _l("approved the activity of"),
    "offer.rejected": _l("did not approve the activity of"),
    "revision.approved": _l("approved changes by"),
    "revision.rejected": _l("did not approve changes by"),
    "translation.approved": _l("approved a translation by"),
    "translation.rejected": _l("did not approve a translation by"),
    "translation.published": _l("published a translation of an offer of"),
    "translator.changed": _l("changed the languages for translating of"),
    "person.role_changed": _l("changed the role of"),
    "person.trusted": _l("changed whether to trust"),
    "person.signed_out": _l("signed out on every device:"),
    "person.exported": _l("gave a copy of their data to"),
    "person.erased": _l("deleted a person"),
    "person.edited": _l("corrected the details of"),
    "person.merged": _l("merged two records into"),
    "report.exported": _l("exported a report"),
    "attendance.changed_later": _l("changed attendance afterwards of"),
    "session.changed": _l("gave a session a new time or place"),
    "credential.revoked": _l("revoked a certificate or statement of"),
}


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
