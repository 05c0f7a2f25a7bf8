"""Write messages into the outbox, in the caller's transaction; publish them once it commits.

How "exactly once" is kept:

1. A message is a ``Notification`` row written in the same transaction as the change it
   reports, so it exists if and only if the change was committed. Reminders are unique per
   (booking, session, offset), so no retry or second request can add one twice.
2. After the commit its id goes to Celery, from a thread of the process that committed
   (``publisher``). If the broker is down or frozen the row simply waits: the beat sweep
   (``sweep``) queues every due row that is pending and not recently queued.
3. A worker *claims* a row before sending it (``delivery``): one conditional UPDATE from
   ``pending`` to ``sending``, committed. Two workers, or a redelivered queue message, cannot
   both win it.
4. After the channel accepted the message the row is marked ``sent``. If the worker dies in
   between, the claim expires and the message goes again: the one duplicate no system can
   exclude, kept to the single message in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

import sqlalchemy as sa

from einstein.db import db, table_of, utcnow
from einstein.notifications import registry
from einstein.notifications.channels import CALL
from einstein.notifications.models import Notification, NotificationStatus

#: Session.info key holding the ids of the outbox rows to publish once the transaction commits.
AFTER_COMMIT = "einstein.outbox.after_commit"


class OutboxRow(TypedDict):
    """The values of one new ``Notification`` row, as ``add`` inserts them."""

    kind: str
    channel: str
    user_id: int
    address: str | None
    booking_id: int | None
    session_id: int | None
    due_at: datetime
    reminder_offset: str | None
    payload: dict[str, Any]


def row(
    kind: str,
    user_id: int,
    *,
    booking_id: int | None = None,
    session_id: int | None = None,
    due_at: datetime | None = None,
    reminder_offset: str | None = None,
    payload: dict[str, Any] | None = None,
    channel: str = "email",
    address: str | None = None,
) -> OutboxRow:
    """The values of one outbox row, for ``add``."""
    return {
        "kind": str(kind),
        "channel": channel,
        "user_id": user_id,
        "address": address,
        "booking_id": booking_id,
        "session_id": session_id,
        "due_at": due_at or utcnow(),
        "reminder_offset": reminder_offset,
        "payload": payload or {},
    }


def add(rows: list[OutboxRow]) -> list[int]:
    """Write outbox rows in the current transaction, all in one INSERT; return their ids (in no
    particular order).

    The rows due now are published after the commit. This is a Core statement, not the unit of
    work: the booking rush writes its e-mail and its reminders in one round trip.
    """
    if not rows:
        return []
    # each id comes back with its time, so the order of the rows returned does not matter (SQLite
    # batches the rows in one statement only when it need not keep their order)
    written = db.session.execute(
        sa.insert(table_of(Notification)).returning(Notification.id, Notification.due_at, Notification.channel), rows
    )
    now = utcnow()
    ids, due = [], []
    for id_, due_at, channel in written:
        ids.append(id_)
        if due_at <= now and channel != CALL:  # a coordinator calls those people: nothing to send
            due.append(id_)
    publish_after_commit(due)
    return ids


def queue(kind: str, user_id: int, **details: Any) -> int:
    """Add one message to the outbox in the current transaction; it is published after commit.

    ``details`` are ``row``'s other fields.
    """
    return add([row(kind, user_id, **details)])[0]


def publish_after_commit(ids: list[int]) -> None:
    """Hand these rows to the broker once the current transaction has committed."""
    if ids:
        db.session.info.setdefault(AFTER_COMMIT, []).extend(ids)


def requeue(notification: Notification) -> bool:
    """Try a failed message once more from the start; it is published after the commit."""
    if notification.status != NotificationStatus.FAILED:
        return False
    notification.status = NotificationStatus.PENDING
    notification.due_at = utcnow()
    notification.queued_at = None
    notification.last_error = None
    notification.attempts = 0
    publish_after_commit([notification.id])
    return True


def reroute(user_id: int, channel: str) -> int:
    """Send a person's messages still to go by ``channel`` (they confirmed a number, said STOP,
    chose another way): the rows keep their kind and time, only the way changes."""
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.status == NotificationStatus.PENDING,
            Notification.channel != channel,
            Notification.address.is_(None),  # messages for a given address stay with it
        )
        .values(channel=channel, queued_at=None, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cancel_pending(*conditions: sa.ColumnElement[bool]) -> int:
    """Cancel outbox rows not yet sent that match ``conditions`` (e.g. a cancelled booking's)."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.status == NotificationStatus.PENDING, *conditions)
        .values(status=NotificationStatus.CANCELLED, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass
class OutboxSummary:
    """What the outbox page shows."""

    #: rows by state (those sent only in the last day), calls not counted
    counts: dict[NotificationStatus, int]
    #: pending rows whose time has come
    due: int
    #: the latest messages that failed for good
    failed: list[Notification]
    #: texts sent in the last 30 days, and the segments they cost
    sms_sent: int = 0
    segments_sent: int = 0
    #: texts planned for the next 30 days (reminders and the like), and about what they will cost
    sms_planned: int = 0
    segments_planned: int = 0
    #: people to call (no way to reach them) with something that matters
    to_call: int = 0

    @property
    def planned(self) -> int:
        """Pending rows whose time has not come yet (reminders, mostly)."""
        return max(self.counts.get(NotificationStatus.PENDING, 0) - self.due, 0)


def summary(failed_limit: int = 50) -> OutboxSummary:
    """Counts by state, what is due now, what SMS costs, and the messages that failed for good."""
    now = utcnow()
    sendable = Notification.channel != CALL
    counts = dict(
        db.session.execute(
            sa.select(Notification.status, sa.func.count())
            .where(
                sendable,
                sa.or_(Notification.status != NotificationStatus.SENT, Notification.sent_at >= now - timedelta(days=1)),
            )
            .group_by(Notification.status)
        ).all()
    )
    due = db.session.scalar(
        sa.select(sa.func.count()).where(
            sendable, Notification.status == NotificationStatus.PENDING, Notification.due_at <= now
        )
    )
    failed = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.status == NotificationStatus.FAILED)
            .order_by(Notification.updated_at.desc())
            .limit(failed_limit)
        )
    )
    month = timedelta(days=30)
    sms = Notification.channel == "sms"
    sent, segments_sum = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Notification.segments), 0)).where(
            sms, Notification.status == NotificationStatus.SENT, Notification.sent_at >= now - month
        )
    ).one()
    planned = db.session.scalar(
        sa.select(sa.func.count()).where(
            sms, Notification.status == NotificationStatus.PENDING, Notification.due_at < now + month
        )
    )
    segments = int(segments_sum or 0)
    # a planned text will cost what the texts sent lately cost on average (two segments at first)
    average = segments / sent if sent else 2
    to_call = db.session.scalar(sa.select(sa.func.count()).where(*_calls_waiting()))
    return OutboxSummary(
        counts,
        int(due or 0),
        failed,
        sms_sent=int(sent),
        segments_sent=segments,
        sms_planned=int(planned or 0),
        segments_planned=round(int(planned or 0) * average),
        to_call=int(to_call or 0),
    )


