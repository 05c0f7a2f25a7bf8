"""Cached pages and fragments, each stale exactly when what it shows changes.

**What a cached thing depends on.** Every cached value (a fragment, a visitor's whole page) is
stored with the versions of the *scopes* it shows: ``offer:<id>`` for each offer whose
sessions, places or texts it shows (``depends_on``, declared by the view before it reads them),
``places`` if it depends on places anywhere, ``free`` if it depends on which courses and
sessions have a place free at all (the listing filtered on "free places"), and always
``catalogue``. A value that declares nothing depends on everything. A commit says what it
changed (``_note`` reads the unit of work; Core statements call ``note_places_changed`` or
``note_catalogue_change``): a booking, a cancellation or a promotion renews ``offer:<id>`` and
``places``, and ``free`` when it took the last place of a course or session, or may have freed
one in a full one; an edit of an offer, a session, a text or a place renews ``catalogue`` too.
So a booking on offer A leaves offer B's page and the listing pages that do not show A cached
(also the "free places" listing, unless A just filled up or came free), while A's page and the
pages that show A render afresh with the new count: no page is ever stale.

Versions are numbers from one counter in the cache (``INCR``). A value is stored only if none of
its scopes changed after the counter was read before it was computed, so a page made from data
read before a commit is never stored under the version after it.

**Nothing on the booking path waits for Redis.** The versions a commit renews, and the values
to store, go to one writer thread per process (a bounded queue: values beyond it are dropped,
changes are merged, never dropped). A commit waits for its change to be written for at most
``CACHE_WRITE_WAIT`` (50 ms), so the page it redirects to is fresh in every process, and not at
all while the cache is away or a write is slow. Until its changes are written this process
serves nothing that depends on them. The first call that fails (a frozen Redis: the connection
opens, nothing answers) marks the cache away for the whole process (``einstein.extensions.Outage``,
shared with the rate limits on the same Redis); from then on no request asks it, and a background
thread asks every ``CACHE_RETRY_AFTER`` seconds, writing the changes owed first. Pages are then
rendered from the database. Visitors' pages carry an ``ETag`` and are answered with 304 when
the browser (or a proxy in front) already has them.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature
from markupsafe import Markup
from werkzeug.http import parse_cookie, parse_etags

from einstein.db import db
from einstein.extensions import Outage, cache, outage_for
from einstein.i18n import visitor_language

log = logging.getLogger(__name__)

#: The counter every renewed version is taken from.
SEQ_KEY = "catalogue-seq"
#: Scopes: the whole catalogue (edits), places anywhere (bookings), which courses and sessions
#: have a place free (a booking of the last place, a place freed); ``offer_scope`` per offer.
CATALOGUE = "catalogue"
PLACES = "places"
FREE = "free"
_CHANGED = "einstein.catalogue_changed"

#: The tables whose rows the catalogue shows (by name: this layer sits below the areas).
WATCHED_TABLES = frozenset(
    {
        "offers",
        "offer_sessions",
        "offer_translations",
        "session_languages",
        "locations",
        "organisations",
        "bookings",
        "users",
    }
)
#: What of a person the pages kept for everyone show: an organiser's name (an offer's structured data).
SHOWN_OF_A_PERSON = frozenset({"name"})
#: Columns that only count places or attendance: a change to these alone is not an edit.
COUNTERS = frozenset(
    {"confirmed_count", "waitlist_count", "present_count", "absent_count", "excused_count", "updated_at"}
)
#: More scopes than this waiting to be written are written as one change of the catalogue.
MAX_PENDING_SCOPES = 500
#: Values waiting to be stored (a full queue drops the oldest: it is only a cache).
MAX_PENDING_STORES = 64
#: Entries whose scopes a process remembers, to check them in the same round trip.
MAX_KNOWN_ENTRIES = 4096
#: A writer thread with nothing to do for this long ends (a new one starts when needed).
WRITER_IDLE_SECONDS = 5.0

T = TypeVar("T")


def minute() -> int:
    """The minute a cached page or fragment belongs to: pages and fragments showing "today",
    "starts at" or free places held until an hour are made again when the minute turns, so at
    most a minute late and never past a session's start by a whole minute."""
    return int(time.time() // 60)


def offer_scope(offer_id: int) -> str:
    """The scope of one offer: its texts, sessions and places."""
    return f"offer:{offer_id}"


def _version_key(scope: str) -> str:
    return f"v:{scope}"


# --- what a value depends on ----------------------------------------------------------------------

_collecting: ContextVar[tuple[set[str], ...]] = ContextVar("einstein_cache_scopes", default=())


def depends_on(*scopes: str) -> None:
    """Say that what is being computed shows these scopes (call it before reading them)."""
    for collected in _collecting.get():
        collected.update(scopes)


@contextmanager
def _collect() -> Iterator[set[str]]:
    collected: set[str] = set()
    token = _collecting.set((*_collecting.get(), collected))
    try:
        yield collected
    finally:
        _collecting.reset(token)


def _dependencies(declared: Iterable[str]) -> frozenset[str]:
    """What a value depends on: what it declared and the catalogue, or everything if nothing."""
    declared = set(declared)
    return frozenset({CATALOGUE, *declared} if declared else {CATALOGUE, PLACES})


# --- the cache of one process -------------------------------------------------------------------


class CacheUnavailableError(Exception):
    """The cache is away (it failed to answer), or a write to it is slow: do not ask it now."""


class PageCache:
    """One process's use of one cache: reads that never wait on a cache known to be away, and
    one writer thread for the versions commits renew and the values to store."""

    def __init__(self, backend: Any, outage: Outage, write_wait: float, threaded: bool = True) -> None:
        self.backend = backend
        self.threaded = threaded
        self.outage = outage
        self.write_wait = write_wait
        self.cond = threading.Condition()
        self.bumps: set[str] = set()
        self.writing: frozenset[str] = frozenset()
        self.busy_since: float | None = None
        self.stores: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.thread: threading.Thread | None = None
        #: The scopes each entry this process has read was kept with (to ask for them together).
        self.scopes_of: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    # reads

    def usable(self) -> bool:
        """Whether to ask the cache now: not away, and no write hanging."""
        busy = self.busy_since
        return not self.outage.away() and (busy is None or time.monotonic() - busy <= max(self.write_wait, 0.05))

    def read(self, *keys: str) -> list[Any]:
        """The values of ``keys`` (None when absent); ``CacheUnavailableError`` when not usable."""
        if not self.usable():
            raise CacheUnavailableError
        if self.bumps and not self.threaded:  # owed since the cache was away: written first
            self._write_queued()
        with self.cond:  # read this process's own writes that are still on their way
            waiting = {key: self.stores[key][0] for key in keys if key in self.stores}
        try:
            values = list(self.backend.get_many(*keys)) if len(waiting) < len(keys) else [None] * len(keys)
        except Exception as error:
            self.outage.trip(self._probe)
            raise CacheUnavailableError from error
        return [waiting.get(key, value) for key, value in zip(keys, values, strict=True)]

    def _probe(self) -> None:
        self.backend.get(SEQ_KEY)

    def dirty(self, scopes: Iterable[str]) -> bool:
        """Whether a change to one of ``scopes`` made here is not yet in the cache."""
        with self.cond:
            return any(scope in self.bumps or scope in self.writing for scope in scopes)

    def versions(self, scopes: Iterable[str]) -> dict[str, int]:
        """The current version of each scope (0 for one never changed)."""
        names = sorted(scopes)
        values = self.read(*(_version_key(scope) for scope in names))
        return {scope: int(value or 0) for scope, value in zip(names, values, strict=True)}

    def valid(self, stored: object) -> bool:
        """Whether ``stored`` (the versions a value was kept with) is still current."""
        if not isinstance(stored, dict) or not stored or self.dirty(stored):
            return False
        return self.versions(stored) == stored

    def lookup(self, key: str, size: int) -> tuple[tuple[Any, ...] | None, int]:
        """The entry kept under ``key`` if it is still current (else None), and the counter as
        read before (for ``keep``). One round trip when this process has seen the entry before:
        the versions it was kept with are asked for together with it."""
        guess = self.scopes_of.get(key, ())
        found, seen, *current = self.read(key, SEQ_KEY, *(_version_key(scope) for scope in guess))
        if not (isinstance(found, tuple) and len(found) == size and isinstance(found[0], dict)):
            return None, int(seen or 0)
        versions: dict[str, int] = found[0]
        if tuple(sorted(versions)) == guess:
            fresh = not self.dirty(guess) and all(
                int(value or 0) == versions[scope] for scope, value in zip(guess, current, strict=True)
            )
        else:
            fresh = self.valid(versions)
            with self.cond:
                self.scopes_of[key] = tuple(sorted(versions))
                while len(self.scopes_of) > MAX_KNOWN_ENTRIES:
                    self.scopes_of.popitem(last=False)
        return (found if fresh else None), int(seen or 0)

    def keep(
        self, key: str, scopes: frozenset[str], seen: int, make: Callable[[dict[str, int]], Any], timeout: int
    ) -> None:
        """Store ``make(versions)`` unless a scope changed since the counter read ``seen``."""
        if self.dirty(scopes):
            return
        try:
            versions = self.versions(scopes)
        except CacheUnavailableError:
            return
        if max(versions.values(), default=0) <= seen:
            self._queue_store(key, make(versions), timeout)

    # writes

    def _queue_store(self, key: str, value: Any, timeout: int) -> None:
        with self.cond:
            self.stores[key] = (value, timeout)
            self.stores.move_to_end(key)
            while len(self.stores) > MAX_PENDING_STORES:
                self.stores.popitem(last=False)
            self._wake()

    def changed(self, scopes: set[str]) -> None:
        """Renew the versions of ``scopes``: queued, and waited for only briefly while the
        cache answers (then the next page, in any process, is fresh)."""
        if not scopes:
            return
        with self.cond:
            self.bumps |= scopes
            if len(self.bumps) > MAX_PENDING_SCOPES:
                self.bumps = {CATALOGUE}
            self._wake()
            if self.write_wait > 0 and self.usable():
                self.cond.wait_for(lambda: not (scopes & (self.bumps | self.writing)), timeout=self.write_wait)

    def _wake(self) -> None:
        if not self.threaded:
            self._write_queued()
            return
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._write, name="cache writer", daemon=True)
            self.thread.start()
        self.cond.notify_all()

    def _write(self) -> None:
        """The writer thread: write what is queued, until there is nothing to do for a while."""
        while True:
            with self.cond:
                if not self.cond.wait_for(lambda: self.bumps or self.stores, timeout=WRITER_IDLE_SECONDS):
                    self.thread = None
                    return
                if self.outage.away():  # owed: written once it answers again
                    self.stores.clear()
                    self.cond.wait(timeout=0.05)
                    continue
            self._write_queued()

    def _write_queued(self) -> None:
        """Write the versions and values queued (in the writer thread, or at once for a cache
        in this process: memory or files, which cannot hang)."""
        with self.cond:
            if self.outage.away() or not (self.bumps or self.stores):
                return
            scopes, self.bumps = self.bumps, set()
            self.writing = frozenset(scopes)
            stores = list(self.stores.items())
            self.busy_since = time.monotonic()
        try:
            if scopes:
                seq = int(self.backend.inc(SEQ_KEY) or 0)
                self.backend.set_many({_version_key(scope): seq for scope in scopes}, timeout=0)
            for key, (value, timeout) in stores:
                self.backend.set(key, value, timeout=timeout)
        except Exception:
            log.warning("the cache did not answer a write", exc_info=True)
            with self.cond:
                self.bumps |= scopes
            self.outage.trip(self._probe)
        finally:
            with self.cond:
                for key, held in stores:
                    if self.stores.get(key) is held:
                        del self.stores[key]
                self.writing = frozenset()
                self.busy_since = None
                self.cond.notify_all()

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is written (tests, and a process that stops)."""
        with self.cond:
            return self.cond.wait_for(
                lambda: not (self.bumps or self.writing or self.stores) or self.outage.away(), timeout=timeout
            )


_caches: weakref.WeakSet[PageCache] = weakref.WeakSet()

#: Caches kept in this process or on its disk: written at once, they cannot hang.
_LOCAL_CACHES = frozenset({"simplecache", "filesystemcache", "nullcache", "simple", "filesystem", "null"})


def _after_fork() -> None:
    """A forked worker (gunicorn's preload) starts with its own lock and no writer thread."""
    for each in list(_caches):
        each.cond = threading.Condition()
        each.thread, each.busy_since, each.writing = None, None, frozenset()


os.register_at_fork(after_in_child=_after_fork)


def _local(app: Flask) -> bool:
    kind = str(app.config.get("CACHE_TYPE", "")).rsplit(".", 1)[-1].lower()
    return kind in _LOCAL_CACHES


@atexit.register
def _settle_at_exit() -> None:
    """A command or worker that ends right after a commit still writes what it changed."""
    for each in list(_caches):
        each.settle(timeout=2.0)


def _cache_of(app: Flask) -> PageCache:
    found: PageCache | None = app.extensions.get("einstein.page_cache")
    if found is None:
        backend = app.extensions["cache"][cache]
        every = float(app.config.get("CACHE_RETRY_AFTER", 2.0))
        url = app.config.get("CACHE_REDIS_URL") if "redis" in str(app.config.get("CACHE_TYPE", "")).lower() else None
        outage = outage_for(str(url).split("?", 1)[0], every) if url else Outage("the cache", every)
        # a cache on another machine gets a writer thread; memory or files are written at once
        found = app.extensions["einstein.page_cache"] = PageCache(
            backend, outage, float(app.config.get("CACHE_WRITE_WAIT", 0.05)), threaded=not _local(app)
        )
        _caches.add(found)
    return found


def page_cache() -> PageCache:
    """The cache of the current app, in this process."""
    return _cache_of(current_app)


def catalogue_version() -> str:
    """The version of the whole catalogue (renewed by every edit, not by bookings).

    Raises ``CacheUnavailableError`` when the cache is away.
    """
    return str(page_cache().versions({CATALOGUE})[CATALOGUE])


def catalogue_changed(*scopes: str) -> None:
    """Make cached values that show ``scopes`` (default: everything) stale, now or when the
    cache answers again."""
    page_cache().changed(set(scopes) or {CATALOGUE, PLACES, FREE})


def kept_here(name: str, key: Any, make: Callable[[], T], bound: int) -> T:
    """A value kept in this process (in ``current_app.extensions[name]``), made once per ``key``:
    for small pieces of a page that follow from their key alone (a menu, a badge of places), so
    cheaper than a round trip to the shared cache. More than ``bound`` keys start again."""
    store: dict[Any, T] = current_app.extensions.setdefault(name, {})
    found = store.get(key)
    if found is None:
        if len(store) >= bound:
            store.clear()
        found = store[key] = make()
    return found


#: Stands for the person's form (CSRF) token in HTML kept for everyone (``kept_with_token``).
#: Random per process, so no page text can contain it.
_TOKEN_SLOT = f"csrf-{secrets.token_hex(16)}"


def kept_with_token(name: str, key: Any, make: Callable[[], str], bound: int) -> str:
    """``kept_here`` for HTML that may hold the person's form token (a POST button): kept with a
    slot where the token was, which is filled with this request's token each time it is served.
    ``make`` renders it as usual, with the token of the request that makes it."""

    def keep() -> str:
        html = make()
        token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        return html.replace(token, _TOKEN_SLOT) if token else html

    html = kept_here(name, key, keep, bound)
    # no token is made for HTML without a form: a visitor's page sets no cookie
    return html.replace(_TOKEN_SLOT, generate_csrf()) if _TOKEN_SLOT in html else html


def _digest(parts: tuple[Any, ...]) -> str:
    """A key for ``parts`` that is the same in every process and on every machine (unlike hash())."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def kept(
    name: str,
    parts: tuple[Any, ...],
    compute: Callable[[], T],
    timeout: int = 60,
    versioned: bool = True,
    scopes: frozenset[str] | None = None,
) -> T:
    """A value from the cache, computed and stored when it is not there (or without the cache
    while it is away). A versioned value is stale at once when something it shows changes: what
    ``compute`` declares with ``depends_on``, or, if it declares nothing, anything at all; or,
    given ``scopes``, exactly these (a value that shows an offer but not its places, which the
    caller reads fresh, depends on edits alone)."""
    store = page_cache()
    key = f"{name}:{_digest(parts)}"
    if not versioned:
        try:
            (found,) = store.read(key)
        except CacheUnavailableError:
            return compute()
        if found is None:
            found = compute()
            store._queue_store(key, found, timeout)
        return found  # type: ignore[no-any-return]
    try:
        found, seen = store.lookup(key, 2)
        if found is not None:
            depends_on(*found[0])  # the page around it shows the same
            return found[1]  # type: ignore[no-any-return]
    except CacheUnavailableError:
        with _collect() as declared:
            value = compute()
        depends_on(*(scopes or _dependencies(declared)))
        return value
    with _collect() as declared:
        value = compute()
    shown = scopes or _dependencies(declared)
    depends_on(*shown)
    store.keep(key, shown, int(seen or 0), lambda versions: (versions, value), timeout)
    return value


def fragment(
    name: str, parts: tuple[Any, ...], render: Callable[[], str], timeout: int = 60, versioned: bool = True
) -> Markup:
    """Return a rendered fragment from the cache, rendering and storing it when it is not there."""
    return Markup(kept(name, parts, render, timeout, versioned))  # noqa: S704 - our own rendered template


# --- what a commit changed ------------------------------------------------------------------------


def _scopes_of(obj: Any, deleted: bool = False) -> set[str]:
    """The scopes a changed row of a watched table renews."""
    table = getattr(obj, "__tablename__", None)
    if table == "users":  # most changes of a person (sign-ins, settings) show on no shared page
        if deleted:  # their offers lose their organiser in the database (ON DELETE SET NULL)
            return {CATALOGUE}
        state = sa.inspect(obj)
        shown = state.persistent and any(state.attrs[key].history.has_changes() for key in SHOWN_OF_A_PERSON)
        return {CATALOGUE} if shown else set()
    if table == "bookings":
        return {offer_scope(obj.offer_id), PLACES, FREE} if obj.offer_id is not None else {CATALOGUE, PLACES, FREE}
    offer_id = obj.id if table == "offers" else getattr(obj, "offer_id", None) if table == "offer_sessions" else None
    if offer_id is not None:
        state = sa.inspect(obj)
        if state.persistent and all(
            name in COUNTERS for name in (attr.key for attr in state.attrs if attr.history.has_changes())
        ):
            return {offer_scope(offer_id), PLACES, FREE}
        return {offer_scope(offer_id), CATALOGUE}
    return {CATALOGUE}


def _note(session: sa.orm.Session, _context: Any) -> None:
    scopes: set[str] = session.info.get(_CHANGED, set())
    for obj in (*session.new, *session.dirty):
        if getattr(obj, "__tablename__", None) in WATCHED_TABLES:
            scopes |= _scopes_of(obj)
    for obj in session.deleted:
        if getattr(obj, "__tablename__", None) in WATCHED_TABLES:
            scopes |= _scopes_of(obj, deleted=True)
    if scopes:
        session.info[_CHANGED] = scopes


def note_catalogue_change(session: sa.orm.Session) -> None:
    """Tell the cache that this transaction changes the catalogue, for a write the unit of work
    does not see (a Core statement); everything cached is stale when it commits."""
    session.info.setdefault(_CHANGED, set()).update({CATALOGUE, PLACES, FREE})


def note_places_changed(session: sa.orm.Session, offer_id: int, flipped: bool = True) -> None:
    """Tell the cache that this transaction changes the places of one offer (a Core statement);
    ``flipped``: a course or session of it may have filled up or come free (if in doubt, it may)."""
    session.info.setdefault(_CHANGED, set()).update({offer_scope(offer_id), PLACES, *([FREE] if flipped else [])})


def _after_commit(session: sa.orm.Session) -> None:
    scopes = session.info.pop(_CHANGED, None)
    if scopes:
        catalogue_changed(*scopes)


def _after_rollback(session: sa.orm.Session, *_: Any) -> None:
    session.info.pop(_CHANGED, None)


def init_app() -> None:
    """Watch commits for changes to what is cached."""
    if not sa.event.contains(db.session, "after_commit", _after_commit):
        sa.event.listen(db.session, "after_flush", _note)
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_rollback", _after_rollback)


#: The WSGI environ key through which a marked view tells the middleware its page may be kept.
CACHEABLE = "einstein.page.cacheable"
#: The WSGI environ key of the session cookie the middleware checked and decoded: (cookie, data).
DECODED_SESSION = "einstein.session.decoded"
#: Response headers never stored with a page: they belong to one request.
_NOT_STORED = frozenset({"set-cookie", "date", "server"})


#: How browsers and proxies may keep a visitor's page: store it, but ask (with its ETag) each time,
#: so a count of free places is never older than the last booking.
VISITOR_CACHE_CONTROL = "public, no-cache"
#: What a visitor's page varies on, for a browser's or a proxy's cache.
VISITOR_VARY = ("Cookie", "Accept-Language", "Accept-Encoding")


def _with_visitor_headers(headers: list[tuple[str, str]], etag: str) -> list[tuple[str, str]]:
    """``headers`` with the ETag, Cache-Control and Vary of a page every visitor may share."""
    vary: list[str] = []
    kept = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "vary":
            vary += [part.strip() for part in value.split(",") if part.strip()]
        elif lowered != "etag":
            kept.append((name, value))
    for name in VISITOR_VARY:
        if name.lower() not in {part.lower() for part in vary}:
            vary.append(name)
    if not any(name.lower() == "cache-control" for name, _ in kept):
        kept.append(("Cache-Control", VISITOR_CACHE_CONTROL))
    return [*kept, ("Vary", ", ".join(vary)), ("ETag", etag)]


def _not_modified(environ: dict[str, Any], etag: str) -> bool:
    asked = environ.get("HTTP_IF_NONE_MATCH")
    return bool(asked) and parse_etags(asked).contains_weak(etag.strip('"'))


def _answer_not_modified(start_response: Callable[..., Any], headers: list[tuple[str, str]], hit: bool) -> Any:
    names = {"etag", "cache-control", "vary", "content-location", "expires"}
    kept = [(name, value) for name, value in headers if name.lower() in names]
    start_response("304 Not Modified", [*kept, *([("X-Einstein-Cache", "hit")] if hit else [])])
    return [b""]


class VisitorPages:
    """WSGI middleware that answers visitors' GET requests for marked pages from the cache.

    A visitor here is someone not signed in (no sign-in in the session cookie, no "remember me"
    cookie) with no message waiting (a flash). The pages marked with ``for_visitors`` hold
    nothing personal and no form token, so the answer depends only on the address, the language
    and the encodings the browser accepts, which make the key, and on what the page shows, whose
    versions are stored with it (see the module's docstring). The page, its headers (security
    headers included) and its compressed body are stored exactly as the app made them, so a hit
    skips the whole app: one round trip to the cache (the page and the versions it was kept with,
    once this process has seen it) and no database at all. Pages also expire
    every minute, as their "today" and "tomorrow" move on. A response that sets a cookie is never
    stored. Each page carries an ETag (of its body) and ``Cache-Control: public, no-cache``: a
    browser or a proxy may keep it and asks again with ``If-None-Match``, answered with 304.
    """

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
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
                else:  # the app's sessions open it from here rather than check it again
                    environ[DECODED_SESSION] = (value, data)
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
        return f"page:{language}:{minute()}:{encodings}:{origin}{where}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        store = _cache_of(self.app)
        seen = 0
        try:
            stored, seen = store.lookup(key, 4)
            if stored is not None:
                _versions, headers, content, etag = stored
                if _not_modified(environ, etag):
                    return _answer_not_modified(start_response, headers, hit=True)
                start_response("200 OK", [*headers, ("X-Einstein-Cache", "hit")])
                return [content]
        except CacheUnavailableError:
            key = None  # rendered from the database, and not stored
        return self._render_and_store(environ, start_response, store, key, seen)

    def _render_and_store(
        self, environ: dict[str, Any], start_response: Callable[..., Any], store: PageCache, key: str | None, seen: int
    ) -> Any:
        """Let the app answer; keep the answer if a marked view made it for everyone."""
        answer: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None or not environ.get(CACHEABLE) or not status.startswith("200 "):
                return start_response(status, headers, exc_info)
            answer[:] = [status, headers]
            return lambda _data: None  # pragma: no cover - werkzeug never uses write()

        with _collect() as declared:
            body = self.wsgi_app(environ, hold)
        if not answer:
            return body
        status, headers = answer
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if any(name.lower() == "set-cookie" for name, _ in headers):
            start_response(status, headers)
            return [content]
        etag = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
        headers = _with_visitor_headers(headers, etag)
        if key is not None:
            keep = [(name, value) for name, value in headers if name.lower() not in _NOT_STORED]
            store.keep(key, _dependencies(declared), seen, lambda versions: (versions, keep, content, etag), 60)
        if _not_modified(environ, etag):
            return _answer_not_modified(start_response, headers, hit=False)
        start_response(status, headers)
        return [content]


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose page is the same for every visitor: ``VisitorPages`` may store it."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        request.environ[CACHEABLE] = True
        return view(*args, **kwargs)

    return wrapped
