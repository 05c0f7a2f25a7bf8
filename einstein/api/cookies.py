"""Open data sets no cookie: not the API, not the feeds, not the widget on a partner's page.

A followed ``?lang=`` is kept in the visit's session on every other page
(``i18n.remember_link_language``), and Flask-Login notes in it whether a sign-in is fresh; here
the language is for this answer only and the session is never written. Deciding where the
session is saved (rather than undoing what each before- and after-request function put in it)
also covers what is added to those later.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from einstein.caching import DECODED_SESSION

#: The routes whose answers never set a cookie: the API and its description, the feeds, the widget.
QUIET_BLUEPRINTS = frozenset({"programme", "api-docs"})
QUIET_ENDPOINTS = frozenset({"opendata.embed_programme", "opendata.location_feed", "opendata.category_feed"})


def _quiet() -> bool:
    return request.blueprint in QUIET_BLUEPRINTS or request.endpoint in QUIET_ENDPOINTS


class QuietSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, never saved on an answer of open data; a cookie the visitors'
    page cache (``caching.VisitorPages``) checked and decoded already is not checked again."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        decoded = request.environ.get(DECODED_SESSION)
        if decoded is not None and decoded[0] == request.cookies.get(self.get_cookie_name(app)):
            return self.session_class(decoded[1])
        return super().open_session(app, request)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if _quiet():
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        if _quiet():
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Use the quiet sessions (the app's are Flask's own signed cookies, which these extend)."""
    if type(app.session_interface) is not SecureCookieSessionInterface:
        raise RuntimeError("open data expects Flask's own cookie sessions")  # a new session store: decide anew
    app.session_interface = QuietSessionInterface()
