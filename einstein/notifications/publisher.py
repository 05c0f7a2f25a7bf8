"""Hand committed outbox rows to the broker, from a thread of the process that committed them."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref

import sqlalchemy as sa
from flask import Flask, current_app

from einstein import observability
from einstein.db import db
from einstein.notifications.outbox import AFTER_COMMIT

log = logging.getLogger(__name__)

#: The Celery task that sends a batch (called by name: this layer does not import the worker's tasks).
SEND_TASK = "einstein.notifications.tasks.send_notifications"
#: Key in app.extensions: until when (time.monotonic) this process leaves the broker alone.
_RESTING = "einstein.broker_resting_until"


def dispatch(ids: list[int], causes: dict[int, str] | None = None) -> bool:
    """Publish ids to the mail queue; on any broker trouble leave them for the sweep.

    A publish that fails (Redis down, or frozen: the socket timeout is half a second) makes this
    process skip the broker for BROKER_BACKOFF_SECONDS, so that an outage costs the publishing
    thread half a second now and then, and requests nothing. The rows stay pending; the sweep
    queues them. ``causes`` names the request that committed each id: its task's log lines say it.
    """
    if not ids:
        return True
    if time.monotonic() < current_app.extensions.get(_RESTING, 0.0):
        return False
    celery = current_app.extensions["celery"]
    size = current_app.config["MAIL_BATCH_SIZE"]
    try:
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            with observability.caused_by((causes or {}).get(i) for i in batch):
                celery.send_task(SEND_TASK, args=(batch,))
    except Exception:  # the database keeps the rows; the sweep will queue them
        current_app.extensions[_RESTING] = time.monotonic() + current_app.config["BROKER_BACKOFF_SECONDS"]
        log.warning("could not publish %d message(s) to the broker; the sweep will send them", len(ids), exc_info=True)
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
        #: The request that committed each id (this thread hands them over for another).
        self._causes: dict[int, str] = {}
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, ids: list[int]) -> None:
        """Publish ``ids`` soon, from the thread."""
        cause = observability.request_id()
        with self._ready:
            self._ids.extend(ids)
            if cause:
                self._causes.update(dict.fromkeys(ids, cause))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="einstein-outbox-publisher", daemon=True)
                self._thread.start()
            self._ready.notify()

    def flush(self) -> None:
        """Publish what is waiting now, in the calling thread."""
        with self._ready:
            ids, self._ids = self._ids, []
            causes, self._causes = self._causes, {}
        if ids:
            with self.app.app_context():
                dispatch(ids, causes)

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
                log.exception("publishing messages failed; the sweep will queue them")


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
    return found  # type: ignore[no-any-return]


def _publish_after_commit(session: sa.orm.Session) -> None:
    ids = session.info.pop(AFTER_COMMIT, None)
    if ids:
        publisher().add(ids)


def _forget_after_rollback(session: sa.orm.Session, *_: object) -> None:
    session.info.pop(AFTER_COMMIT, None)


def init_app() -> None:
    """Publish outbox rows after commit and forget them after rollback (tasks run after commit)."""
    if not sa.event.contains(db.session, "after_commit", _publish_after_commit):
        sa.event.listen(db.session, "after_commit", _publish_after_commit)
        sa.event.listen(db.session, "after_rollback", _forget_after_rollback)
