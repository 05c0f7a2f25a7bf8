"""Cached page fragments, and the version that makes the catalogue's fragments stale at once.

Listings are the most-read part of einstein and change only when an offer, a session or a
booking changes. Every commit that touches one of those gives the catalogue a new version; a
cached fragment's key holds the version, so the next request renders afresh. The cache is Redis
in production (shared by every web machine), files in instance/ on a laptop. If the cache is
unreachable, pages are simply rendered without it.

A cache that does not answer (a frozen Redis: the connection opens, nothing comes back) would
cost every request its socket timeout. So the first failure makes this process leave the cache
alone for ``CACHE_RETRY_AFTER`` seconds (a circuit breaker): one request waits, the others go
straight to the database. A catalogue change committed meanwhile is owed to the cache and is
written first when it answers again, so no page older than the change is served from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context, request
from itsdangerous import BadSignature
from markupsafe import Markup
from werkzeug.http import parse_cookie

from einstein.db import db
from einstein.extensions import cache
from einstein.i18n import visitor_language

log = logging.getLogger(__name__)

VERSION_KEY = "catalogue-version"
_CHANGED = "einstein.catalogue_changed"


#: The tables whose rows the catalogue shows (by name: this layer sits below the areas).
WATCHED_TABLES = frozenset(
    {"offers", "offer_sessions", "offer_translations", "session_languages", "locations", "bookings"}
)


T = TypeVar("T")

#: Seconds a process leaves the cache alone after it failed to answer, unless the app says.
RETRY_AFTER = 10.0


class CacheUnavailableError(Exception):
    """The cache did not answer, now or a moment ago (then this process does not ask it yet)."""


class _Breaker:
    """Whether this process may ask the cache now, and whether it owes it a new version."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.away_until = 0.0
        self.version_owed = False

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` on the cache; ``CacheUnavailableError`` when it fails or is away."""
        if time.monotonic() < self.away_until:
            raise CacheUnavailableError
        if self.version_owed:  # rare: only the lock's holder writes the change it owes, first
            with self.lock:
                owed, self.version_owed = self.version_owed, False
            if owed:
                self._run(lambda: cache.set(VERSION_KEY, secrets.token_hex(8), timeout=0), owed=True)
        return self._run(operation)

    def attempt(self, operation: Callable[[], object]) -> None:
        """Run ``operation`` on the cache if it answers; a page is right without it."""
        with contextlib.suppress(CacheUnavailableError):
            self.call(operation)

    def _run(self, operation: Callable[[], T], owed: bool = False) -> T:
        try:
            return operation()
        except Exception as error:
            retry = RETRY_AFTER
            if has_app_context():
                retry = float(current_app.config.get("CACHE_RETRY_AFTER", RETRY_AFTER))
            with self.lock:
                self.away_until = time.monotonic() + retry
                self.version_owed = self.version_owed or owed
            log.warning("the cache did not answer; leaving it alone for %.0f s", retry, exc_info=True)
            raise CacheUnavailableError from error

    def owe_version(self) -> None:
        with self.lock:
            self.version_owed = True

    def reset(self) -> None:
        """Forget earlier failures (tests that start a new cache)."""
        with self.lock:
            self.away_until, self.version_owed = 0.0, False


breaker = _Breaker()


def _version_or_new() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        cache.set(VERSION_KEY, version, timeout=0)
    return str(version)


def catalogue_version() -> str:
    """The catalogue's current version (a random token, new after every change).

    Raises ``CacheUnavailableError`` when the cache does not answer (at once while it is away).
    """
    return breaker.call(_version_or_new)


def catalogue_changed() -> None:
    """Make every cached catalogue fragment stale (now, or when the cache answers again)."""
    try:
        breaker.call(lambda: cache.set(VERSION_KEY, secrets.token_hex(8), timeout=0))
    except CacheUnavailableError:  # a cache that is away serves nothing stale; it is owed the change
        breaker.owe_version()


def _digest(parts: tuple[Any, ...]) -> str:
    """A key for ``parts`` that is the same in every process and on every machine (unlike hash())."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def kept(name: str, parts: tuple[Any, ...], compute: Callable[[], T], timeout: int = 60, versioned: bool = True) -> T:
    """A value from the cache, computed and stored when it is not there (or without the cache
    while it is away). Versioned values are stale at once when the catalogue changes."""
    try:
        key = f"{name}:{catalogue_version() if versioned else ''}:{_digest(parts)}"
        found = breaker.call(lambda: cache.get(key))
    except CacheUnavailableError:
        return compute()
    if found is None:
        found = compute()
        breaker.attempt(lambda: cache.set(key, found, timeout=timeout))
    return found  # type: ignore[no-any-return]


def fragment(
    name: str, parts: tuple[Any, ...], render: Callable[[], str], timeout: int = 60, versioned: bool = True
) -> Markup:
    """Return a rendered fragment from the cache, rendering and storing it when it is not there."""
    return Markup(kept(name, parts, render, timeout, versioned))  # noqa: S704 - our own rendered template


def _note(session: sa.orm.Session, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(getattr(obj, "__tablename__", None) in WATCHED_TABLES for obj in changed):
        session.info[_CHANGED] = True


def note_catalogue_change(session: sa.orm.Session) -> None:
    """Tell the cache that this transaction changes the catalogue, for a write the unit of work
    does not see (a Core statement); the version changes when it commits."""
    session.info[_CHANGED] = True


def _after_commit(session: sa.orm.Session) -> None:
    if session.info.pop(_CHANGED, False):
        catalogue_changed()


def _after_rollback(session: sa.orm.Session, *_: Any) -> None:
    session.info.pop(_CHANGED, None)


def init_app() -> None:
    """Watch commits for changes to the catalogue; a new app starts with the cache trusted."""
    breaker.reset()
    if not sa.event.contains(db.session, "after_commit", _after_commit):
        sa.event.listen(db.session, "after_flush", _note)
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_rollback", _after_rollback)


#: The WSGI environ key through which a marked view tells the middleware its page may be kept.
CACHEABLE = "einstein.page.cacheable"
#: Response headers never stored with a page: they belong to one request.
_NOT_STORED = frozenset({"set-cookie", "date", "server"})


class VisitorPages:
    """WSGI middleware that answers visitors' GET requests for marked pages from the cache.

    A visitor here is someone not signed in (no sign-in in the session cookie, no "remember me"
    cookie) with no message waiting (a flash). The pages marked with ``for_visitors`` hold
    nothing personal and no form token, so the answer depends only on the address, the language
    and the encodings the browser accepts, which make the key, and on the catalogue, whose
    version is stored with the page. The page, its headers (security headers included) and its
    compressed body are stored exactly as the app made them, so a hit skips the whole app: one
    round trip to the cache and no database at all. Pages also expire every minute, as their
    "today" and "tomorrow" move on. A response that sets a cookie is never stored.
    """

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app
        self.backend = app.extensions["cache"][cache]
        self.serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        self.session_cookie = app.config["SESSION_COOKIE_NAME"]
        self.remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        self.max_age = int(app.permanent_session_lifetime.total_seconds())

    def _visitor_language(self, environ: dict[str, Any]) -> str | None:
        """The page language of a visitor, or None if this request is not a visitor's."""
        chosen = None
        if "HTTP_COOKIE" in environ:
            cookies = parse_cookie(environ)
            if self.remember_cookie in cookies:
                return None
            value = cookies.get(self.session_cookie)
            if value:
                try:
                    data = self.serializer.loads(value, max_age=self.max_age)
                except BadSignature:
                    data = {}  # as Flask does: a bad cookie is an empty session
                if "_user_id" in data or data.get("_flashes"):
                    return None
                chosen = data.get("lang")
        return visitor_language(chosen, environ.get("HTTP_ACCEPT_LANGUAGE"))

    def _key(self, environ: dict[str, Any]) -> str | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        language = self._visitor_language(environ)
        if language is None:
            return None
        # the scheme and host too: a page made for http:// or another host name links there
        origin = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        where = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
        encodings = environ.get("HTTP_ACCEPT_ENCODING", "").replace(" ", "")
        return f"page:{language}:{int(time.time() // 60)}:{encodings}:{origin}{where}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        try:
            stored, version = breaker.call(lambda: self.backend.get_many(key, VERSION_KEY))
        except CacheUnavailableError:
            return self.wsgi_app(environ, start_response)
        if isinstance(stored, tuple) and len(stored) == 3 and version is not None and stored[0] == version:
            start_response("200 OK", [*stored[1], ("X-Einstein-Cache", "hit")])
            return [stored[2]]
        if version is None:  # the first page since the cache started: stamp it before rendering
            try:
                breaker.call(lambda: self.backend.add(VERSION_KEY, secrets.token_hex(8), timeout=0))
                version = breaker.call(lambda: self.backend.get(VERSION_KEY))
            except CacheUnavailableError:
                version = None
        return self._render_and_store(environ, start_response, key, version)

    def _render_and_store(
        self, environ: dict[str, Any], start_response: Callable[..., Any], key: str, version: str | None
    ) -> Any:
        """Let the app answer; keep the answer if a marked view made it for everyone."""
        answer: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None or not environ.get(CACHEABLE) or not status.startswith("200 "):
                return start_response(status, headers, exc_info)
            answer[:] = [status, headers]
            return lambda _data: None  # pragma: no cover - werkzeug never uses write()

        body = self.wsgi_app(environ, hold)
        if not answer:
            return body
        status, headers = answer
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if version is not None and not any(name.lower() == "set-cookie" for name, _ in headers):
            keep = [(name, value) for name, value in headers if name.lower() not in _NOT_STORED]
            breaker.attempt(lambda: self.backend.set(key, (version, keep, content), timeout=60))
        start_response(status, headers)
        return [content]


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose page is the same for every visitor: ``VisitorPages`` may store it."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        request.environ[CACHEABLE] = True
        return view(*args, **kwargs)

    return wrapped
