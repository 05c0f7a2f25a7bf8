"""Backups that are tried: the README's backup and restore, run for real on PostgreSQL.

``scripts/backup.sh`` dumps a database with bookings, waiting lists, attendance, the outbox and
sign-in sessions in it; ``scripts/restore.sh`` restores the dump into an empty database; every
row of every table comes back, and einstein works on the restored database (new bookings too,
which needs the sequences restored).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

from einstein.bookings import integrity, services
from einstein.bookings.targets import target_for
from einstein.db import db
from einstein.models import Booking, LoginSession, Notification, OfferSession
from tests.factories import OfferFactory, SessionFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _fingerprints(url: str) -> dict[str, tuple[int, str | None]]:
    """Each table's row count and a digest of all its rows, in a fixed order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.scalars(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            ).all()
            found = {}
            for table in tables:
                found[table] = tuple(
                    conn.execute(
                        sa.text(f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t")
                    ).one()
                )
            return found
    finally:
        engine.dispose()


def _script(name: str, url: str, *args: str) -> str:
    result = subprocess.run(
        [str(ROOT / "scripts" / name), *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_backup_restores_into_an_empty_database_with_every_booking(
    postgres_server: Any, make_app: Any, tmp_path: Path
) -> None:
    source_url = postgres_server.create_database("backup_source")
    app = make_app(source_url)
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["seed-large", "--sessions", "200", "--bookings", "2000"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        # a booking made as the app makes it: its messages wait in the outbox
        person = UserFactory(email="backup@example.org")
        session = SessionFactory(offer=OfferFactory(capacity=5), capacity=5)
        booking = services.book(person, target_for(session.offer, session))
        db.session.commit()
        reference, session_id = booking.reference, session.id
        app.test_client().sign_in(person)  # a sign-in session row
        bookings = set(db.session.execute(sa.select(Booking.reference, Booking.status, Booking.user_id)).all())
        assert len(bookings) > 1000
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 1

    dump = tmp_path / "einstein.dump"
    assert "backed up" in _script("backup.sh", source_url, str(dump))
    assert dump.stat().st_size > 0

    restored_url = postgres_server.create_database("backup_restored")
    assert "restored" in _script("restore.sh", restored_url, str(dump))

    before, after = _fingerprints(source_url), _fingerprints(restored_url)
    assert {"bookings", "notifications", "login_sessions", "attendance", "alembic_version"} <= set(after)
    assert after == before

    restored = make_app(restored_url)
    with restored.app_context():
        assert set(db.session.execute(sa.select(Booking.reference, Booking.status, Booking.user_id)).all()) == bookings
        assert integrity.counter_drift() == []
        # the sequences came back too: a new person and a new booking get fresh ids
        newcomer = UserFactory(email="after-restore@example.org")
        same_session = db.session.get(OfferSession, session_id)
        assert same_session is not None
        again = services.book(newcomer, target_for(same_session.offer, same_session))
        db.session.commit()
        assert again.reference != reference
    # and people's pages work on it
    assert restored.test_client().get("/").status_code == 200