def _calls_waiting() -> tuple[sa.ColumnElement[bool], ...]:
    """Rows a coordinator should call about: for people einstein cannot reach, not ticked off,
    of the kinds that matter (a reminder for someone unreachable waits, in case they can be
    reached before it is due, but is nobody's call)."""
    kinds = [kind for kind in registry.kinds() if registry.needs_a_call(kind)]
    return (
        Notification.channel == CALL,
        Notification.status == NotificationStatus.PENDING,
        Notification.kind.in_(kinds),
    )


def to_call(limit: int = 200) -> list[Notification]:
    """Messages for people einstein cannot reach, that a coordinator should tell them by phone:
    the kinds that matter, not yet ticked off, oldest first (the batch is loaded for writing)."""
    rows = list(
        db.session.scalars(
            sa.select(Notification).where(*_calls_waiting()).order_by(Notification.due_at, Notification.id).limit(limit)
        )
    )
    registry.preload(rows)
    return rows


def mark_called(notification: Notification) -> bool:
    """A coordinator told the person by phone; False if someone ticked it off already."""
    if notification.channel != CALL or notification.status != NotificationStatus.PENDING:
        return False
    notification.status = NotificationStatus.SENT
    notification.sent_at = utcnow()
    notification.address = "phone call"
    return True
