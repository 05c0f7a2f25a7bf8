"""The outbox: add e-mails in the caller's transaction, hand them to Celery after the commit,
and send each one at most once however often its queue message is delivered.

How "exactly once" is kept:

1. An e-mail is a ``Notification`` row written in the same transaction as the change it reports,
   so it exists if and only if the change was committed. Reminders are unique per
   (booking, session, offset), so no retry or second request can add one twice.
2. After the commit its id is published to Celery, by a thread of the process that committed
   (``Publisher``: ids committed within a tenth of a second go in one message). If the broker is
   down or frozen, publishing fails fast (short socket timeouts) and the row simply waits: the
   beat sweep queues every due row that is pending and not recently queued. So does a process
   that dies before its thread published.
3. A worker *claims* a row before sending it: one conditional UPDATE from ``pending`` to
   ``sending``, committed. Two workers, or a redelivered queue message, cannot both win it.
4. After the SMTP server accepted the message the row is marked ``sent``. If the worker dies
   between the SMTP server's "250 OK" and that commit, the claim expires and the message is sent
   again: the one duplicate no system can exclude, kept to that single in-flight message because
   each message is claimed and committed on its own.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from einstein.auth.models import User
from einstein.bookings.models import Booking
from einstein.courses.models import OfferSession
from einstein.db import db, utcnow
from einstein.mail import Mailer, PermanentMailError, TemporaryMailError
from einstein.notifications.models import Notification, NotificationKind, NotificationStatus

log = logging.getLogger(__name__)

#: Session.info key holding the ids of the outbox rows to publish once the transaction commits.
_AFTER_COMMIT = "einstein.outbox.after_commit"


def row(
    kind: NotificationKind,
    user_id: int,
    *,
    booking: Booking | None = None,
    session: OfferSession | None = None,
    due_at: datetime | None = None,
    reminder_offset: str | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of one outbox row, for ``add``. ``booking`` must have been written (have an id)."""
    return {
        "kind": kind,
        "user_id": user_id,
        "booking_id": booking.id if booking is not None else None,
        "session_id": session.id if session is not None else None,
        "due_at": due_at or utcnow(),
        "reminder_offset": reminder_offset,
        "payload": payload or {},
    }


def add(rows: list[dict[str, Any]]) -> list[int]:
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
        sa.insert(Notification.__table__).returning(Notification.id, Notification.due_at), rows
    )
    now = utcnow()
    ids, due = [], []
    for id_, due_at in written:
        ids.append(id_)
        if due_at <= now:
            due.append(id_)
    _publish_after_commit_of(due)
    return ids


def _publish_after_commit_of(ids: list[int]) -> None:
    if ids:
        db.session.info.setdefault(_AFTER_COMMIT, []).extend(ids)


def queue(kind: NotificationKind, user: User, *, booking: Booking | None = None, **details: Any) -> int:
    """Add one e-mail to the outbox in the current transaction; it is published after commit.

    ``details`` are ``row``'s other fields. A ``booking`` added in this transaction is flushed
    first: the row needs its id.
    """
    if booking is not None and booking.id is None:
        db.session.flush()
    return add([row(kind, user.id, booking=booking, **details)])[0]


def requeue(notification: Notification) -> bool:
    """Try a failed e-mail once more from the start; it is published after the commit."""
    if notification.status != NotificationStatus.FAILED:
        return False
    notification.status = NotificationStatus.PENDING
    notification.due_at = utcnow()
    notification.queued_at = None
    notification.last_error = None
    notification.attempts = 0
    _publish_after_commit_of([notification.id])
    return True


@dataclass
class OutboxSummary:
    """What the E-mails page shows."""

    #: rows by state (those sent only in the last day)
    counts: dict[NotificationStatus, int]
    #: pending rows whose time has come
    due: int
    #: the latest e-mails that failed for good
    failed: list[Notification]

    @property
    def planned(self) -> int:
        """Pending rows whose time has not come yet (reminders, mostly)."""
        return max(self.counts.get(NotificationStatus.PENDING, 0) - self.due, 0)


def summary(failed_limit: int = 50) -> OutboxSummary:
    """Counts by state, what is due now, and the e-mails that failed for good, newest first."""
    now = utcnow()
    counts = dict(
        db.session.execute(
            sa.select(Notification.status, sa.func.count())
            .where(
                sa.or_(Notification.status != NotificationStatus.SENT, Notification.sent_at >= now - timedelta(days=1))
            )
            .group_by(Notification.status)
        ).all()
    )
    due = db.session.scalar(
        sa.select(sa.func.count()).where(Notification.status == NotificationStatus.PENDING, Notification.due_at <= now)
    )
    failed = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.status == NotificationStatus.FAILED)
            .options(joinedload(Notification.user))
            .order_by(Notification.updated_at.desc())
            .limit(failed_limit)
        )
    )
    return OutboxSummary(counts, int(due or 0), failed)


