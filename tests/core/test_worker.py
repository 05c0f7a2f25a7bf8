"""The worker entry point runs against a real Redis; the health check sees Redis stop and freeze."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from einstein import schedule
from tests.conftest import process_environment
from tests.support.servers import ROOT

pytestmark = pytest.mark.integration


def test_worker_py_starts_a_worker_on_redis(app, database, redis_server, smtp, start_celery) -> None:
    worker = start_celery(database, redis_server.url, smtp.port)
    from celery import Celery

    control = Celery(broker=redis_server.url)
    replies = control.control.ping(timeout=5.0)
    assert any("w0@einstein-test" in reply for reply in replies), worker.log()[-2000:]
    assert "einstein.notifications.tasks.send_notifications" in worker.log()


def test_healthz_follows_redis(make_app, database, fresh_redis, tmp_path) -> None:
    from einstein.config import default_config

    def app_on(url: str):
        celery = default_config(tmp_path, environ={"REDIS_URL": url})["CELERY"]
        return make_app(database, CELERY=celery)

    client = app_on(fresh_redis.url).test_client()
    assert client.get("/healthz").json["broker"] == "up"

    fresh_redis.freeze()
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        fresh_redis.thaw()
    assert response.status_code == 503 and response.json["broker"] == "down"
    assert elapsed < 5, f"a frozen Redis held the health check for {elapsed:.1f}s"

    fresh_redis.stop()
    assert client.get("/healthz").json["broker"] == "down"
    fresh_redis.start()
    assert client.get("/healthz").json["broker"] == "up"


#: Run in a fresh interpreter: what importing beat's entry point loads, and its Celery settings
#: beside those of the worker's app, made afterwards in the same process from the same settings.
_BEAT = """
import json, sys
import einstein.beat as beat
heavy = ["einstein.app", "einstein.extensions", "einstein.db", "sqlalchemy", "psycopg", "flask_babel"]
loaded = [name for name in heavy if name in sys.modules]
from einstein import create_app
worker = create_app().extensions["celery"]
names = ["broker_url", "broker_transport_options", "task_routes", "task_default_queue", "timezone", "beat_schedule"]
print(json.dumps({
    "loaded": loaded,
    "differ": [name for name in names if beat.celery.conf[name] != worker.conf[name]],
    "every": beat.celery.conf.beat_schedule["sweep-outbox"]["schedule"],
    "jobs": sorted(beat.celery.conf.beat_schedule),
}))
"""


def test_beat_loads_the_configuration_and_not_the_app(tmp_path) -> None:
    """``celery -A einstein.beat`` (the Procfile's beat) loads neither the app nor the database
    layer, and schedules the same tasks on the same broker, queues and clock as the worker's app."""
    # the settings the tests' Celery processes get; Redis and the mail server are never asked here
    env = process_environment(
        f"sqlite:///{tmp_path / 'db.sqlite'}", "redis://127.0.0.1:9/0", 9, tmp_path, {"EINSTEIN_SWEEP_SECONDS": "17"}
    )
    run = subprocess.run([sys.executable, "-c", _BEAT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["loaded"] == []
    assert found["differ"] == []
    assert found["every"] == 17.0
    assert found["jobs"] == sorted([*schedule.SWEEPS, "check-counters", "apply-retention"])
