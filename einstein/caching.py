"""Cached page fragments, and the version that makes the catalogue's fragments stale at once.

Listings are the most-read part of einstein and change only when an offer, a session or a
booking changes. Every commit that touches one of those gives the catalogue a new version; a
cached fragment's key holds the version, so the next request renders afresh. The cache is Redis
in production (shared by every web machine), files in instance/ on a laptop. If the cache is
unreachable, pages are simply rendered without it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from einstein.extensions import cache

log = logging.getLogger(__name__)

VERSION_KEY = "catalogue-version"
_CHANGED = "einstein.catalogue_changed"


def _watched() -> tuple[type, ...]:
    from einstein.bookings.models import Booking
    from einstein.courses.models import Location, Offer, OfferSession, OfferTranslation, SessionLanguage

    return (Offer, OfferSession, OfferTranslation, SessionLanguage, Location, Booking)


def catalogue_version() -> str:
    """The catalogue's current version (a random token, new after every change)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        cache.set(VERSION_KEY, version, timeout=0)
    return str(version)


def catalogue_changed() -> None:
    """Make every cached catalogue fragment stale."""
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=0)
    except Exception:  # a cache that is down cannot hold stale fragments either
        log.warning("could not reach the cache to mark the catalogue changed", exc_info=True)


def _digest(parts: tuple[Any, ...]) -> str:
    """A key for ``parts`` that is the same in every process and on every machine (unlike hash())."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def fragment(
    name: str, parts: tuple[Any, ...], render: Callable[[], str], timeout: int = 60, versioned: bool = True
) -> Markup:
    """Return a rendered fragment from the cache, rendering and storing it when it is not there."""
    try:
        key = f"{name}:{catalogue_version() if versioned else ''}:{_digest(parts)}"
        html = cache.get(key)
    except Exception:
        log.warning("the cache is unreachable; rendering without it", exc_info=True)
        return Markup(render())  # noqa: S704 - our own rendered template, already escaped
    if html is None:
        html = render()
        try:
            cache.set(key, html, timeout=timeout)
        except Exception:
            log.warning("could not store a fragment in the cache", exc_info=True)
    return Markup(html)  # noqa: S704 - our own rendered template, already escaped


def _note(session: sa.orm.Session, _context: Any) -> None:
    watched = _watched()
    if any(isinstance(obj, watched) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


def _after_commit(session: sa.orm.Session) -> None:
    if session.info.pop(_CHANGED, False):
        catalogue_changed()


def _after_rollback(session: sa.orm.Session, *_: Any) -> None:
    session.info.pop(_CHANGED, None)


def init_app() -> None:
    """Watch commits for changes to the catalogue."""
    from einstein.db import db

    if not sa.event.contains(db.session, "after_commit", _after_commit):
        sa.event.listen(db.session, "after_flush", _note)
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_rollback", _after_rollback)


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a page from the cache to visitors who are not signed in.

    Such pages hold nothing personal and no form token; they depend on the language, the URL
    and the catalogue, which are all in the key. A visitor with a message waiting (a flash) gets a
    freshly rendered page.
    """
    from functools import wraps

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from flask import make_response, request, session
        from flask_login import current_user

        from einstein.i18n import current_language

        if request.method != "GET" or session.get("_flashes") or current_user.is_authenticated:
            return view(*args, **kwargs)
        # One round trip: the page (stored with the version it was made for) and the current version.
        key = f"page:{current_language().code}:{int(time.time() // 60)}:{request.full_path}"
        try:
            stored, version = cache.get_many(key, VERSION_KEY)
        except Exception:
            log.warning("the cache is unreachable; rendering without it", exc_info=True)
            return view(*args, **kwargs)
        if version is None:
            version = catalogue_version()
        if stored is not None and stored[0] == version:
            response = make_response(stored[1])
            response.headers["X-Einstein-Cache"] = "hit"
            return response
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            try:
                cache.set(key, (version, response.get_data(as_text=True)), timeout=60)
            except Exception:
                log.warning("could not store a page in the cache", exc_info=True)
        return response

    return wrapped
