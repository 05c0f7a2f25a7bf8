"""seed-large: quick, and every counter agrees with the rows, as the booking service keeps them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.bookings import integrity
from einstein.db import db
from einstein.models import Booking, BookingStatus, Offer, OfferKind, OfferSession, User


@pytest.mark.postgres
def test_seed_large_is_consistent(app) -> None:
    result = app.test_cli_runner().invoke(args=["seed-large", "--sessions", "600", "--bookings", "6000"])
    assert result.exit_code == 0, result.output
    assert "600 sessions" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OfferSession)) == 600
        bookings = db.session.scalar(sa.select(sa.func.count()).select_from(Booking))
        assert 3000 < bookings <= 6000
        # every place counter says what its bookings say (the database keeps each within its places)
        assert integrity.counter_drift() == []
        for session in db.session.scalars(sa.select(OfferSession).join(Offer).where(Offer.kind == OfferKind.ACTIVITY)):
            marks = dict(
                db.session.execute(
                    sa.select(Attendance.status, sa.func.count())
                    .where(Attendance.session_id == session.id)
                    .group_by(Attendance.status)
                ).all()
            )
            assert (session.present_count, session.absent_count, session.excused_count) == (
                marks.get(AttendanceStatus.PRESENT, 0),
                marks.get(AttendanceStatus.ABSENT, 0),
                marks.get(AttendanceStatus.EXCUSED, 0),
            )
        # waiting lists are numbered 1, 2, 3 ... per session
        positions = db.session.execute(
            sa.select(Booking.session_id, Booking.offer_id, Booking.waitlist_position).where(
                Booking.status == BookingStatus.WAITLISTED
            )
        ).all()
        by_unit: dict[tuple, list[int]] = {}
        for session_id, offer_id, position in positions:
            by_unit.setdefault((session_id, offer_id), []).append(position)
        assert all(sorted(p) == list(range(1, len(p) + 1)) for p in by_unit.values())
        # the audience of a booking is the person's
        mismatched = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Booking)
            .join(User, User.id == Booking.user_id)
            .where(Booking.audience != User.audience)
        )
        assert mismatched == 0
    # and the pages still work on it
    client = app.test_client()
    assert client.get("/").status_code == 200


def test_seed_large_refuses_silly_numbers_and_production(app) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-large", "--sessions", "0"]).exit_code != 0
    assert runner.invoke(args=["seed-large", "--sessions", "abc"]).exit_code != 0
    app.config["ENV"] = "production"
    assert "not in production" in runner.invoke(args=["seed-large", "--sessions", "10", "--bookings", "10"]).output
