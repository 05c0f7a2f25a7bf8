"""einstein: book courses and activities where newcomers and neighbours learn together."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from einstein.config import check_config, default_config

__version__ = "0.1.0"

#: The repository root: templates/, static/ and migrations/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the einstein app: embedded defaults, then EINSTEIN_* variables, then ``config``."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("EINSTEIN_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance_path = Path(app.instance_path)
    app.config.update(default_config(instance_path))
    app.config.from_prefixed_env("EINSTEIN")
    if config:
        app.config.update(config)
    check_config(app.config)
    _prepare_instance(app)

    register_extensions(app)
    register_blueprints(app)
    from einstein import caching, cli, errors

    errors.init_app(app)
    cli.init_app(app)
    # a visitor's cached page is answered before the app runs at all
    app.wsgi_app = caching.VisitorPages(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("PROXY_FIX"):
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _prepare_instance(app: Flask) -> None:
    """Create the folders the embedded defaults write to."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["MAIL_BACKEND"] == "file":
        Path(app.config["MAIL_FILE_DIR"]).mkdir(parents=True, exist_ok=True)
    options = app.config["CELERY"].get("broker_transport_options", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    """Bind every extension to the app."""
    from einstein import i18n, security, templating
    from einstein.db import configure_engine
    from einstein.extensions import babel, cache, celery_init_app, compress, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(app)
    import einstein.models  # noqa: F401  (every table, for Alembic)

    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    cache.init_app(app)
    compress.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    celery_init_app(app)
    from einstein import caching
    from einstein.notifications import services as outbox

    outbox.init_app()
    caching.init_app()


def register_blueprints(app: Flask) -> None:
    """Attach each area's routes; every ``<int:...>`` in them is an id in the range a table holds."""
    from einstein.attendance.views import bp as attendance_bp
    from einstein.auth.views import bp as auth_bp
    from einstein.bookings.views import bp as bookings_bp
    from einstein.bounds import IdConverter
    from einstein.core.views import bp as core_bp
    from einstein.courses.views import bp as courses_bp
    from einstein.notifications.views import bp as notifications_bp

    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(attendance_bp)
