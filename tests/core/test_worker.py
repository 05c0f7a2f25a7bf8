"""The worker entry point runs against a real Redis; the health check sees Redis stop and freeze."""

from __future__ import annotations

import time

import pytest

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
