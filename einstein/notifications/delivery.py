"""Send outbox rows: claimed as a batch under a lease, each recorded as it went, exactly once.

A batch is claimed in one statement under a lease (``leases``), loaded once (the areas'
preloads fill the session); then each row is written by its kind's renderer for its channel,
handed to that channel over one connection per batch, and what became of it is written at once,
while the lease holds. A worker that lost its lease sends nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from einstein.db import db, utcnow
from einstein.notifications import leases, registry
from einstein.notifications.channels import (
    CALL,
    ChannelUnavailableError,
    Connection,
    Later,
    Outgoing,
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
    #: put off to a later moment: by their renderer (a text at night), or not tried because their
    #: channel could not be reached a moment before in this batch
    later: list[int] = field(default_factory=list)
    #: not sent because the lease was lost (another worker has them, or the sweep gave them back)
    stopped: list[int] = field(default_factory=list)
    #: the channels found unreachable in this batch (no connection to the mail server or the
    #: gateway), with why: their other messages are put off, not each made to wait for it
    unavailable: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        names = ("sent", "retry", "failed", "skipped", "later", "stopped")
        return {name: len(getattr(self, name)) for name in names}


def retry_delay(attempts: int) -> int:
    """Seconds to wait before the next try: doubling from MAIL_RETRY_SECONDS, at most an hour."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return int(min(base * 2 ** max(attempts - 1, 0), 3600))


def deliver(ids: list[int], lease_seconds: float | None = None) -> DeliveryReport:
    """Send the given outbox rows under one lease: claimed together, each recorded as it goes.

    One statement claims the batch; the batch is loaded once (the areas' preloads fill the
    session); then each message costs its sending and one statement writing what became of it.
    """
    report = DeliveryReport()
    # the lease writes over a connection of its own: on SQLite the session must not hold the
    # write lock meanwhile (a task begins with nothing open; a caller's reads end here)
    db.session.commit()
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    # The session holds what it loaded only while something else does: without this, what the
    # areas' preloads loaded (bookings, sessions, places) was gone again before it was rendered,
    # and each message loaded it once more, one row at a time.
    batch: list[object] = []

    def keep(_session: Any, instance: object) -> None:
        batch.append(instance)

    sa.event.listen(session, "loaded_as_persistent", keep)
    try:
        with leases.connection() as connection:
            lease = leases.Lease(connection, seconds=lease_seconds)
            try:
                claimed = lease.claim(ids)
                report.skipped.extend(i for i in ids if i not in lease.held)
                if claimed:
                    rows = list(db.session.scalars(sa.select(Notification).where(Notification.id.in_(claimed))))
                    registry.preload(rows)
                    db.session.commit()  # end the read: on SQLite it must not hold the write lock
                    _deliver(lease, claimed, {row.id: row for row in rows}, report)
            finally:
                if lease.held:  # stopped early (lease lost, or an error): the rest goes back
                    lease.release()
    finally:
        sa.event.remove(session, "loaded_as_persistent", keep)
        session.expire_on_commit = expire_on_commit
    return report


def _deliver(lease: leases.Lease, ids: list[int], loaded: dict[int, Notification], report: DeliveryReport) -> None:
    with ExitStack() as connections:
        opened: dict[str, Connection] = {}

        def connection(name: str) -> Connection:
            if name not in opened:
                opened[name] = connections.enter_context(channel(name).connect())
            return opened[name]

        for position, notification_id in enumerate(ids):
            notification = loaded.get(notification_id)
            if notification is None:  # deleted with its person since (account deleted)
                report.skipped.append(notification_id)
                continue
            if notification.channel in report.unavailable:
                if not _put_off(lease, notification_id, report.unavailable[notification.channel], report):
                    report.stopped.extend(ids[position + 1 :])
                    return
                continue
            try:
                outgoing: Outgoing | Later | Exception | None = registry.render(notification)
            except Exception as error:
                log.exception("message %d could not be written", notification_id)
                outgoing = error
            if db.session().in_transaction():
                # end what the renderer read: on SQLite an open transaction holds the write lock
                # (a commit keeps the batch loaded; a rollback, after an error, expires it)
                if isinstance(outgoing, Exception):
                    db.session.rollback()
                else:
                    db.session.commit()
            # the last moment to find the lease gone: nothing more goes out under it
            if not lease.hold():
                report.stopped.extend(ids[position:])
                return
            if not _handle(lease, notification, outgoing, connection, report):
                report.stopped.extend(ids[position + 1 :])  # taken from this worker meanwhile
                return


