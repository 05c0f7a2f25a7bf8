"""What operators see: request ids on every log line (plain or JSON), error reports, request metrics.

A request id is taken from a well-formed ``X-Request-ID`` header (a proxy's) or made here, sent
back in the response, written on every log line of the request (the access log reads it from the
response header), and carried in the headers of every Celery message published on the request's
behalf, so that the task's log lines carry it too. A task that no request caused (beat's) gets an
id of its own, which the tasks it queues inherit.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sentry_sdk
from celery import signals
from flask import Flask, request
from prometheus_client import Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.flask import FlaskIntegration

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: The header a proxy may send and every answer carries.
HEADER = "X-Request-ID"
#: The Celery message header that carries it into a task.
TASK_HEADER = "einstein_request_id"
#: Where the WSGI environ keeps it, and the endpoint Flask matched (for the metrics' labels).
ENVIRON_KEY = "einstein.request_id"
ENDPOINT_KEY = "einstein.endpoint"
#: Short and safe: nothing that could forge a log line or a header. A proxy's uuid or hex fits.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
#: The paths that carry a token, and the token after them.
_TOKEN_IN_PATH = re.compile(r"(/(?:reset|verify|cancel|calendar|unsubscribe)/)[^/?#\s\"]+")
#: Several requests' messages can travel in one Celery message (the publisher batches them).
_MAX_IDS = 50

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("einstein_request_id", default=None)

#: Requests by route (the endpoint's name, never the raw path, which holds ids and tokens).
REQUESTS = Counter(
    "einstein_http_requests_total",
    "HTTP requests answered, by endpoint, method and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "einstein_http_request_duration_seconds",
    "Time to produce an answer, by endpoint",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
#: Label of answers given before Flask matched a route: a visitor's cached page, or no route at all.
CACHED_OR_UNMATCHED = "(none)"


def mask(value: str) -> str:
    """Replace the token in any link that carries one (reset, confirmation, cancel, calendar links)."""
    return _TOKEN_IN_PATH.sub(r"\1[token]", value)


def new_request_id() -> str:
    """Return a fresh request id."""
    return uuid.uuid4().hex


def well_formed(value: str | None) -> bool:
    """Whether a request id from outside is short and made of safe characters."""
    return bool(value) and _WELL_FORMED.fullmatch(value or "") is not None


def request_id() -> str | None:
    """The request id of what this thread is doing, if any."""
    return _request_id.get()


@contextmanager
def caused_by(ids: Iterable[str | None]) -> Iterator[None]:
    """Publish the tasks queued inside this block on behalf of these requests (a batch may have several)."""
    distinct = list(dict.fromkeys(i for i in ids if i))[:_MAX_IDS]
    token = _request_id.set(",".join(distinct) or None)
    try:
        yield
    finally:
        _request_id.reset(token)


# --- the web side -------------------------------------------------------------------------------


class RequestIds:
    """WSGI middleware, outermost: a request id for every answer, and the request metrics.

    Outermost, so that a visitor's page answered from the cache before Flask runs has both too.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        given = environ.get("HTTP_X_REQUEST_ID")
        rid = str(given) if well_formed(given) else new_request_id()
        environ[ENVIRON_KEY] = rid
        token = _request_id.set(rid)
        method = environ.get("REQUEST_METHOD", "GET")
        method = method if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} else "other"
        status = ["500"]

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = status_line.split(" ", 1)[0]
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            headers.append((HEADER, rid))
            return start_response(status_line, headers, exc_info)

        started = time.perf_counter()
        try:
            body = self.app(environ, start)
        finally:
            # the answer is made (Flask's are whole by now): the thread's next lines are not this request's
            _request_id.reset(token)
        endpoint = environ.get(ENDPOINT_KEY) or CACHED_OR_UNMATCHED
        LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, method, status[0]).inc()
        return body


def _note_endpoint() -> None:
    # a before_request hook: the metrics label requests by the route's name
    request.environ[ENDPOINT_KEY] = request.endpoint or CACHED_OR_UNMATCHED


# --- logs ---------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Put the request id (and, in a worker, the task) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


#: The fields of a JSON line, besides those a record is given with ``extra=``.
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def log_format(mode: str, chosen: object = None) -> str:
    """``json`` or ``text``: as chosen (``EINSTEIN_LOG_FORMAT``), else JSON in production only."""
    value = str(chosen or "").strip().lower()
    if value in {"json", "text"}:
        return value
    return "json" if mode == "production" else "text"


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, request id and any extra fields."""
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def formatter(kind: str) -> logging.Formatter:
    """The formatter of log lines in this format."""
    return json_formatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(kind: str, level: int = logging.INFO) -> None:
    """Send every log record to standard error, one line each, with its request id.

    Replaces the handler an earlier call installed (an app made twice in one process), and leaves
    other handlers alone.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_einstein", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._einstein = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(level)


