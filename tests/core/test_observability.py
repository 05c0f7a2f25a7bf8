"""What an operator sees: a request id on every answer and log line, the metrics, the health checks
and the error reports, and that none of them gives away a person."""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import secrets
import threading
import urllib.request
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from prometheus_client.parser import text_string_to_metric_families

from einstein import observability
from tests.conftest import SECRET_KEY
from tests.support.booking import book
from tests.support.http import Gunicorn, server_env
from tests.support.servers import wait_for

TOKEN = "metrics-token-for-the-tests-0123456789"


# --- request ids ---------------------------------------------------------------------------------


def test_every_answer_carries_a_fresh_request_id(client) -> None:
    first = client.get("/healthz/live").headers["X-Request-ID"]
    second = client.get("/privacy").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def test_a_proxys_request_id_is_kept(client) -> None:
    response = client.get("/healthz/live", headers={"X-Request-ID": "nginx-7f3a9c0b1d2e4f56"})
    assert response.headers["X-Request-ID"] == "nginx-7f3a9c0b1d2e4f56"
    assert response.headers.getlist("X-Request-ID") == ["nginx-7f3a9c0b1d2e4f56"]


@pytest.mark.parametrize(
    "given",
    [
        "a" * 65,  # too long
        "two words",
        'x"}, "level": "CRITICAL',  # would forge a JSON field
        "<script>alert(1)</script>",
        "id\x1b[31mred",
        "-starts-with-a-dash",
        "ünïcode",
    ],
)
def test_a_request_id_that_is_not_well_formed_is_replaced(client, given: str) -> None:
    response = client.get("/healthz/live", headers={"X-Request-ID": given})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_a_cached_visitors_page_has_a_request_id_too(app) -> None:
    client = app.test_client()
    client.get("/", headers={"Accept-Language": "en"})
    again = client.get("/", headers={"Accept-Language": "en"})  # answered before Flask runs
    assert again.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", again.headers["X-Request-ID"])


def test_json_lines_carry_the_request_id_and_text_lines_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.RequestIdFilter())
    logger = logging.getLogger("einstein.test_observability")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        handler.setFormatter(observability.formatter("json"))
        with observability.caused_by(["req-1"]):
            logger.warning("message %d could not be sent", 7)
        logger.warning("outside any request")
        handler.setFormatter(observability.formatter("text"))
        with observability.caused_by(["req-2", "req-3", "req-2"]):
            logger.warning("two requests in one batch")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second, third = stream.getvalue().splitlines()
    record = json.loads(first)
    assert record["request_id"] == "req-1" and record["message"] == "message 7 could not be sent"
    assert record["level"] == "WARNING" and record["logger"] == "einstein.test_observability" and record["time"]
    assert json.loads(second)["request_id"] == "-"
    assert "[req-2,req-3]" in third and third.endswith("two requests in one batch")


def test_the_log_format_is_text_on_a_laptop_and_json_in_production() -> None:
    assert observability.log_format("development") == "text"
    assert observability.log_format("testing") == "text"
    assert observability.log_format("production") == "json"
    assert observability.log_format("production", "TEXT") == "text"
    assert observability.log_format("development", "json") == "json"
    assert observability.log_format("development", "yaml") == "text"


# --- health ----------------------------------------------------------------------------------------


def test_liveness_touches_nothing_readiness_checks_the_database(make_app, tmp_path) -> None:
    broken = make_app(f"sqlite:///{tmp_path}/no/such/folder/einstein.sqlite", METRICS_TOKEN=TOKEN)
    client = broken.test_client()
    # the metrics still answer, and say what is down
    values = _scrape(client)
    assert _value(values, "einstein_database_up") == 0 and _value(values, "einstein_broker_up") == 1
    live = client.get("/healthz/live")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    ready = client.get("/healthz/ready")
    assert ready.status_code == 503 and ready.json["database"] == "down"
    assert client.get("/healthz").status_code == 503  # the old address says the same


def test_readiness_when_all_is_up(client) -> None:
    # the tests' broker is Celery's in-memory one: always there
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200 and ready.json == {"status": "ok", "database": "up", "broker": "up"}


# --- metrics ---------------------------------------------------------------------------------------


