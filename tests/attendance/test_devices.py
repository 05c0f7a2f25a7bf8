"""Two devices taking attendance for one session at the same moment, through gunicorn."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.auth.sessions import start_login_session
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import OfferSession, User
from tests import factories
from tests.support.http import browser_for, fire

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_devices_at_once_keep_every_tap(app, serve, volunteer, coordinator, make_user) -> None:
    people = [make_user() for _ in range(30)]
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=30, offer__organiser=db.session.get(User, volunteer.id))
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(session.offer, session)) for p in people]
        session.starts_at = utcnow() - timedelta(minutes=5)
        devices = [
            browser_for(app, start_login_session(db.session.get(User, who.id))) for who in (volunteer, coordinator)
        ]
        db.session.commit()
        session_id, booking_ids = session.id, [b.id for b in booked]
    server = serve()
    url = f"/sessions/{session_id}/attendance/"
    taps = [(url + str(b), devices[0], {"status": "present"}) for b in booking_ids[:20]]
    taps += [(url + str(b), devices[1], {"status": "absent"}) for b in booking_ids[10:]]
    answers = fire(server.url, taps)
    assert [status for status, _ in answers] == [303] * len(taps), server.log()[-2000:]
    with app.app_context():
        marks = dict(
            db.session.execute(
                sa.select(Attendance.booking_id, Attendance.status).where(Attendance.session_id == session_id)
            ).all()
        )
        session = db.session.get(OfferSession, session_id)
        assert len(marks) == 30  # nobody lost
        assert all(marks[b] == AttendanceStatus.PRESENT for b in booking_ids[:10])
        assert all(marks[b] == AttendanceStatus.ABSENT for b in booking_ids[20:])
        # where both devices tapped the same person, one of the two taps stands, and the counters agree
        present = sum(1 for status in marks.values() if status == AttendanceStatus.PRESENT)
        absent = sum(1 for status in marks.values() if status == AttendanceStatus.ABSENT)
        assert (session.present_count, session.absent_count, session.excused_count) == (present, absent, 0)
