"""The app, assembled: configuration, extensions, each area's messages and routes, in one place.

This is the one module that knows every area; nothing imports it but ``create_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from einstein import (
    __version__,
    caching,
    cli,
    errors,
    i18n,
    models,  # noqa: F401  (every table, for Alembic)
    navigation,
    observability,
    policy,
    security,
    templating,
)
from einstein.api import openapi
from einstein.api.views import api_bp
from einstein.api.views import bp as opendata_bp
from einstein.attendance import charts, summary
from einstein.attendance.views import bp as attendance_bp
from einstein.auth import messages as account_messages
from einstein.auth import sessions
from einstein.auth.views import bp as auth_bp
from einstein.bookings import messages as booking_messages
from einstein.bookings import replies
from einstein.bookings.views import bp as bookings_bp
from einstein.bounds import IdConverter
from einstein.config import ROOT, configured_app
from einstein.core.views import bp as core_bp
from einstein.courses import messages as course_messages
from einstein.courses.views import bp as courses_bp
from einstein.courses.views import review_count
from einstein.db import configure_engine
from einstein.extensions import babel, cache, celery_init_app, compress, csrf, db, limiter, login_manager, migrate
from einstein.notifications import publisher, registry
from einstein.notifications.channels import register_channel
from einstein.notifications.sms import SmsChannel
from einstein.notifications.views import bp as gateway_bp
from einstein.privacy.views import bp as privacy_bp
from einstein.staff.views import bp as staff_bp


def assemble(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: embedded defaults, then EINSTEIN_* variables, then ``config``."""
    app = configured_app(
        config,
        templating.Einstein,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # first: the request id and logging are in place before anything else runs or logs
    request_ids = observability.init_app(app, __version__)

    register_extensions(app)
    register_messages()
    register_blueprints(app)
    errors.init_app(app)
    cli.init_app(app)
    # a visitor's cached page is answered before the app runs at all
    app.wsgi_app = caching.VisitorPages(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("PROXY_FIX"):
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # outermost: every answer, a cached page too, has a request id and is counted
    app.wsgi_app = request_ids(app.wsgi_app)  # type: ignore[method-assign,assignment]
    return app


def register_extensions(app: Flask) -> None:
    """Bind every extension to the app."""
    db.init_app(app)
    with app.app_context():
        configure_engine(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    sessions.init_app(app)
    cache.init_app(app)
    compress.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    charts.init_app(app)  # the dashboard's SVG charts, numbers in the reader's digits
    summary.init_app(app)  # the dashboard's summary rows: what changed is noted as it changes
    policy.init_app(app)
    celery_init_app(app)
    publisher.init_app()
    caching.init_app()


def register_messages() -> None:
    """Each area tells the notification layer which messages it sends, how they are written, and
    what it does with texts people send back; the SMS channel joins e-mail."""
    register_channel(SmsChannel())
    account_messages.register()
    booking_messages.register()
    course_messages.register()
    registry.register_reply_handler("bookings", replies.handle)


def register_blueprints(app: Flask) -> None:
    """Attach each area's routes; every ``<int:...>`` in them is an id in the range a table holds."""
    app.url_map.converters["int"] = IdConverter
    navigation.register_badge("courses.review", review_count)  # what waits, on the coordinators' menu
    for blueprint in (core_bp, auth_bp, courses_bp, bookings_bp, attendance_bp, privacy_bp, staff_bp, gateway_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(opendata_bp)  # the feeds, the widget, the page that explains the API
    openapi.init_app(app)  # the programme API and its description at /api/v1/openapi.json
    openapi.register(app, api_bp)