def cancel_pending(*conditions: sa.ColumnElement[bool]) -> int:
    """Cancel outbox rows not yet sent that match ``conditions`` (e.g. a cancelled booking's)."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.status == NotificationStatus.PENDING, *conditions)
        .values(status=NotificationStatus.CANCELLED, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


#: Key in app.extensions: until when (time.monotonic) this process leaves the broker alone.
_RESTING = "einstein.broker_resting_until"


def dispatch(ids: list[int]) -> bool:
    """Publish ids to the mail queue; on any broker trouble leave them for the sweep.

    A publish that fails (Redis down, or frozen: the socket timeout is half a second) makes this
    process skip the broker for BROKER_BACKOFF_SECONDS, so that an outage costs the publishing
    thread half a second now and then, and requests nothing. The rows stay pending; the sweep
    queues them.
    """
    if not ids:
        return True
    if time.monotonic() < current_app.extensions.get(_RESTING, 0.0):
        return False
    from einstein.notifications.tasks import send_notifications

    size = current_app.config["MAIL_BATCH_SIZE"]
    try:
        for start in range(0, len(ids), size):
            send_notifications.delay(ids[start : start + size])
    except Exception:  # the database keeps the rows; the sweep will queue them
        current_app.extensions[_RESTING] = time.monotonic() + current_app.config["BROKER_BACKOFF_SECONDS"]
        log.warning("could not publish %d e-mail(s) to the broker; the sweep will send them", len(ids), exc_info=True)
        return False
    return True


class Publisher:
    """Hands the ids of committed outbox rows to the broker from a thread of this process.

    In a booking rush every request commits an e-mail; publishing each from its own request
    cost about 0.7 ms of CPU, an eighth of the booking (Celery builds and sends one message). Instead,
    the request only adds the ids here, and a thread sends what gathered in PUBLISH_DELAY_SECONDS
    in as few messages as MAIL_BATCH_SIZE allows. A request never waits for the broker, even a
    frozen one. If the process dies before sending, the rows are still pending in the database
    and the sweep queues them: nothing is lost. The thread ends when idle and starts again on
    the next id; one thread per app and process (a forked worker starts its own).
    """

    #: An idle thread ends after this many seconds.
    IDLE_SECONDS = 5.0

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._reset()
        _publishers.add(self)

    def _reset(self) -> None:
        self._ids: list[int] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, ids: list[int]) -> None:
        """Publish ``ids`` soon, from the thread."""
        with self._ready:
            self._ids.extend(ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="einstein-outbox-publisher", daemon=True)
                self._thread.start()
            self._ready.notify()

    def flush(self) -> None:
        """Publish what is waiting now, in the calling thread."""
        with self._ready:
            ids, self._ids = self._ids, []
        if ids:
            with self.app.app_context():
                dispatch(ids)

    def _run(self) -> None:
        delay = self.app.config["PUBLISH_DELAY_SECONDS"]
        while True:
            with self._ready:
                if not self._ids and not self._ready.wait_for(lambda: self._ids, timeout=self.IDLE_SECONDS):
                    self._thread = None
                    return
            time.sleep(delay)  # let the commits of the next moments join this message
            try:
                self.flush()
            except Exception:  # never let the thread die with ids in hand; the sweep has them anyway
                log.exception("publishing e-mails failed; the sweep will queue them")


#: Every Publisher of this process, to flush at exit and to reset in a forked child.
_publishers: weakref.WeakSet[Publisher] = weakref.WeakSet()


def _flush_all() -> None:
    for publisher in list(_publishers):
        publisher.flush()


def _after_fork() -> None:
    # the parent's thread, lock and ids are not this process's: the parent publishes its own ids
    for publisher in list(_publishers):
        publisher._reset()


atexit.register(_flush_all)
os.register_at_fork(after_in_child=_after_fork)


def publisher() -> Publisher:
    """The current app's Publisher."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("einstein.publisher")
    if found is None:  # two threads racing here both end up with the one that was stored
        found = app.extensions.setdefault("einstein.publisher", Publisher(app))
    return found


