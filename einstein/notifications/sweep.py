"""The sweep, run by beat every minute: due rows to the queue, and rows whose worker's lease expired freed."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from einstein.db import db, utcnow
from einstein.notifications.channels import CALL
from einstein.notifications.models import Notification, NotificationStatus

log = logging.getLogger(__name__)


def release_stale_claims() -> int:
    """Hand out again the rows whose worker's lease expired (it died, or stalled, holding them)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.status == NotificationStatus.SENDING,
            sa.or_(
                Notification.lease_expires_at < now,
                # claimed before leases existed (migration 0017)
                sa.and_(Notification.lease_expires_at.is_(None), Notification.claimed_at < cutoff),
            ),
        )
        .values(
            status=NotificationStatus.PENDING, claimed_at=None, lease_owner=None, lease_expires_at=None, queued_at=None
        )
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.warning("released %d message(s) left claimed by a worker that stopped", count)
    return count


#: Rows the sweep takes in one transaction; it takes again, after a commit, while it finds this many.
TAKE = 5000


def take_due(limit: int | None = None) -> list[int]:
    """Mark up to ``limit`` (``TAKE``) due, unqueued rows as queued now and return their ids."""
    limit = TAKE if limit is None else limit
    now = utcnow()
    requeue = now - timedelta(seconds=current_app.config["MAIL_REQUEUE_SECONDS"])
    query = (
        sa.select(Notification.id)
        .where(
            Notification.status == NotificationStatus.PENDING,
            Notification.due_at <= now,
            Notification.channel != CALL,  # people einstein cannot reach: a coordinator calls them
            sa.or_(Notification.queued_at.is_(None), Notification.queued_at < requeue),
        )
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(query))
    for start in range(0, len(ids), 500):
        db.session.execute(
            sa.update(Notification).where(Notification.id.in_(ids[start : start + 500])).values(queued_at=now)
        )
    return ids
