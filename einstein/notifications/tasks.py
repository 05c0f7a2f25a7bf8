"""Celery tasks of the outbox. They take ids, and are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from einstein.db import db
from einstein.notifications import delivery
from einstein.notifications import sweep as sweeping
from einstein.notifications.publisher import SEND_TASK

log = logging.getLogger(__name__)


@shared_task(name=SEND_TASK)
def send_notifications(ids: list[int]) -> dict[str, int]:
    """Send these outbox rows; rows another worker has, or that were sent, are skipped."""
    report = delivery.deliver([int(i) for i in ids])
    if report.retry:
        # A short countdown is safe: far below the broker's visibility timeout. If this message
        # is lost, the sweep queues the rows again once they are due.
        delay = delivery.retry_delay(1)
        try:
            send_notifications.apply_async((report.retry,), countdown=delay)
        except Exception:  # noqa: BLE001
            log.warning("could not queue the retry of %d message(s); the sweep will", len(report.retry))
    return report.as_dict()


@shared_task(name="einstein.notifications.tasks.sweep")
def sweep() -> dict[str, int]:
    """Queue every due message not yet sent, and free those left claimed by a stopped worker."""
    released = sweeping.release_stale_claims()
    db.session.commit()
    size = current_app.config["MAIL_BATCH_SIZE"]
    queued = 0
    # every due row, not only the first TAKE: once it took that many, it takes again, after a
    # commit, what is still due and unqueued (the rows taken are queued, so each is taken once)
    while True:
        ids = sweeping.take_due()
        db.session.commit()
        for start in range(0, len(ids), size):
            send_notifications.delay(ids[start : start + size])
        queued += len(ids)
        if len(ids) < sweeping.TAKE:
            return {"released": released, "queued": queued}
