"""Celery tasks of the bookings area."""

from __future__ import annotations

from celery import shared_task

from einstein.bookings import integrity
from einstein.bookings import services as places
from einstein.db import db


@shared_task(name="einstein.bookings.tasks.check_counters")
def check_counters() -> dict[str, int]:
    """Report place counters that differ from their bookings (nightly; it mends nothing itself)."""
    return {"drift": len(integrity.counter_drift())}


@shared_task(name="einstein.bookings.tasks.release_unanswered")
def release_unanswered() -> dict[str, int]:
    """Give places that waited for a yes in vain to the next people on the waiting lists."""
    released = places.release_unanswered()
    db.session.commit()
    return {"released": released}
