"""Make reminders that are due now, the way the app plans them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import Notification, NotificationKind, NotificationStatus, User
from tests import factories


def due_reminders(app: Flask, count: int, *, by_sms: bool = False, first: int = 0) -> list[int]:
    """Book ``count`` people on a session in three hours (reminder two hours before), then let two
    hours pass for the reminders: return their outbox ids. Booking messages are left out.

    ``by_sms``: the people have only a (proven) phone number, so the reminders go as texts;
    ``first`` numbers the people of a second call apart from the first's.
    """
    with app.app_context():
        hashed = factories.password_hash()
        users = [
            User(
                name=f"Person {i}",
                email=None if by_sms else f"reminded{i}@example.org",
                phone=f"+3162{i:07d}" if by_sms else None,
                phone_verified_at=utcnow() if by_sms else None,
                password_hash=hashed,
                email_verified_at=None if by_sms else utcnow(),
                calendar_token=f"reminded-{i:06d}-abcdefghijklmnop",
                locale="nl",
            )
            for i in range(first, first + count)
        ]
        db.session.add_all(users)
        session = factories.SessionFactory(
            starts_at=(utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0),
            offer__capacity=count,
            offer__reminder_offsets=["2h"],
        )
        for user in users:
            bookings.book(user, bookings.Target(session.offer, session))
        db.session.commit()
        mine = Notification.user_id.in_([user.id for user in users])
        db.session.execute(
            sa.update(Notification)
            .where(mine, Notification.kind != NotificationKind.REMINDER)
            .values(status=NotificationStatus.CANCELLED)
        )
        db.session.execute(
            sa.update(Notification)
            .where(mine, Notification.kind == NotificationKind.REMINDER)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        ids = list(
            db.session.scalars(sa.select(Notification.id).where(mine, Notification.kind == NotificationKind.REMINDER))
        )
    # nothing was published for the reminders (they were not due): they wait for the sweep
    return ids


def statuses(app: Flask) -> dict[NotificationStatus, int]:
    """How many outbox rows there are in each state."""
    with app.app_context():
        return dict(
            db.session.execute(sa.select(Notification.status, sa.func.count()).group_by(Notification.status)).all()
        )
