"""Health checks of the parts einstein needs."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from einstein.db import db

log = logging.getLogger(__name__)


def database_is_up() -> bool:
    """Return whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.warning("health check: database is down", exc_info=True)
        db.session.rollback()
        return False
    return True


def broker_is_up() -> bool:
    """Return whether the Celery broker accepts a connection within about a second."""
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
            if conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
    except Exception:
        log.warning("health check: broker is down", exc_info=True)
        return False
    return True
