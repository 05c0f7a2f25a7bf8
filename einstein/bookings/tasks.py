"""Celery tasks of the bookings area."""

from __future__ import annotations

from celery import shared_task

from einstein.bookings import integrity


@shared_task(name="einstein.bookings.tasks.check_counters")
def check_counters() -> dict[str, int]:
    """Report place counters that differ from their bookings (nightly; it mends nothing itself)."""
    return {"drift": len(integrity.counter_drift())}
