"""Extension objects, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from einstein.db import db

migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()
compress = Compress()
cache = Cache()

__all__ = [
    "babel",
    "cache",
    "celery_init_app",
    "compress",
    "csrf",
    "db",
    "limiter",
    "login_manager",
    "migrate",
    "talisman",
]


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks each run inside a Flask app context."""

    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app: Celery = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {
        "sweep-outbox": {
            "task": "einstein.notifications.tasks.sweep",
            "schedule": float(app.config["SWEEP_SECONDS"]),
            "options": {"expires": float(app.config["SWEEP_SECONDS"])},
        },
        "release-unanswered": {
            "task": "einstein.bookings.tasks.release_unanswered",
            "schedule": float(app.config["SWEEP_SECONDS"]),
            "options": {"expires": float(app.config["SWEEP_SECONDS"])},
        },
        "open-held-places": {
            "task": "einstein.bookings.tasks.open_held_places",
            "schedule": float(app.config["SWEEP_SECONDS"]),
            "options": {"expires": float(app.config["SWEEP_SECONDS"])},
        },
        "check-counters": {
            "task": "einstein.bookings.tasks.check_counters",
            "schedule": crontab(hour=3, minute=17),
        },
        "apply-retention": {
            "task": "einstein.privacy.tasks.apply_retention",
            "schedule": crontab(hour=3, minute=47),
        },
    }
    celery_app.conf.include = ["einstein.notifications.tasks", "einstein.bookings.tasks", "einstein.privacy.tasks"]
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
