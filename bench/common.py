"""What the benchmarks share: a throwaway database, servers, and bulk data."""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from flask import Flask

from einstein import create_app
from einstein.db import db, utcnow
from tests.support.servers import PostgresServer, RedisServer

SECRET_KEY = "benchmark-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105


@contextmanager
def database(kind: str, folder: Path) -> Any:
    """Yield the URL of an empty database of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    server = PostgresServer()
    server.start()
    try:
        yield server.create_database("einstein_bench")
    finally:
        server.stop()


@contextmanager
def redis(folder: Path) -> Any:
    """Yield a fresh Redis server."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_app(url: str, folder: Path, **config: Any) -> Flask:
    """An einstein app on ``url``, migrated."""
    from flask_migrate import upgrade

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "MAIL_FILE_DIR": str(folder / "mail"), **config}
    )
    with app.app_context():
        upgrade()
    return app


def temp_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="einstein-bench-"))


def bulk_due_reminders(app: Flask, count: int) -> list[int]:
    """Insert ``count`` people, each booked on a session in three hours, with a reminder due now."""
    from einstein.models import (
        Booking,
        BookingStatus,
        Category,
        Location,
        Notification,
        NotificationKind,
        Offer,
        OfferKind,
        OfferSession,
        OfferStatus,
        User,
    )
    from tests.factories import password_hash

    now = utcnow()
    with app.app_context():
        location = Location(name="Buurthuis Lombok", address="Kanaalstraat 120", postcode="3531 CL", step_free=True)
        offer = Offer(
            kind=OfferKind.ACTIVITY,
            status=OfferStatus.PUBLISHED,
            title="Bike repair café",
            category=Category.SOCIAL,
            location=location,
            capacity=count,
            confirmed_count=count,
            contact="Samir, 06 1234 5678",
            reminder_offsets=["2h"],
        )
        session = OfferSession(
            offer=offer,
            starts_at=now + timedelta(hours=3),
            ends_at=now + timedelta(hours=5),
            location=location,
            capacity=count,
            confirmed_count=count,
        )
        db.session.add_all([location, offer, session])
        db.session.flush()
        hashed = password_hash()
        db.session.execute(
            sa.insert(User),
            [
                {
                    "name": f"Person {i}",
                    "email": f"bench{i}@example.org",
                    "password_hash": hashed,
                    "locale": ("nl", "en", "ar", "ti")[i % 4],
                    "email_verified_at": now,
                    "calendar_token": f"bench-{i:07d}-abcdefghijklmnop",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        user_ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
        db.session.execute(
            sa.insert(Booking),
            [
                {
                    "reference": f"{i:04d}-{i % 10000:04d}"[-9:],
                    "user_id": uid,
                    "offer_id": offer.id,
                    "session_id": session.id,
                    "status": BookingStatus.CONFIRMED,
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                }
                for i, uid in enumerate(user_ids)
            ],
        )
        bookings = db.session.execute(sa.select(Booking.id, Booking.user_id)).all()
        db.session.execute(
            sa.insert(Notification),
            [
                {
                    "kind": NotificationKind.REMINDER,
                    "user_id": uid,
                    "booking_id": bid,
                    "session_id": session.id,
                    "reminder_offset": "2h",
                    "due_at": now - timedelta(seconds=1),
                    "payload": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for bid, uid in bookings
            ],
        )
        db.session.commit()
        return list(db.session.scalars(sa.select(Notification.id)))
