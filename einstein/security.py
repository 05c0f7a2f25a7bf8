"""Security headers, cookie flags and where Flask-Login sends people to sign in."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from einstein.extensions import login_manager, talisman

#: No inline script or style anywhere: every script and stylesheet is a file we serve.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def init_app(app: Flask) -> None:
    """Set security headers and cookie flags, and how Flask-Login sends people to sign in."""
    production = app.config["ENV"] == "production"
    talisman.init_app(
        app,
        # TLS ends at the proxy in front of gunicorn; the proxy redirects http to https.
        force_https=False,
        strict_transport_security=production,
        session_cookie_secure=production,
        session_cookie_http_only=True,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
        permissions_policy={"geolocation": "()", "microphone": "()", "camera": "(self)"},
    )
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    # Our sessions are server-side records (einstein.auth.sessions): a stolen cookie dies with sign-out.
    login_manager.session_protection = "basic"