def _publish_after_commit(session: sa.orm.Session) -> None:
    ids = session.info.pop(_AFTER_COMMIT, None)
    if ids:
        publisher().add(ids)


def _forget_after_rollback(session: sa.orm.Session, *_: object) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def init_app() -> None:
    """Publish outbox rows after commit and forget them after rollback (tasks run after commit)."""
    if not sa.event.contains(db.session, "after_commit", _publish_after_commit):
        sa.event.listen(db.session, "after_commit", _publish_after_commit)
        sa.event.listen(db.session, "after_rollback", _forget_after_rollback)


# --- the sweep -------------------------------------------------------------------------------


def release_stale_claims() -> int:
    """Hand out again the rows whose worker died while holding them."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.status == NotificationStatus.SENDING, Notification.claimed_at < cutoff)
        .values(status=NotificationStatus.PENDING, claimed_at=None, queued_at=None)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.warning("released %d e-mail(s) left claimed by a worker that stopped", count)
    return count


def take_due(limit: int = 5000) -> list[int]:
    """Mark up to ``limit`` due, unqueued rows as queued now and return their ids."""
    now = utcnow()
    requeue = now - timedelta(seconds=current_app.config["MAIL_REQUEUE_SECONDS"])
    query = (
        sa.select(Notification.id)
        .where(
            Notification.status == NotificationStatus.PENDING,
            Notification.due_at <= now,
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


# --- sending ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one batch did."""

    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("sent", "retry", "failed", "skipped")}


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
        )
        .values(status=NotificationStatus.SENDING, claimed_at=now, attempts=Notification.attempts + 1)
        .returning(Notification.attempts)
        # the loaded batch is not searched for this row: the caller sets what it needs
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return attempts


def _preload(ids: list[int]) -> dict[int, Notification]:
    """Load a batch's rows with everything their e-mails show, in a handful of queries."""
    from einstein.courses.models import Offer

    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.id.in_(ids))
        .options(
            joinedload(Notification.user),
            joinedload(Notification.session).joinedload(OfferSession.location),
            joinedload(Notification.booking).joinedload(Booking.session).joinedload(OfferSession.location),
            joinedload(Notification.booking)
            .joinedload(Booking.offer)
            .options(
                joinedload(Offer.location),
                joinedload(Offer.organisation),
                selectinload(Offer.translations),
                selectinload(Offer.sessions).joinedload(OfferSession.location),
            ),
        )
    ).unique()
    return {row.id: row for row in rows}


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
    """Send the given outbox rows over one SMTP connection, each claimed and committed alone.

    The batch is loaded once; the per-message commits keep it loaded (expire_on_commit is off
    for the batch), so each message costs its claim and its result, nothing more.
    """
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        loaded = _preload(ids)
        db.session.commit()  # end the read: on SQLite it must not hold the write lock
        return _deliver(ids, loaded)
    finally:
        session.expire_on_commit = expire_on_commit


def _deliver(ids: list[int], loaded: dict[int, Notification]) -> DeliveryReport:
    from einstein.notifications.messages import build_message

    report = DeliveryReport()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    with Mailer() as mailer:
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
                message = build_message(notification)
            except Exception as error:
                log.exception("e-mail %d could not be written", notification_id)
                db.session.rollback()
                _finish(notification, NotificationStatus.FAILED, f"could not be written: {error!r}")
                report.failed.append(notification_id)
                continue
            if message is None:
                _finish(notification, NotificationStatus.CANCELLED, "no longer relevant")
                report.skipped.append(notification_id)
                continue
            message["X-Einstein-Notification"] = str(notification.id)
            try:
                mailer.send(message)
            except TemporaryMailError as error:
                if attempts >= max_attempts:
                    _finish(notification, NotificationStatus.FAILED, f"gave up after {attempts} tries: {error}")
                    report.failed.append(notification_id)
                    continue
                notification.due_at = utcnow() + timedelta(seconds=retry_delay(attempts))
                notification.queued_at = notification.due_at
                _finish(notification, NotificationStatus.PENDING, str(error))
                report.retry.append(notification_id)
                log.info("e-mail %d: temporary failure, try %d: %s", notification_id, attempts, error)
            except PermanentMailError as error:
                _finish(notification, NotificationStatus.FAILED, str(error))
                report.failed.append(notification_id)
                log.warning("e-mail %d failed for good: %s", notification_id, error)
            else:
                _finish(notification, NotificationStatus.SENT)
                report.sent.append(notification_id)
    return report
