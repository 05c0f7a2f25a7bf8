"""Two people can never get the last place: proven with gunicorn, several workers, and many
clients in separate processes, on SQLite and on PostgreSQL.

A control run with the lock switched off (a test-only setting) must oversell, which shows
that these tests can see a race at all.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import Booking, BookingStatus, OfferSession, User
from tests import factories
from tests.support.http import Browser, fire, signed_in_people

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SIGNUPS = 120
PLACES = 5


def _people(app, count: int) -> list[Browser]:
    """Make ``count`` participants and a signed-in browser for each."""
    return signed_in_people(app, count, "Racer")


def _session(app, capacity: int = PLACES) -> int:
    with app.app_context():
        return factories.SessionFactory(offer__capacity=capacity).id


def _outcome(app, session_id: int) -> tuple[list[Booking], OfferSession]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).where(Booking.session_id == session_id).order_by(Booking.id)))
        session = db.session.get(OfferSession, session_id)
        db.session.expunge_all()
        return rows, session


def test_a_rush_of_sign_ups_gets_exactly_the_places(app, serve) -> None:
    session_id = _session(app)
    browsers = _people(app, SIGNUPS)
    server = serve()
    answers = fire(server.url, [(f"/sessions/{session_id}/book", b, {"waitlist": "1"}) for b in browsers])
    assert [status for status, _ in answers] == [303] * SIGNUPS, server.log()[-2000:]
    rows, session = _outcome(app, session_id)
    confirmed = [b for b in rows if b.status == BookingStatus.CONFIRMED]
    waiting = [b for b in rows if b.status == BookingStatus.WAITLISTED]
    assert len(confirmed) == PLACES == session.confirmed_count
    assert len(waiting) == SIGNUPS - PLACES == session.waitlist_count
    # a consistent order: every place on the list once, 1, 2, 3, ... in the order people came in
    assert sorted(b.waitlist_position for b in waiting) == list(range(1, SIGNUPS - PLACES + 1))
    assert [b.waitlist_position for b in sorted(waiting, key=lambda b: b.created_at)] == list(
        range(1, SIGNUPS - PLACES + 1)
    )
    assert len({b.user_id for b in rows}) == SIGNUPS


def test_cancellations_racing_promotions_never_skip_the_list(app, serve) -> None:
    session_id = _session(app)
    first, _waiting, newcomers = _people(app, PLACES), _people(app, 10), _people(app, 20)
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        users = list(db.session.scalars(sa.select(User).order_by(User.id)))[-(PLACES + 10 + 20) :]
        for user in users[: PLACES + 10]:
            bookings.book(user, bookings.Target(session.offer, session))
        db.session.commit()
        references = [
            b.reference
            for b in db.session.scalars(
                sa.select(Booking).where(Booking.status == BookingStatus.CONFIRMED).order_by(Booking.id)
            )
        ]
        waiting_ids = [
            b.user_id
            for b in db.session.scalars(
                sa.select(Booking).where(Booking.status == BookingStatus.WAITLISTED).order_by(Booking.waitlist_position)
            )
        ]
    server = serve()
    requests = [(f"/bookings/{ref}/cancel", browser, {}) for ref, browser in zip(references, first, strict=True)]
    requests += [(f"/sessions/{session_id}/book", browser, {"waitlist": "1"}) for browser in newcomers]
    answers = fire(server.url, requests)
    assert [status for status, _ in answers] == [303] * len(requests), server.log()[-2000:]
    rows, session = _outcome(app, session_id)
    confirmed = [b for b in rows if b.status == BookingStatus.CONFIRMED]
    still_waiting = sorted((b for b in rows if b.status == BookingStatus.WAITLISTED), key=lambda b: b.waitlist_position)
    assert len(confirmed) == PLACES == session.confirmed_count
    # the five who waited longest got the five places: nobody was skipped
    assert sorted(b.user_id for b in confirmed) == sorted(waiting_ids[:PLACES])
    # everyone else waits, those already waiting ahead of the newcomers
    assert [b.user_id for b in still_waiting][:5] == waiting_ids[PLACES:]
    assert len(still_waiting) == 5 + 20 == session.waitlist_count


def test_without_the_lock_the_same_rush_oversells(app, serve) -> None:
    """The control run: proves the tests above would see a race if there were one."""
    session_id = _session(app)
    browsers = _people(app, SIGNUPS)
    server = serve(locks=False)
    answers = fire(server.url, [(f"/sessions/{session_id}/book", b, {"waitlist": "1"}) for b in browsers])
    assert all(status in {303, 409} for status, _ in answers)
    rows, _session_row = _outcome(app, session_id)
    confirmed = [b for b in rows if b.status == BookingStatus.CONFIRMED]
    assert len(confirmed) > PLACES, "without the lock the race should oversell; if not, the test cannot see races"