# --- Celery: the request id travels in the message ------------------------------------------------


def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    rid = _request_id.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


def _task_started(task: Any = None, **_: Any) -> None:
    given = None
    if task is not None:
        given = getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(TASK_HEADER)
    ids = [part for part in str(given or "").split(",") if well_formed(part)][:_MAX_IDS]
    _request_id.set(",".join(ids) or new_request_id())


def _task_finished(**_: Any) -> None:
    _request_id.set(None)


def connect_celery_signals() -> None:
    """Stamp published messages with the request id, and set it while their task runs."""
    signals.before_task_publish.connect(_stamp, weak=False, dispatch_uid="einstein.observability.stamp")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="einstein.observability.prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="einstein.observability.postrun")


# --- error reports --------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")
#: Request headers that may go to Sentry; every other one (cookies, authorization, ...) is dropped.
_SAFE_HEADERS = {"accept", "accept-language", "content-type", "content-length", "host", "user-agent", HEADER.lower()}


def _scrub_text(value: str) -> str:
    return _EMAIL.sub("[email]", mask(value))


def scrub(event: dict[str, Any], hint: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Strip what could name a person from an error report, and add the request id.

    No user (only a number would be safe, and even that is not needed), no cookies, form data or
    query strings (they carry tokens and addresses), tokens in paths masked, e-mail addresses
    replaced in messages, no local variables (sentry is told not to send them).
    """
    event.pop("user", None)
    event.pop("server_name", None)
    req = event.get("request")
    if isinstance(req, dict):
        for key in ("cookies", "data", "query_string", "env"):
            req.pop(key, None)
        if isinstance(req.get("url"), str):
            req["url"] = mask(req["url"].split("?", 1)[0])
        headers = req.get("headers")
        if isinstance(headers, dict):
            req["headers"] = {k: v for k, v in headers.items() if k.lower() in _SAFE_HEADERS}
    message = event.get("logentry") or {}
    if isinstance(message, dict):
        for key in ("message", "formatted"):
            if isinstance(message.get(key), str):
                message[key] = _scrub_text(message[key])
        message.pop("params", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = _scrub_text(exception["value"])
    crumbs = event.get("breadcrumbs")
    for crumb in (crumbs.get("values") if isinstance(crumbs, dict) else crumbs) or []:
        crumb.pop("data", None)
        if isinstance(crumb.get("message"), str):
            crumb["message"] = _scrub_text(crumb["message"])
    extra = event.get("extra")
    if isinstance(extra, dict):
        extra.pop("sys.argv", None)
    rid = _request_id.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return event


def init_sentry(dsn: str, environment: str, release: str) -> None:
    """Report errors of the web app and the worker to Sentry, without personal data."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[FlaskIntegration(), CeleryIntegration()],
        # send_default_pii is left unset: unset is its False (this sentry-sdk warns when it is given,
        # in favour of data_collection, which would also switch off the SDK's own scrubber)
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,  # type: ignore[arg-type]
        traces_sample_rate=None,
    )


# --- metrics access -------------------------------------------------------------------------------


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization: Bearer ...`` header names the token (compared in constant time)."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def multiprocess_dir() -> str | None:
    """The folder gunicorn's workers share their request metrics in (``PROMETHEUS_MULTIPROC_DIR``)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- assembly -------------------------------------------------------------------------------------


def init_app(app: Flask, version: str) -> Callable[[WSGIApplication], WSGIApplication]:
    """Logs, error reports and the Celery signals for this app; returns the middleware to wrap it in."""
    init_process(app.config, version)  # before app.logger is first used: Flask then adds no handler of its own
    connect_celery_signals()
    app.before_request(_note_endpoint)
    return RequestIds


def init_process(config: MutableMapping[str, Any], version: str) -> None:
    """Logs and error reports of a process with this configuration (the app's, or Celery beat's,
    which has no app); notes the log format chosen in ``config``."""
    kind = config["LOG_FORMAT"] = log_format(config["ENV"], config.get("LOG_FORMAT"))
    if not config.get("TESTING"):
        configure_logging(kind)
    if config.get("SENTRY_DSN"):
        init_sentry(str(config["SENTRY_DSN"]), config["ENV"], version)
