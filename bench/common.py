"""What the benchmarks share: a throwaway database, servers, and bulk data."""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

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


#: The session cookie's name in production mode, which the benchmarks' servers run in: einstein
#: gives it the ``__Host-`` prefix (``einstein.config``), so a cookie named plain "session" is
#: no sign-in at all there.
SESSION_COOKIE = "__Host-session"


def production_env(url: str, redis_url: str, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of einstein in production mode, as gunicorn gets it in bench runs."""
    return {
        "EINSTEIN_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "EINSTEIN_INSTANCE_PATH": str(folder / "instance"),
        **extra,
    }


def temp_folder() -> Path:
    """A folder for one run's databases, logs and mail, removed when the benchmark exits."""
    folder = Path(tempfile.mkdtemp(prefix="einstein-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def bulk_due_reminders(app: Flask, count: int, channel: str = "email") -> list[int]:
    """Insert ``count`` people, each booked on a session in three hours, with a reminder due now.

    ``channel="sms"``: the people have only a proven phone number, and the reminders go as texts.
    """
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
    from seeding.large import reference_for
    from tests.factories import password_hash

    now = utcnow()
    with app.app_context():
        location = Location(
            name="Buurthuis Lombok",
            address="Kanaalstraat 120",
            postcode="3531 CL",
            step_free=True,
            approved_at=utcnow(),
        )
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
                    "email": None if channel == "sms" else f"bench{i}@example.org",
                    "phone": f"+3162{i:07d}" if channel == "sms" else None,
                    "phone_verified_at": now if channel == "sms" else None,
                    "password_hash": hashed,
                    "locale": ("nl", "en", "ar", "ti")[i % 4],
                    "email_verified_at": None if channel == "sms" else now,
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
                    "reference": reference_for(i),
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
                    "channel": channel,
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


# --- serving and loading ---------------------------------------------------------------------------


@dataclass
class Load:
    """What wrk measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(\w+)", value)
    if match is None:  # wrk prints "-nan" when no request completed
        return float("nan")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, connections: int, seconds: int, headers: dict[str, str] | None = None, threads: int = 2) -> Load:
    """Run wrk against ``url`` and read requests/s and the 50th and 99th latency percentiles."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: run `make bench-deps` (apt-get install wrk)")
    command = [binary, "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50_match = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99_match = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    p50 = _ms(p50_match.group(1)) if p50_match else float("nan")
    p99 = _ms(p99_match.group(1)) if p99_match else float("nan")
    errors = 0
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    ):
        match = re.search(pattern, output)
        if match:
            errors += sum(int(g) for g in match.groups())
    return Load(rps, p50, p99, errors)


def signed_cookie(app: Flask, email: str) -> str:
    """A session cookie for the person with ``email``, as signing in would make it."""
    from einstein.auth.sessions import start_login_session
    from einstein.models import User
    from tests.support.http import browser_for

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        # a long-lived sign-in: the benchmark must not outlive it
        token = start_login_session(user, remember=True)
        db.session.commit()
    return browser_for(app, token).cookie
