"""Template helpers: cache-busted static URLs and the navigation each role sees."""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_login import current_user
from markupsafe import Markup

from einstein import navigation
from einstein.auth.models import Audience
from einstein.auth.phones import display_phone
from einstein.caching import CACHEABLE, kept_here
from einstein.db import utcnow
from einstein.urls import served_under
from einstein.views import field_shown, in_page_order


@cache
def _file_hash(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


#: Static files' URLs kept per process: a handful of files, under each path einstein is served under.
ASSETS_KEPT = 64


def asset_url(filename: str) -> str:
    """URL of a static file with its content hash, so browsers may cache it for a year.

    Outside debug mode the URL is worked out once per process and path einstein is served under
    (``urls.served_under``): files do not change while it runs.
    """
    if current_app.debug:
        return _asset_url(filename)
    return kept_here("einstein.asset_urls", (filename, served_under()), lambda: _asset_url(filename), ASSETS_KEPT)


def _asset_url(filename: str) -> str:
    static_folder = current_app.static_folder or "static"
    path = Path(static_folder) / filename
    try:
        version = _file_hash(str(path), path.stat().st_mtime)
    except FileNotFoundError:
        version = "missing"
    return url_for("static", filename=filename, v=version)


#: The sprite of icons (static/img/icons.svg), one ``<symbol>`` per name.
ICONS = "img/icons.svg"

#: Icons kept per process; the names come from the templates, never from what people type.
ICONS_KEPT = 256


def _icon_html(sprite: str, name: str) -> Markup:
    return Markup('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>').format(
        sprite, name
    )


def icon(name: str) -> Markup:
    """An icon of the sprite, hidden from screen readers: the words beside it say what it means."""
    return _icon_html(asset_url(ICONS), name)


def kept_icon(name: str) -> Markup:
    """``icon``, each name's HTML made once per process and path einstein is served under (outside
    debug mode, where the sprite may change while the app runs). A template global rather than a
    Jinja macro: a page shows dozens (seven on each card of "my bookings"), and a macro call cost
    6.6 µs."""
    return kept_here("einstein.icons", (name, served_under()), lambda: icon(name), ICONS_KEPT)


class Environment(FlaskEnvironment):
    """Flask's template environment, with each template's globals kept in a plain dictionary.

    Jinja layers a template's own globals over the environment's in a ``ChainMap``, which Python
    walks one key at a time: on every render (the context is flattened from it) and on every
    ``{% import %}`` and ``{% from %}`` (its keys are taken from the context's). With einstein's
    fifty-odd globals that was about 3 % of "my bookings", whose cards import their macros. Jinja
    asks that the environment's globals not change once a template is loaded, and einstein sets
    them all while the app is assembled: a copy made as a template loads says the same.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class Einstein(Flask):
    """The Flask app with einstein's template environment."""

    jinja_environment = Environment


def init_app(app: Flask) -> None:
    """Register template globals and long caching of versioned static files."""
    navigation.init_app(app)
    app.jinja_env.globals["asset_url"] = asset_url
    app.jinja_env.globals["icon"] = icon if app.debug else kept_icon
    app.jinja_env.globals["now"] = utcnow
    app.jinja_env.globals["audience_label"] = lambda audience: Audience(audience).label
    app.jinja_env.filters["phone"] = display_phone
    app.jinja_env.globals["field_shown"] = field_shown
    app.jinja_env.filters["in_page_order"] = in_page_order
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.after_request(_cache_headers)


def _cache_headers(response: Response) -> Response:
    """Let browsers keep versioned static files for a year (the URL changes when they do), and
    keep nothing a signed-in person saw: on a shared phone the next person must not find a list
    of names, a booking card or someone's bookings in the browser's cache or history."""
    if request.endpoint == "static":
        if response.status_code == 200:
            if request.args.get("v"):
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            else:
                response.headers["Cache-Control"] = "public, max-age=3600"
        return response
    if current_user.is_authenticated or (
        "Cache-Control" not in response.headers and not request.environ.get(CACHEABLE)
    ):
        response.headers["Cache-Control"] = "no-store"
    return response