def _scrape(client, token: str | None = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def _value(values: dict, name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_move_when_someone_books(app, client, participant, activity) -> None:
    before = _scrape(client)
    client.sign_in(participant)
    assert book(client, activity).status_code == 303
    after = _scrape(app.test_client())

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    route = {"endpoint": "bookings.book_session", "method": "POST"}
    assert moved("einstein_http_requests_total", **route, status="303") == 1
    assert moved("einstein_http_request_duration_seconds_count", **route) == 1
    assert moved("einstein_bookings", status="confirmed") == 1
    assert moved("einstein_outbox_messages", state="pending", channel="email") >= 1  # the confirmation
    assert _value(after, "einstein_broker_up") == 1 and _value(after, "einstein_database_up") == 1
    assert ("einstein_broker_queue_length", (("queue", "mail"),)) in after
    # a scrape is counted under its route's name, never under a raw path with ids
    assert moved("einstein_http_requests_total", endpoint="core.metrics", method="GET", status="200") == 1
    assert not any("/sessions/" in str(labels) for _, labels in after)


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", TOKEN]
)
def test_metrics_need_the_token(client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"einstein_" not in response.data


def test_without_a_token_setting_there_are_no_metrics(client) -> None:
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics").status_code == 404


def test_the_oldest_due_message_is_measured(app, participant) -> None:
    from datetime import timedelta

    from einstein.db import db, utcnow
    from einstein.models import Notification, NotificationStatus

    app.config["METRICS_TOKEN"] = TOKEN
    with app.app_context():
        for hours in (3, -48):  # one waiting three hours, one planned for the day after tomorrow
            db.session.add(
                Notification(
                    kind="booking_confirmed",
                    user_id=participant.id,
                    status=NotificationStatus.PENDING,
                    due_at=utcnow() - timedelta(hours=hours),
                )
            )
        db.session.commit()
    age = _value(_scrape(app.test_client()), "einstein_outbox_oldest_pending_seconds")
    assert 3 * 3600 <= age < 3 * 3600 + 120


def test_metrics_are_summed_over_gunicorns_workers(database, tmp_path) -> None:
    env = {**server_env(database, tmp_path, SECRET_KEY), "EINSTEIN_METRICS_TOKEN": TOKEN}
    with Gunicorn(env, tmp_path, workers=3, threads=2) as server:
        for _ in range(12):
            with urllib.request.urlopen(server.url + "/healthz/live", timeout=10) as response:  # noqa: S310
                assert response.status == 200
        request = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            text = response.read().decode()
    counted = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "einstein_http_requests_total" and sample.labels.get("endpoint") == "core.live"
    }
    assert counted == {"200": 12}, text[:3000]


# --- error reports ---------------------------------------------------------------------------------


class Ingest:
    """A stand-in for Sentry's ingest endpoint on 127.0.0.1: it keeps every envelope it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                outer.envelopes.append([json.loads(line) for line in body.splitlines() if line.strip()])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/42"

    def events(self) -> list[dict[str, Any]]:
        return [item for envelope in self.envelopes for item in envelope if "exception" in item]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingest() -> Iterator[Ingest]:
    server = Ingest()
    yield server
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.init()  # no DSN: nothing is sent by the tests that follow
    server.close()


def test_an_error_reaches_sentry_with_the_request_id_and_nobody_in_it(make_app, database, participant, ingest) -> None:
    app = make_app(database, SENTRY_DSN=ingest.dsn, PROPAGATE_EXCEPTIONS=False)

    address = participant.email

    @app.get("/boom/cancel/<token>")
    def boom(token: str) -> str:
        raise RuntimeError(f"could not remind {address}")  # a message that names someone

    client = app.test_client()
    client.sign_in(participant)
    in_path, in_query = secrets.token_urlsafe(16), secrets.token_hex(8)  # made here: not in any source line
    response = client.get(
        f"/boom/cancel/{in_path}?email={address}&token={in_query}",
        headers={"X-Request-ID": "req-sentry-1", "Authorization": "Bearer abc"},
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    wait_for(lambda: ingest.events(), timeout=10, what="the error at the ingest endpoint")
    (event,) = ingest.events()
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    sent = json.dumps(ingest.envelopes)
    for personal in (address, participant.name, in_path, in_query):
        assert personal not in sent, personal
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.value not in sent  # the sign-in cookie
    assert "Bearer abc" not in sent
    assert "user" not in event
    assert event["request"].get("query_string") is None and "cookies" not in event["request"]
    assert event["request"]["url"].endswith("/boom/cancel/[token]")
