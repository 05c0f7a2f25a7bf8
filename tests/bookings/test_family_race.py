"""Many families rush a small session at once, each parent booking several children in one request:
never more places than there are, the counters equal to the rows, and each family's children
booked in the order the parent chose. Proven with gunicorn (several workers), every parent in a
process of their own, on SQLite and on PostgreSQL.

A control run with the lock switched off (a test-only setting) must oversell, which shows that
this test can see a race at all.
"""

from __future__ import annotations

import multiprocessing
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.auth.models import AgeGroup
from einstein.bookings import household
from einstein.db import db
from einstein.models import Booking, BookingStatus, OfferSession, User
from tests import factories
from tests.support.http import Browser, NoRedirect, signed_in_people

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAMILIES = 40
CHILDREN = 3
PLACES = 5


def _families(app) -> tuple[list[Browser], list[list[int]]]:
    """``FAMILIES`` signed-in parents, each with ``CHILDREN`` children; return the browsers and the
    children's ids per family, in the order each parent will tick them (the youngest last)."""
    browsers = signed_in_people(app, FAMILIES, "Parent")
    with app.app_context():
        parents = list(db.session.scalars(sa.select(User).where(User.name.like("Parent %")).order_by(User.id)))
        children = [
            [
                household.add_member(
                    parent, name=f"{parent.name} child {n}", age_group=AgeGroup.CHILD, locale="ar", recorded_by=parent
                ).id
                for n in range(CHILDREN)
            ]
            for parent in parents
        ]
        db.session.commit()
    return browsers, children


def _session(app, capacity: int = PLACES) -> int:
    with app.app_context():
        return factories.SessionFactory(offer__capacity=capacity).id


def _outcome(app, session_id: int) -> tuple[list[Booking], OfferSession]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).where(Booking.session_id == session_id).order_by(Booking.id)))
        session = db.session.get_one(OfferSession, session_id)
        db.session.expunge_all()
        return rows, session


def _post(job: tuple[str, str, Browser, list[tuple[str, str]], Any]) -> int:
    """One parent's tap on "Book for the people ticked" (a form with the same name several times)."""
    base, path, browser, fields, barrier = job
    opener = urllib.request.build_opener(NoRedirect)
    body = urllib.parse.urlencode([*fields, ("csrf_token", browser.csrf)]).encode()
    request = urllib.request.Request(base + path, data=body, headers={"Cookie": f"session={browser.cookie}"})  # noqa: S310
    barrier.wait(timeout=60)
    try:
        with opener.open(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _rush(base: str, session_id: int, browsers: list[Browser], children: list[list[int]]) -> list[int]:
    """Every parent books all their children at the same moment, each from a process of their own."""
    path = f"/sessions/{session_id}/book"
    jobs = [
        [("household", "1"), *(("who", str(child)) for child in ids)]
        for ids in children  # the order ticked: child 0, 1, 2
    ]
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(len(jobs))
        with context.Pool(processes=len(jobs)) as pool:
            work = [(base, path, browser, fields, barrier) for browser, fields in zip(browsers, jobs, strict=True)]
            return pool.map(_post, work, chunksize=1)


def test_a_rush_of_families_gets_exactly_the_places(app, serve) -> None:
    session_id = _session(app)
    browsers, children = _families(app)
    server = serve()
    answers = _rush(server.url, session_id, browsers, children)
    assert answers == [303] * FAMILIES, server.log()[-2000:]
    rows, session = _outcome(app, session_id)
    wanted = FAMILIES * CHILDREN
    confirmed = [b for b in rows if b.status == BookingStatus.CONFIRMED]
    waiting = [b for b in rows if b.status == BookingStatus.WAITLISTED]
    # 0 overbooked, and the counters are the rows
    assert len(confirmed) == PLACES == session.confirmed_count
    assert len(waiting) == wanted - PLACES == session.waitlist_count
    assert len(rows) == wanted and len({b.user_id for b in rows}) == wanted
    assert sorted(b.waitlist_position for b in waiting) == list(range(1, wanted - PLACES + 1))
    # each family's children in the order ticked: a child never gets a place a sibling ticked
    # before them went without, and waits behind them
    by_person = {b.user_id: b for b in rows}
    for ids in children:
        mine = [by_person[child] for child in ids]
        statuses = [b.status for b in mine]
        assert statuses == sorted(statuses, key=lambda s: s != BookingStatus.CONFIRMED), statuses
        positions = [b.waitlist_position for b in mine if b.waitlist_position is not None]
        assert positions == sorted(positions)
    # every booking was made by the child's own parent
    with app.app_context():
        holder = dict(
            db.session.execute(sa.select(User.id, User.household_of_id).where(User.household_of_id.is_not(None))).all()
        )
    assert all(b.booked_by_id == holder[b.user_id] for b in rows)


def test_without_the_lock_the_same_rush_of_families_oversells(app, serve) -> None:
    """The control run: proves the test above would see a race if there were one."""
    session_id = _session(app)
    browsers, children = _families(app)
    server = serve(locks=False)
    answers = _rush(server.url, session_id, browsers, children)
    assert all(status in {303, 409} for status in answers)
    rows, _session_row = _outcome(app, session_id)
    confirmed = [b for b in rows if b.status == BookingStatus.CONFIRMED]
    assert len(confirmed) > PLACES, "without the lock the race should oversell; if not, the test cannot see races"
