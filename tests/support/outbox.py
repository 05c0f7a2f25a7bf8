"""Send what the outbox holds, through the app's real mail path, as a worker would."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from einstein.db import db, utcnow
from einstein.models import NotificationKind
from einstein.notifications import delivery
from einstein.notifications.models import Notification, NotificationStatus


def deliver(app: Flask) -> delivery.DeliveryReport:
    """Send every due, pending e-mail now."""
    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(Notification.id).where(
                    Notification.status == NotificationStatus.PENDING, Notification.due_at <= utcnow()
                )
            )
        )
        return delivery.deliver(ids)


def queued(app: Flask, kind: NotificationKind | None = None, **filters: Any) -> list[Notification]:
    """Outbox rows, optionally of one kind and matching column filters."""
    with app.app_context():
        query = sa.select(Notification).order_by(Notification.id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        for name, value in filters.items():
            query = query.where(getattr(Notification, name) == value)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def ids_in_mail_queue(redis_url: str) -> list[list[int]]:
    """The outbox ids of each message waiting in the broker's mail queue (Celery's message format)."""
    import base64
    import json

    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        messages = []
        for raw in reversed(client.lrange("mail", 0, -1)):  # LPUSH: the oldest is last
            args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
            messages.append(list(args[0]))
        return messages
    finally:
        client.close()
