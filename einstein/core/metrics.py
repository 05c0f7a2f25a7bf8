"""What /metrics says: the request counters of every web process, and figures read at each scrape.

The outbox, the bookings and the broker's queues are read from the database and the broker when
Prometheus asks (a few grouped counts on indexed columns), never kept in a process: every web
process would hold its own, different copy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from einstein.bookings.models import Booking, BookingStatus
from einstein.db import db, utcnow
from einstein.notifications.models import Notification, NotificationStatus
from einstein.observability import multiprocess_dir

log = logging.getLogger(__name__)

#: The Celery queues einstein uses (config: task_default_queue and task_routes).
QUEUES = ("default", "mail")


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive UTC times
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


class Figures(Collector):
    """The outbox, the bookings and the broker, read at each scrape (inside the request's app context)."""

    def collect(self) -> Iterator[Metric]:
        # the figures matter most when something is down: a part that does not answer is said so
        try:
            figures = [*self._outbox(), *self._bookings()]
        except sa.exc.SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            db.session.rollback()
            figures = []
        yield GaugeMetricFamily(
            "einstein_database_up", "Whether the database answered this scrape", value=int(bool(figures))
        )
        yield from figures
        yield from self._broker()

    def _outbox(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "einstein_outbox_messages", "Messages in the outbox, by state and channel", labels=["state", "channel"]
        )
        rows = db.session.execute(
            sa.select(Notification.status, Notification.channel, sa.func.count()).group_by(
                Notification.status, Notification.channel
            )
        )
        for status, channel, count in rows:
            messages.add_metric([NotificationStatus(status).value, channel], count)
        yield messages
        now = utcnow()
        oldest = db.session.scalar(
            sa.select(sa.func.min(Notification.due_at)).where(
                Notification.status == NotificationStatus.PENDING, Notification.due_at <= now
            )
        )
        yield GaugeMetricFamily(
            "einstein_outbox_oldest_pending_seconds",
            "How long the oldest message that is due has waited to be sent (0: none waits)",
            value=max(0.0, (now - _aware(oldest)).total_seconds()) if oldest else 0.0,
        )

    def _bookings(self) -> Iterator[Metric]:
        bookings = GaugeMetricFamily("einstein_bookings", "Bookings, by status", labels=["status"])
        rows = db.session.execute(sa.select(Booking.status, sa.func.count()).group_by(Booking.status))
        counts: dict[BookingStatus, int] = {row[0]: row[1] for row in rows}
        for status in BookingStatus:
            bookings.add_metric([status.value], counts.get(status, 0))
        yield bookings
        waiting = Booking.status == BookingStatus.WAITLISTED
        sessions = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Booking.session_id))).where(waiting, Booking.session_id.is_not(None))
        )
        courses = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Booking.offer_id))).where(waiting, Booking.session_id.is_(None))
        )
        yield GaugeMetricFamily(
            "einstein_waiting_lists",
            "Sessions and courses with someone on their waiting list",
            value=(sessions or 0) + (courses or 0),
        )

    def _broker(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("einstein_broker_up", "Whether the broker answered this scrape")
        length = GaugeMetricFamily(
            "einstein_broker_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        celery = current_app.extensions["celery"]
        try:
            with celery.connection_for_read() as conn:
                channel = conn.default_channel
                sizes = {queue: channel._size(queue) for queue in QUEUES}  # Redis LLEN, or the broker's files
        except Exception:
            log.warning("metrics: the broker did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue, size in sizes.items():
            length.add_metric([queue], size)
        yield up
        yield length


def render() -> bytes:
    """The metrics page: every web process's request counters, and the figures read now."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder:
        multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]  # every worker
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    figures = CollectorRegistry()
    figures.register(Figures())
    return body + generate_latest(figures)
