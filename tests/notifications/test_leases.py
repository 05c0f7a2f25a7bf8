"""A worker sends a batch under a lease: it keeps the lease while it sends, it stops when the lease
is gone, and a second worker takes over only what the first can no longer send.

Two workers are two threads here, each with its own app context (its own session and
connections), sending to the real SMTP server (aiosmtpd); the killed Celery workers are in
``test_pipeline``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.db import db
from einstein.models import Notification, NotificationStatus
from einstein.notifications import delivery, registry
from tests.support.queries import count_queries
from tests.support.reminders import due_reminders, statuses
from tests.support.servers import SmtpSink, wait_for

pytestmark = pytest.mark.integration


class _Worker(threading.Thread):
    """``delivery.deliver(ids)`` in a thread of its own, as a second worker process would."""

    def __init__(self, app: Any, ids: list[int], lease_seconds: float, name: str = "first worker") -> None:
        super().__init__(name=name, daemon=True)
        self.app, self.ids, self.lease_seconds = app, ids, lease_seconds
        self.report: delivery.DeliveryReport | None = None

    def run(self) -> None:
        with self.app.app_context():
            self.report = delivery.deliver(self.ids, lease_seconds=self.lease_seconds)


def _once_each(smtp: SmtpSink, ids: list[int]) -> None:
    received = Counter(smtp.notification_ids())
    assert set(received) == set(ids), "a reminder was lost"
    assert max(received.values()) == 1, f"sent twice: {received.most_common(3)}"


@pytest.mark.postgres
def test_a_second_worker_takes_an_expired_batch_and_the_first_stops(app, smtp, monkeypatch) -> None:
    ids = due_reminders(app, 6)
    paused, resume = threading.Event(), threading.Event()
    written = Counter[str]()
    render = registry.render

    def stalling_render(notification: Any) -> Any:
        # the first worker stalls before its second message (a long pause, a stuck machine)
        name = threading.current_thread().name
        written[name] += 1
        if name == "first worker" and written[name] == 2:
            paused.set()
            resume.wait(30)
        return render(notification)

    monkeypatch.setattr(registry, "render", stalling_render)
    first = _Worker(app, ids, lease_seconds=1.0)
    first.start()
    assert paused.wait(30), "the first worker never reached its second message"
    assert smtp.notification_ids() == [ids[0]]
    time.sleep(1.2)  # its lease runs out
    with app.app_context():
        second = delivery.deliver(ids, lease_seconds=30)
    assert second.sent == ids[1:] and second.skipped == [ids[0]]
    resume.set()
    first.join(30)
    assert first.report is not None
    # it found its lease gone before sending anything more
    assert first.report.sent == [ids[0]] and first.report.stopped == ids[1:]
    _once_each(smtp, ids)
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)


@pytest.mark.postgres
def test_a_worker_keeps_its_lease_while_it_sends(app, smtp) -> None:
    ids = due_reminders(app, 8)
    smtp.delay = 0.25  # a slow mail server: the batch takes twice the lease
    first = _Worker(app, ids, lease_seconds=1.0)
    first.start()
    wait_for(lambda: len(smtp.raw) >= 5, timeout=30, what="five messages, longer than the lease")
    with app.app_context():
        second = delivery.deliver(ids, lease_seconds=30)  # a redelivered task, or a second worker
    first.join(30)
    assert second.sent == [] and sorted(second.skipped) == sorted(ids)  # the lease was renewed
    assert first.report is not None and first.report.sent == ids
    _once_each(smtp, ids)


def test_a_batch_goes_over_one_smtp_connection(app, monkeypatch) -> None:
    class CountingSink(SmtpSink):
        """Notes the connection (the client's port) each message came over."""

        def __init__(self) -> None:
            super().__init__()
            self.peers: list[object] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.peers.append(session.peer)
            return await super().handle_DATA(server, session, envelope)

    sink = CountingSink()
    sink.start()
    try:
        app.config["SMTP_PORT"] = sink.port
        ids = due_reminders(app, 30)
        with app.app_context():
            report = delivery.deliver(ids)
        assert sorted(report.sent) == sorted(ids)
        _once_each(sink, ids)
        assert len(set(sink.peers)) == 1, "one SMTP connection (and greeting) for the whole batch"
    finally:
        sink.stop()


@pytest.mark.postgres
def test_each_message_is_recorded_as_it_goes(app, smtp, monkeypatch) -> None:
    ids = due_reminders(app, 5)
    seen: list[dict[NotificationStatus, int]] = []
    render = registry.render

    def looking_render(notification: Any) -> Any:
        seen.append(statuses(app))  # from another connection: what a crash here would leave
        return render(notification)

    monkeypatch.setattr(registry, "render", looking_render)
    with app.app_context():
        delivery.deliver(ids)
    # before message k is written, messages 1..k-1 are recorded sent, the rest held by the lease
    assert [s.get(NotificationStatus.SENT, 0) for s in seen] == [0, 1, 2, 3, 4]
    assert [s.get(NotificationStatus.SENDING, 0) for s in seen] == [5, 4, 3, 2, 1]


@pytest.mark.postgres
def test_a_message_costs_one_statement_beyond_its_batch(app, smtp) -> None:
    small, large = due_reminders(app, 5), due_reminders(app, 25, first=100)
    counts = []
    for ids in (small, large):
        with count_queries(app) as statements, app.app_context():
            report = delivery.deliver(ids)
        assert sorted(report.sent) == sorted(ids)
        counts.append(len(statements))
    # the claim and the batch's loading once, then one UPDATE per message: nothing loaded again
    # per message (the session keeps what the preloads loaded until the batch is sent)
    assert counts[1] - counts[0] == 20, counts


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_mid_batch_leaves_what_it_sent_recorded_and_the_rest_to_the_next(
    app, database, redis_server, smtp, start_celery
) -> None:
    redis_server.flush()
    ids = due_reminders(app, 200)
    smtp.delay = 0.01  # a slow mail server, so the kill lands in the middle of both batches
    env = {
        "EINSTEIN_SWEEP_SECONDS": "1",
        "EINSTEIN_MAIL_CLAIM_SECONDS": "3",
        "EINSTEIN_MAIL_REQUEUE_SECONDS": "3",
        "EINSTEIN_MAIL_BATCH_SIZE": "100",
    }
    worker = start_celery(database, redis_server.url, smtp.port, extra_env=env, concurrency=2)
    start_celery(database, redis_server.url, smtp.port, kind="beat", extra_env=env)
    wait_for(lambda: len(smtp.raw) >= 40, timeout=60, what="the first messages")
    worker.kill()  # SIGKILL to the worker and both its pool processes, each in a batch of 100
    time.sleep(0.5)  # what was already on its way reaches the mail server
    arrived = set(smtp.notification_ids())
    with app.app_context():
        recorded = set(
            db.session.scalars(sa.select(Notification.id).where(Notification.status == NotificationStatus.SENT))
        )
    assert len(arrived) < len(ids), "the worker finished before it could be killed"
    assert recorded <= arrived, "recorded as sent, never sent"
    # each message is written down as it goes: unrecorded are at most the one message each of the
    # worker's two processes was handing over when it died (the server took it, the worker died)
    in_flight = arrived - recorded
    assert len(in_flight) <= 2, in_flight
    worker.start()
    worker.wait_ready()
    wait_for(lambda: set(smtp.notification_ids()) >= set(ids), timeout=90, what="every reminder after the restart")
    time.sleep(4)  # more sweeps: nothing may come twice
    received = Counter(smtp.notification_ids())
    assert set(received) == set(ids)
    # the next worker took over the dead one's batches once their leases ran out, and sent again
    # only what was in flight
    assert {i for i, count in received.items() if count > 1} <= in_flight, received.most_common(3)
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)
