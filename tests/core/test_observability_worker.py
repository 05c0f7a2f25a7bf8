"""A booking's log line and the log line of the task it caused share a request id.

Real parts only: gunicorn serving einstein with JSON logs and its access log, a Redis broker, a
Celery worker (``celery -A worker``) with JSON logs, and an SMTP server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.conftest import SECRET_KEY
from tests.support.http import Browser, Gunicorn, NoRedirect, server_env, signed_in_people
from tests.support.servers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            record = json.loads(line[line.index("{") :]) if "{" in line else None
        except ValueError:
            continue
        if isinstance(record, dict):
            lines.append(record)
    return lines


def _post(url: str, browser: Browser, headers: dict[str, str] | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode({"waitlist": "", "csrf_token": browser.csrf}).encode()
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Cookie": f"session={browser.cookie}", **(headers or {})}
    )
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.headers["X-Request-ID"]
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers["X-Request-ID"]


def test_a_booking_and_the_task_it_caused_share_a_request_id(
    app, database, redis_server, smtp, start_celery, activity, tmp_path
) -> None:
    redis_server.flush()
    worker = start_celery(database, redis_server.url, smtp.port, extra_env={"EINSTEIN_LOG_FORMAT": "json"})
    env = {
        **server_env(database, tmp_path, SECRET_KEY),
        "REDIS_URL": redis_server.url,
        "EINSTEIN_LOG_FORMAT": "json",
        "GUNICORN_ACCESS_LOG": "-",
    }
    del env["EINSTEIN_CELERY__broker_url"]  # the broker is Redis, as in production
    (browser,) = signed_in_people(app, 1, "Logged")
    with Gunicorn(env, tmp_path, workers=2, threads=2) as server:
        status, request_id = _post(f"{server.url}/sessions/{activity['session_id']}/book", browser)
        assert status == 303, server.log()[-3000:]

        def task_lines() -> list[dict[str, Any]]:
            return [line for line in _json_lines(worker.log()) if request_id in str(line.get("request_id"))]

        wait_for(lambda: any("succeeded" in line["message"] for line in task_lines()), timeout=30, what="the task")
        access = [line for line in _json_lines(server.log()) if line.get("request_id") == request_id]

    # the web side: the access-log line of the booking
    (booking,) = access
    assert booking["path"] == f"/sessions/{activity['session_id']}/book"
    assert booking["status"] == 303 and booking["method"] == "POST" and booking["logger"] == "gunicorn.access"
    # the worker side: the task that sent its confirmation, on lines with the same id
    (done,) = [line for line in task_lines() if "succeeded" in line["message"]]
    assert "einstein.notifications.tasks.send_notifications" in done["message"]
    assert done["request_id"] == request_id
    wait_for(lambda: smtp.messages, timeout=10, what="the confirmation")
    assert smtp.messages[0]["To"].endswith("@example.org")


def test_a_proxys_request_id_reaches_the_task(
    app, database, redis_server, smtp, start_celery, activity, tmp_path
) -> None:
    redis_server.flush()
    worker = start_celery(database, redis_server.url, smtp.port, extra_env={"EINSTEIN_LOG_FORMAT": "text"})
    env = {**server_env(database, tmp_path, SECRET_KEY), "REDIS_URL": redis_server.url}
    del env["EINSTEIN_CELERY__broker_url"]
    (browser,) = signed_in_people(app, 1, "Proxied")
    with Gunicorn(env, tmp_path, workers=1, threads=2) as server:
        status, request_id = _post(
            f"{server.url}/sessions/{activity['session_id']}/book", browser, {"X-Request-ID": "edge-4f1c2a9e7b"}
        )
        assert status == 303 and request_id == "edge-4f1c2a9e7b", server.log()[-3000:]
        # wait while the web app runs: its publishing thread hands the task over (what happens to
        # ids still unpublished when a process stops is the sweep's part, not this test's)
        wait_for(
            lambda: any("[edge-4f1c2a9e7b]" in line and "succeeded" in line for line in worker.log().splitlines()),
            timeout=30,
            what="a plain-text task line with the proxy's id",
        )
