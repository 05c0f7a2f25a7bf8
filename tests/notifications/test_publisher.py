"""The outbox's publisher: e-mails committed close together reach the broker in one message, and
none is lost when the thread goes idle or the process exits.

A real Redis server is the broker; nothing consumes the queue, so the test reads what arrived.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from einstein.config import default_config
from einstein.db import db, utcnow
from einstein.models import Notification, NotificationKind
from einstein.notifications import publisher as publishing
from tests.conftest import SECRET_KEY
from tests.support import clock
from tests.support.booking import book
from tests.support.outbox import ids_in_mail_queue
from tests.support.servers import ROOT, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def app_config(fresh_redis, tmp_path):
    """Publish to a Redis of the test's own; gather for half a second so a test can watch."""
    celery = default_config(tmp_path, environ={"REDIS_URL": fresh_redis.url})["CELERY"]
    return {"CELERY": celery, "PUBLISH_DELAY_SECONDS": 0.5}


def _due_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(Notification.id).where(Notification.due_at <= utcnow())))


def _queued(redis_url: str) -> list[int]:
    return [i for message in ids_in_mail_queue(redis_url) for i in message]


@pytest.mark.postgres
def test_e_mails_committed_together_reach_the_queue_in_one_message(
    app, client, make_user, activity, fresh_redis
) -> None:
    people = [make_user() for _ in range(6)]
    for person in people:  # two get places, four go on the waiting list: six e-mails due now
        client.sign_in(person)
        assert book(client, activity, waitlist=True).status_code == 303
    due = _due_ids(app)
    assert len(due) == 6
    wait_for(lambda: set(_queued(fresh_redis.url)) == due, timeout=10, what="the six e-mails in the queue")
    messages = ids_in_mail_queue(fresh_redis.url)
    assert len(messages) < len(due), messages  # gathered, not one message per booking
    assert sorted(_queued(fresh_redis.url)) == sorted(due)  # each exactly once


def test_the_thread_ends_when_idle_and_starts_again_for_the_next_e_mail(
    app, client, make_user, activity, fresh_redis, monkeypatch
) -> None:
    monkeypatch.setattr(publishing.Publisher, "IDLE_SECONDS", 0.2)
    first, second = make_user(), make_user()
    client.sign_in(first)
    book(client, activity)
    publisher = app.extensions["einstein.publisher"]
    wait_for(lambda: publisher._thread is None, timeout=10, what="the idle thread to end")
    assert len(_queued(fresh_redis.url)) == 1
    client.sign_in(second)
    book(client, activity)
    wait_for(lambda: set(_queued(fresh_redis.url)) == _due_ids(app), timeout=10, what="the second e-mail")
    assert len(_queued(fresh_redis.url)) == 2


#: A process that commits an e-mail and exits at once, long before its thread would publish.
EXIT_AT_ONCE = """
import sys
from einstein import create_app
from einstein.db import db
from einstein.models import NotificationKind
from einstein.notifications import outbox

app = create_app()
with app.app_context():
    print(outbox.queue(NotificationKind.VERIFY_EMAIL, int(sys.argv[1]), payload={"email": "x@example.org"}))
    db.session.commit()
"""


@pytest.mark.postgres
def test_a_process_that_exits_hands_its_waiting_e_mails_to_the_broker(
    app, database, participant, fresh_redis, tmp_path
) -> None:
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": fresh_redis.url,
        "SECRET_KEY": SECRET_KEY,
        "EINSTEIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "EINSTEIN_PUBLISH_DELAY_SECONDS": "60",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", EXIT_AT_ONCE, str(participant.id)],
        env=clock.environment(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    notification_id = int(done.stdout.split()[-1])
    assert _queued(fresh_redis.url) == [notification_id]
    with app.app_context():
        row = db.session.get(Notification, notification_id)
        assert row is not None and row.kind == NotificationKind.VERIFY_EMAIL
