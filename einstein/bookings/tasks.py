"""Celery tasks of the bookings area."""

from __future__ import annotations

from celery import shared_task

from einstein.bookings import held, integrity
from einstein.bookings import services as places
from einstein.db import db, utcnow


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


@shared_task(name="einstein.bookings.tasks.open_held_places")
def open_held_places() -> dict[str, int]:
    """Give the places held for the mix that opened to everyone to the waiting lists, in order.

    Each course or session under its lock, counted again there: safe to run twice, and beside
    people booking and cancelling. The promoted are told as from any waiting list.
    """
    now = utcnow()
    promoted = 0
    for target in held.opened(now):
        unit = places.lock_places(target)
        promoted += len(places.promote(target, unit))
        db.session.commit()  # one course or session at a time: its lock is not held for the others
    return {"promoted": promoted}
