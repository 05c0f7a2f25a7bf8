"""The newcomer / neighbour mix can never be read per person, whatever a coordinator asks for.

Each test is an attack a coordinator could make on the dashboard: compare two periods, watch
before and after a booking, look at a tiny session, or see whether a changed answer shows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from einstein.attendance import reports
from einstein.auth.models import Audience
from einstein.bookings import services as bookings
from einstein.db import db
from einstein.extensions import cache
from einstein.i18n import TIMEZONE, local_today
from einstein.models import Booking, OfferSession, User
from einstein.privacy import services as privacy
from tests import factories
from tests.support.html import main


def _last_month_day(day: int) -> date:
    """A day of the month before this one (always over, whatever today is)."""
    first_of_this_month = local_today().replace(day=1)
    return (first_of_this_month - timedelta(days=1)).replace(day=day)


def _session_with(app, people, day: date, title: str = "Samen koken") -> int:
    """A session on ``day`` (10:00-12:00 Utrecht time) that ``people`` booked beforehand."""
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=40, offer__title=title)
        for person in people:
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        starts = datetime.combine(day, time(10), tzinfo=TIMEZONE)
        session.starts_at, session.ends_at = starts, starts + timedelta(hours=2)
        db.session.commit()
        return session.id


def _people(make_user, newcomers: int, neighbours: int, unsaid: int) -> list:
    mix = [Audience.NEWCOMER] * newcomers + [Audience.NEIGHBOUR] * neighbours + [Audience.UNSAID] * unsaid
    return [make_user(name=f"Person {i}", audience=audience) for i, audience in enumerate(mix)]


def _mix_section(client, **args) -> str:
    page = main(client.get("/dashboard", query_string=args, headers={"Accept-Language": "en"}).get_data(as_text=True))
    return page.split('id="mix-heading"')[1].split("</section>")[0]


def _forget_cached_figures(app) -> None:
    """The dashboard's figures are cached for a minute: look again as if that minute had passed."""
    with app.app_context():
        cache.clear()


@pytest.mark.postgres
def test_two_periods_that_differ_by_one_session_tell_nothing(app, client, coordinator, make_user) -> None:
    # 6 newcomers, 6 neighbours and 5 who did not say cook together on the 3rd of last month;
    # on the 10th, one person comes alone to a CV workshop, and ticked "new in the Netherlands".
    _session_with(app, _people(make_user, 6, 6, 5), _last_month_day(3))
    _session_with(app, _people(make_user, 1, 0, 0), _last_month_day(10), title="CV workshop")
    client.sign_in(coordinator)
    start = _last_month_day(1).isoformat()
    without = _mix_section(client, start=start, end=_last_month_day(9).isoformat())
    with_one = _mix_section(client, start=start, end=_last_month_day(10).isoformat())
    # the attack: subtract the first answer from the second to get the lone person's answer
    assert without == with_one


@pytest.mark.postgres
def test_watching_before_and_after_someone_books_tells_nothing(app, client, coordinator, make_user) -> None:
    session_id = _session_with(app, _people(make_user, 6, 6, 6), local_today() + timedelta(days=2))
    client.sign_in(coordinator)
    before = _mix_section(client)
    newcomer = make_user(name="Newly booked", audience=Audience.NEWCOMER)
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        bookings.book(db.session.get(User, newcomer.id), bookings.Target(session.offer, session))
        db.session.commit()
    _forget_cached_figures(app)
    assert _mix_section(client) == before


def test_a_session_with_one_booker_shows_no_mix(app, client, coordinator, make_user) -> None:
    _session_with(app, _people(make_user, 1, 0, 0), _last_month_day(5), title="Alone")
    client.sign_in(coordinator)
    section = _mix_section(client, start=_last_month_day(5).isoformat(), end=_last_month_day(5).isoformat())
    assert "Too few places to show" in section
    cells = re.findall(r"<td[^>]*>(.*?)</td>", section, re.S)
    assert cells and not any(re.search(r"\d", cell) for cell in cells)  # no count of the mix at all


def test_a_changed_answer_does_not_change_what_is_over(app, client, coordinator, make_user) -> None:
    people = _people(make_user, 6, 6, 5)
    _session_with(app, people, _last_month_day(3))
    client.sign_in(coordinator)
    before = _mix_section(client, start=_last_month_day(1).isoformat(), end=_last_month_day(28).isoformat())
    with app.app_context():
        person = db.session.get(User, people[0].id)
        privacy.save_profile(
            person, name=person.name, locale=person.locale, audience=Audience.NEIGHBOUR, email_notifications=True
        )
        db.session.commit()
        # what is over keeps the answer given at the time
        assert {b.audience for b in db.session.query(Booking).filter_by(user_id=person.id)} == {Audience.NEWCOMER}
    _forget_cached_figures(app)
    assert _mix_section(client, start=_last_month_day(1).isoformat(), end=_last_month_day(28).isoformat()) == before


def test_a_changed_answer_follows_into_bookings_still_to_come(app, make_user) -> None:
    person = make_user(name="Changes mind", audience=Audience.UNSAID)
    _session_with(app, [person], local_today() + timedelta(days=3))
    with app.app_context():
        me = db.session.get(User, person.id)
        privacy.save_profile(me, name=me.name, locale=me.locale, audience=Audience.NEWCOMER, email_notifications=True)
        db.session.commit()
        assert db.session.query(Booking).filter_by(user_id=person.id).one().audience == Audience.NEWCOMER


def test_every_number_of_the_mix_is_rounded_to_five() -> None:
    mix = reports.Mix({Audience.NEWCOMER: 6, Audience.NEIGHBOUR: 3, Audience.UNSAID: 2})
    assert mix.shown == {Audience.NEWCOMER: 5, Audience.NEIGHBOUR: 5, Audience.UNSAID: 0}
    assert mix.share(Audience.NEIGHBOUR) == 50  # of the rounded total, not of the exact one
    assert reports.Mix({Audience.NEWCOMER: 9}).shown is None  # fewer than 10 places: nothing
    assert reports.Mix({}).share(Audience.NEWCOMER) is None
    assert [reports.rounded(n) for n in (0, 1, 2, 3, 7, 8, 12, 13)] == [0, 0, 0, 5, 5, 10, 10, 15]


def test_a_month_is_counted_once_and_kept(app, make_user) -> None:
    people = _people(make_user, 5, 5, 5)
    session_id = _session_with(app, people, _last_month_day(4))
    with app.app_context():
        period = reports.Period(_last_month_day(1), _last_month_day(28))
        first = reports.mix_by_month(period)
        # someone cancels afterwards (a coordinator can): the month's figures stay as they were
        booking = db.session.query(Booking).filter_by(session_id=session_id).first()
        booking.status = bookings.BookingStatus.CANCELLED
        db.session.commit()
        again = reports.mix_by_month(period)
    assert [m.mix.shown for m in first] == [m.mix.shown for m in again]
    assert first[0].mix.shown == {Audience.NEWCOMER: 5, Audience.NEIGHBOUR: 5, Audience.UNSAID: 5}


def test_months_still_under_way_are_not_shown(app) -> None:
    with app.app_context():
        this_month = local_today().replace(day=1)
        months = reports.closed_months(reports.Period(this_month - timedelta(days=40), this_month + timedelta(days=40)))
    assert this_month not in months
    assert months[-1] == (this_month - timedelta(days=1)).replace(day=1)
