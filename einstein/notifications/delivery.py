"""Send outbox rows: each claimed before it goes, and marked as it went, exactly once.

A batch is loaded once (the areas' preloads fill the session), then each row is claimed and
committed on its own, written by its kind's renderer for its channel and handed to that
channel over one connection per batch.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from einstein.db import db, utcnow
from einstein.notifications import registry
from einstein.notifications.channels import (
    CALL,
    Connection,
    Later,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UnconfirmedDelivery,
    channel,
)
from einstein.notifications.models import Notification, NotificationStatus

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What one batch did."""

    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    #: put off to a later moment by their renderer (a text at night)
    later: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("sent", "retry", "failed", "skipped", "later")}


def claim(notification_id: int) -> int | None:
    """Take a due, pending row for this worker (committed at once); return its try number.

    None means someone else has it, it was sent or cancelled meanwhile, or it is not due.
    """
    now = utcnow()
    attempts = db.session.scalar(
        sa.update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == NotificationStatus.PENDING,
            Notification.due_at <= now,
            Notification.channel != CALL,
        )
        .values(status=NotificationStatus.SENDING, claimed_at=now, attempts=Notification.attempts + 1)
        .returning(Notification.attempts)
        # the loaded batch is not searched for this row: the caller sets what it needs
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return attempts


def retry_delay(attempts: int) -> int:
    """Seconds to wait before the next try: doubling from MAIL_RETRY_SECONDS, at most an hour."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return int(min(base * 2 ** max(attempts - 1, 0), 3600))


def _finish(notification: Notification, status: NotificationStatus, error: str | None = None) -> None:
    notification.status = status
    notification.claimed_at = None
    notification.last_error = error[:2000] if error else None
    if status == NotificationStatus.SENT:
        notification.sent_at = utcnow()
    db.session.commit()


def deliver(ids: list[int]) -> DeliveryReport:
    """Send the given outbox rows, each claimed and committed alone.

    The batch is loaded once; the per-message commits keep it loaded (expire_on_commit is off
    for the batch), so each message costs its claim and its result, nothing more.
    """
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        rows = list(db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))))
        registry.preload(rows)
        db.session.commit()  # end the read: on SQLite it must not hold the write lock
        return _deliver(ids, {row.id: row for row in rows})
    finally:
        session.expire_on_commit = expire_on_commit


def _deliver(ids: list[int], loaded: dict[int, Notification]) -> DeliveryReport:
    report = DeliveryReport()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    with ExitStack() as connections:
        opened: dict[str, Connection] = {}
        for notification_id in ids:
            attempts = claim(notification_id)
            if attempts is None:
                report.skipped.append(notification_id)
                continue
            notification = loaded.get(notification_id) or db.session.get(Notification, notification_id)
            if notification is None:  # deleted with its person since (account deleted)
                report.skipped.append(notification_id)
                continue
            # What the claim wrote, as the loaded row's committed state, so that _finish's
            # changes (even back to "pending") are seen as changes and written.
            set_committed_value(notification, "status", NotificationStatus.SENDING)
            set_committed_value(notification, "attempts", attempts)
            try:
                outgoing = registry.render(notification)
            except Exception as error:
                log.exception("message %d could not be written", notification_id)
                db.session.rollback()
                _finish(notification, NotificationStatus.FAILED, f"could not be written: {error!r}")
                report.failed.append(notification_id)
                continue
            if outgoing is None:
                _finish(notification, NotificationStatus.CANCELLED, "no longer relevant")
                report.skipped.append(notification_id)
                continue
            if isinstance(outgoing, Later):  # e.g. a text that would arrive at night
                notification.due_at = notification.queued_at = outgoing.when
                notification.attempts = attempts - 1  # waiting is no failed try
                _finish(notification, NotificationStatus.PENDING)
                report.later.append(notification_id)
                continue
            notification.address = outgoing.address[:254]
            notification.segments = outgoing.segments
            try:
                if notification.channel not in opened:
                    opened[notification.channel] = connections.enter_context(channel(notification.channel).connect())
                opened[notification.channel].send(outgoing, notification.id)
            except TemporaryDeliveryError as error:
                if attempts >= max_attempts:
                    _finish(notification, NotificationStatus.FAILED, f"gave up after {attempts} tries: {error}")
                    report.failed.append(notification_id)
                    continue
                notification.due_at = utcnow() + timedelta(seconds=retry_delay(attempts))
                notification.queued_at = notification.due_at
                _finish(notification, NotificationStatus.PENDING, str(error))
                report.retry.append(notification_id)
                log.info("message %d: temporary failure, try %d: %s", notification_id, attempts, error)
            except PermanentDeliveryError as error:
                _finish(notification, NotificationStatus.FAILED, str(error))
                report.failed.append(notification_id)
                log.warning("message %d failed for good: %s", notification_id, error)
            except UnconfirmedDelivery as error:
                # sending again could send it twice: count it as sent, and say so
                _finish(notification, NotificationStatus.SENT, str(error))
                report.sent.append(notification_id)
                log.warning("message %d: %s", notification_id, error)
            else:
                _finish(notification, NotificationStatus.SENT)
                report.sent.append(notification_id)
    return report


#: What an operator reports last about a text; "accepted" and "buffered" come on the way.
FINAL_REPORTS = ("delivered", "failed", "rejected")


def record_report(notification_id: int, status: str) -> bool:
    """What the gateway later reported about a text (delivered, failed ...); False if unknown.

    A text the operator could not deliver is marked failed, so coordinators see it and can try
    again or call; a report never turns a failure into a success or back.
    """
    values: dict[str, Any] = {"delivery": status[:16], "updated_at": utcnow()}
    if status == "delivered":
        values["delivered_at"] = utcnow()
    query = sa.update(Notification).where(Notification.id == notification_id, Notification.channel != CALL)
    if status not in FINAL_REPORTS:
        # reports may come out of order: "accepted" arriving late does not undo "delivered"
        query = query.where(sa.or_(Notification.delivery.is_(None), Notification.delivery.not_in(FINAL_REPORTS)))
    result = db.session.execute(query.values(**values))
    if status in ("failed", "rejected"):
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == notification_id, Notification.status == NotificationStatus.SENT)
            .values(status=NotificationStatus.FAILED, last_error=f"the operator reports: {status}")
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]
