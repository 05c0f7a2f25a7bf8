"""Reminders and e-mails are never lost and never doubled, whatever fails.

Real parts only: a Redis server, Celery worker and beat processes (``celery -A worker``,
``celery -A einstein.beat``), and an aiosmtpd SMTP server, all started by these tests.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.config import default_config
from einstein.db import db, utcnow
from einstein.models import Notification, NotificationKind, NotificationStatus, Role
from tests.support.booking import book
from tests.support.reminders import due_reminders, statuses
from tests.support.servers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Settings that make the sweep and the claims fast enough to watch in a test.
FAST = {
    "EINSTEIN_SWEEP_SECONDS": "1",
    "EINSTEIN_MAIL_CLAIM_SECONDS": "3",
    "EINSTEIN_MAIL_REQUEUE_SECONDS": "3",
    "EINSTEIN_MAIL_RETRY_SECONDS": "1",
}


def _start(start_celery, database, redis, smtp, concurrency: int = 2, beat_app: str | None = None, **extra: str):
    env = {**FAST, **extra}
    worker = start_celery(database, redis.url, smtp.port, extra_env=env, concurrency=concurrency)
    beat = start_celery(database, redis.url, smtp.port, kind="beat", extra_env=env, app=beat_app)
    return worker, beat


@pytest.mark.postgres
def test_due_reminders_arrive_once_each(app, database, redis_server, smtp, start_celery) -> None:
    redis_server.flush()
    ids = due_reminders(app, 40)
    _start(start_celery, database, redis_server, smtp)
    wait_for(lambda: len(set(smtp.notification_ids())) >= len(ids), timeout=60, what="every reminder")
    time.sleep(4)  # several more sweeps: nothing may come twice
    received = Counter(smtp.notification_ids())
    assert set(received) == set(ids)
    assert max(received.values()) == 1
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)
    message = smtp.messages[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "openstreetmap.org" in body and "/cancel/" in body  # where (with a map) and a cancel link
    assert [p.get_content_type() for p in message.iter_attachments()] == ["text/calendar"]


@pytest.mark.parametrize("beat_app", ["einstein.beat", "worker"])
def test_a_starting_beat_sweeps_at_once(app, database, redis_server, smtp, start_celery, beat_app) -> None:
    """Reminders already due go out as beat starts, not a whole sweep interval (here an hour) later:
    from beat's own entry point (the Procfile's) and from the worker's."""
    redis_server.flush()
    ids = due_reminders(app, 3)
    _start(start_celery, database, redis_server, smtp, beat_app=beat_app, EINSTEIN_SWEEP_SECONDS="3600")
    wait_for(lambda: set(smtp.notification_ids()) >= set(ids), timeout=60, what="the reminders due at the start")
    assert Counter(smtp.notification_ids()) == Counter(ids)


@pytest.mark.postgres
def test_a_worker_killed_mid_batch_loses_nothing(app, database, redis_server, smtp, start_celery) -> None:
    redis_server.flush()
    ids = due_reminders(app, 120)
    smtp.delay = 0.02  # a slow mail server, so the kill lands in the middle of a batch
    worker, _beat = _start(start_celery, database, redis_server, smtp, concurrency=1, EINSTEIN_MAIL_BATCH_SIZE="50")
    wait_for(lambda: len(smtp.messages) >= 30, timeout=60, what="the first messages")
    worker.kill()  # SIGKILL to the worker and its pool process
    sent_before = len(smtp.messages)
    assert sent_before < len(ids), "the worker finished before it could be killed"
    worker.start()
    worker.wait_ready()
    wait_for(lambda: set(smtp.notification_ids()) >= set(ids), timeout=90, what="every reminder after the restart")
    time.sleep(4)
    received = Counter(smtp.notification_ids())
    assert set(received) == set(ids)
    duplicates = sum(count - 1 for count in received.values())
    # At most the one message that was being handed to the SMTP server when the worker died.
    assert duplicates <= 1, received.most_common(3)
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)


