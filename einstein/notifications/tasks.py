"""Celery tasks of the outbox. They take ids, and are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from einstein.db import db
from einstein.notifications import services

log = logging.getLogger(__name__)


@shared_task(name="einstein.notifications.tasks.send_notifications")
def send_notifications(ids: list[int]) -> dict[str, int]:
    """Send these outbox rows; rows another worker has, or that were sent, are skipped."""
    report = services.deliver([int(i) for i in ids])
    if report.retry:
        # A short countdown is safe: far below the broker's visibility timeout. If this message
        # is lost, the sweep queues the rows again once they are due.
        delay = services.retry_delay(1)
        try:
            send_notifications.apply_async((report.retry,), countdown=delay)
        except Exception:  # noqa: BLE001
            log.warning("could not queue the retry of %d e-mail(s); the sweep will", len(report.retry))
    return report.as_dict()


@shared_task(name="einstein.notifications.tasks.sweep")
def sweep() -> dict[str, int]:
    """Queue every due e-mail not yet sent, and free those left claimed by a stopped worker."""
    released = services.release_stale_claims()
    ids = services.take_due()
    db.session.commit()
    size = current_app.config["MAIL_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        send_notifications.delay(ids[start : start + size])
    return {"released": released, "queued": len(ids)}