def _handle(
    lease: leases.Lease,
    notification: Notification,
    outgoing: Outgoing | Later | Exception | None,
    connection: Callable[[str], Connection],
    report: DeliveryReport,
) -> bool:
    """Send one written message (or not), and record what became of it; False if the lease is gone."""
    notification_id, attempts = notification.id, notification.attempts + 1
    if isinstance(outgoing, Exception):
        report.failed.append(notification_id)
        error = f"could not be written: {outgoing!r}"[:2000]
        return lease.record(notification_id, NotificationStatus.FAILED, last_error=error, attempts=attempts)
    if outgoing is None:
        report.skipped.append(notification_id)
        return lease.record(notification_id, NotificationStatus.CANCELLED, last_error="no longer relevant")
    if isinstance(outgoing, Later):  # e.g. a text that would arrive at night
        report.later.append(notification_id)
        # waiting is no failed try: the attempts stay as they are
        when = outgoing.when
        return lease.record(notification_id, NotificationStatus.PENDING, due_at=when, queued_at=when, last_error=None)
    try:
        connection(notification.channel).send(outgoing, notification_id)
    except TemporaryDeliveryError as error:
        if isinstance(error, ChannelUnavailableError):
            report.unavailable[notification.channel] = str(error)
        return _temporary(lease, notification_id, attempts, str(error), outgoing, report)
    except PermanentDeliveryError as error:
        report.failed.append(notification_id)
        log.warning("message %d failed for good: %s", notification_id, error)
        return lease.record(notification_id, NotificationStatus.FAILED, **_sent(outgoing, attempts, str(error)))
    except UnconfirmedDelivery as error:
        # sending again could send it twice: count it as sent, and say so
        report.sent.append(notification_id)
        log.warning("message %d: %s", notification_id, error)
        values = _sent(outgoing, attempts, str(error))
        return lease.record(notification_id, NotificationStatus.SENT, sent_at=utcnow(), **values)
    report.sent.append(notification_id)
    return lease.record(notification_id, NotificationStatus.SENT, sent_at=utcnow(), **_sent(outgoing, attempts, None))


def _sent(outgoing: Outgoing, attempts: int, error: str | None) -> dict[str, Any]:
    """What a message handed to its channel writes: where it went, its cost, the try, the error."""
    return {
        "address": outgoing.address[:254],
        "segments": outgoing.segments,
        "attempts": attempts,
        "last_error": error[:2000] if error else None,
    }


def _temporary(
    lease: leases.Lease,
    notification_id: int,
    attempts: int,
    error: str,
    outgoing: Outgoing,
    report: DeliveryReport,
) -> bool:
    """Record a temporary failure: a later try, or failed for good after the last one."""
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        report.failed.append(notification_id)
        values = _sent(outgoing, attempts, f"gave up after {attempts} tries: {error}")
        return lease.record(notification_id, NotificationStatus.FAILED, **values)
    due = utcnow() + timedelta(seconds=retry_delay(attempts))
    report.retry.append(notification_id)
    log.info("message %d: temporary failure, try %d: %s", notification_id, attempts, error)
    return lease.record(
        notification_id, NotificationStatus.PENDING, due_at=due, queued_at=due, **_sent(outgoing, attempts, error)
    )


def _put_off(lease: leases.Lease, notification_id: int, reason: str, report: DeliveryReport) -> bool:
    """Give a message back untried, due again after the first retry's delay: its channel could
    not be reached a moment ago. No try is counted; the sweep queues it once it is due."""
    report.later.append(notification_id)
    due = utcnow() + timedelta(seconds=retry_delay(1))
    error = f"not tried: {reason}"[:2000]
    return lease.record(notification_id, NotificationStatus.PENDING, due_at=due, queued_at=None, last_error=error)


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