def test_an_smtp_server_that_answers_451_gets_each_email_once(app, database, redis_server, smtp, start_celery) -> None:
    redis_server.flush()
    ids = due_reminders(app, 5)
    smtp.fail_next(3)
    _start(start_celery, database, redis_server, smtp)
    wait_for(lambda: set(smtp.notification_ids()) >= set(ids), timeout=60, what="every e-mail after retries")
    time.sleep(3)
    received = Counter(smtp.notification_ids())
    assert set(received) == set(ids) and max(received.values()) == 1
    assert smtp.refusals == 3
    with app.app_context():
        attempts = db.session.scalars(sa.select(Notification.attempts).where(Notification.id.in_(ids))).all()
    assert sum(attempts) == len(ids) + 3  # each refusal cost exactly one more try


def test_a_permanent_failure_is_recorded_and_shown_to_coordinators(
    app, database, redis_server, smtp, start_celery, client, coordinator
) -> None:
    redis_server.flush()
    ids = due_reminders(app, 2)
    smtp.fail_next(1, "550 5.1.1 No such mailbox")
    _start(start_celery, database, redis_server, smtp)
    wait_for(
        lambda: statuses(app).get(NotificationStatus.FAILED) == 1 and len(smtp.messages) == 1,
        timeout=60,
        what="one failure",
    )
    client.sign_in(coordinator)
    page = client.get("/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Failed for good: 1" in page and "550 5.1.1 No such mailbox" in page
    with app.app_context():
        failed_id = db.session.scalar(
            sa.select(Notification.id).where(Notification.status == NotificationStatus.FAILED)
        )
    assert failed_id in ids
    # after fixing the address, a coordinator sends it again
    assert client.post(f"/outbox/{failed_id}/retry").status_code == 303
    wait_for(lambda: failed_id in smtp.notification_ids(), timeout=30, what="the retried e-mail")


@pytest.fixture
def on_fresh_redis(fresh_redis, tmp_path):
    """The app under test publishes to a Redis of the test's own, which the test may stop or freeze."""
    return {"CELERY": default_config(tmp_path, environ={"REDIS_URL": fresh_redis.url})["CELERY"]}


class TestBrokerOutages:
    """The database is the source of truth: a booking never waits for, or depends on, Redis."""

    @pytest.fixture
    def app_config(self, on_fresh_redis):
        return on_fresh_redis

    @pytest.mark.postgres
    def test_redis_stopped_during_a_booking(
        self, app, database, client, participant, activity, fresh_redis, smtp, start_celery
    ) -> None:
        client.sign_in(participant)
        fresh_redis.stop()
        started = time.monotonic()
        assert book(client, activity).status_code == 303
        assert time.monotonic() - started < 1.0
        with app.app_context():
            assert (
                db.session.scalar(
                    sa.select(Notification.status).where(Notification.kind == NotificationKind.BOOKING_CONFIRMED)
                )
                == NotificationStatus.PENDING
            )
        fresh_redis.start()
        _start(start_celery, database, fresh_redis, smtp)
        wait_for(lambda: len(smtp.to(participant.email)) >= 1, timeout=60, what="the confirmation")
        # and the reminders: let time pass until they are due
        with app.app_context():
            reminder_ids = db.session.scalars(
                sa.select(Notification.id).where(Notification.kind == NotificationKind.REMINDER)
            ).all()
            assert reminder_ids
            db.session.execute(
                sa.update(Notification)
                .where(Notification.kind == NotificationKind.REMINDER)
                .values(due_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
        wait_for(lambda: set(smtp.notification_ids()) >= set(reminder_ids), timeout=60, what="the reminders")
        time.sleep(3)
        kinds = Counter(statuses(app))
        received = Counter(smtp.notification_ids())
        assert max(received.values()) == 1 and len(received) == 1 + len(reminder_ids), received
        assert kinds[NotificationStatus.SENT] == 1 + len(reminder_ids)

    def test_a_frozen_redis_does_not_hold_a_booking(
        self, app, database, client, participant, activity, fresh_redis, smtp, start_celery
    ) -> None:
        client.sign_in(participant)
        fresh_redis.freeze()
        try:
            started = time.monotonic()
            response = book(client, activity)
            elapsed = time.monotonic() - started
        finally:
            fresh_redis.thaw()
        assert response.status_code == 303
        assert elapsed < 1.0, f"the booking took {elapsed:.2f}s with Redis frozen"
        _start(start_celery, database, fresh_redis, smtp)
        wait_for(lambda: len(smtp.to(participant.email)) >= 1, timeout=60, what="the confirmation")
        time.sleep(3)
        assert len(smtp.to(participant.email)) == 1


class TestCacheOutages:
    """The page cache and the rate limits on a Redis that stops answering cost a booking nothing,
    and once it answers again nothing older than the bookings made meanwhile is served."""

    #: Long enough that a request waiting on the frozen Redis is plain to see, whatever the machine.
    SOCKET_TIMEOUT = 2.0

    @pytest.fixture
    def app_config(self, fresh_redis, tmp_path):
        settings = default_config(tmp_path, environ={"REDIS_URL": fresh_redis.url})
        on_redis = ("CELERY", "CACHE_TYPE", "CACHE_REDIS_URL", "RATELIMIT_STORAGE_URI")
        timeouts = {"socket_timeout": self.SOCKET_TIMEOUT, "socket_connect_timeout": self.SOCKET_TIMEOUT}
        return {key: settings[key] for key in on_redis} | {
            "CACHE_OPTIONS": timeouts,
            "RATELIMIT_STORAGE_OPTIONS": timeouts,
            "CACHE_RETRY_AFTER": 0.5,
        }

    @pytest.mark.usefixtures("steady_cache_minute")
    def test_a_frozen_redis_holds_no_booking_and_nothing_stale_after(
        self, app, client, make_user, activity, fresh_redis
    ) -> None:
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("einstein+redis://")  # the limits are on it too
        offer_page = f"/offers/{activity['offer_id']}"
        visitor = app.test_client()
        assert visitor.get(offer_page, headers={"Accept-Language": "en"}).status_code == 200
        seen = visitor.get(offer_page, headers={"Accept-Language": "en"})
        assert seen.headers.get("X-Einstein-Cache") == "hit" and "2 places free" in seen.text
        people = [make_user(role=Role.PARTICIPANT, name=f"Rush {n}") for n in range(4)]
        clients = []
        for person in people:
            signed_in = app.test_client()
            signed_in.sign_in(person)
            clients.append(signed_in)
        fresh_redis.freeze()
        try:
            took = []
            for n, signed_in in enumerate(clients):
                if n == 2:  # someone signs in meanwhile: the rate limits find Redis frozen
                    app.test_client().post("/login", data={"identifier": "x@example.org", "password": "wrong"})
                started = time.monotonic()
                answer = book(signed_in, activity, waitlist=True)
                took.append(time.monotonic() - started)
                assert answer.status_code == 303
            # the next page of each person, signed in, does not wait either
            started = time.monotonic()
            assert clients[0].get(offer_page, headers={"Accept-Language": "en"}).status_code == 200
            took.append(time.monotonic() - started)
            # nor does a visitor, and the page is not the one cached before the bookings
            started = time.monotonic()
            during = visitor.get(offer_page, headers={"Accept-Language": "en"})
            took.append(time.monotonic() - started)
        finally:
            fresh_redis.thaw()
        # each would wait out the 2 s socket timeout if it asked the frozen Redis (the cache's
        # version after the commit, or the rate limits' check of their storage)
        assert max(took) < self.SOCKET_TIMEOUT / 2, f"requests took {[round(t, 2) for t in took]} s with Redis frozen"
        assert "Full: waiting list open" in during.text and during.headers.get("X-Einstein-Cache") != "hit"
        # at once after the thaw, and once the changes owed are written: never the old page
        for _ in range(2):
            fresh = visitor.get(offer_page, headers={"Accept-Language": "en"})
            assert "2 places free" not in fresh.text and "Full: waiting list open" in fresh.text
            time.sleep(1.5)
        visitor.get(offer_page, headers={"Accept-Language": "en"})
        assert visitor.get(offer_page, headers={"Accept-Language": "en"}).headers.get("X-Einstein-Cache") == "hit"
