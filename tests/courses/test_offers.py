"""Putting courses and activities online, changing them, and who may see and change them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from icalendar import Calendar
from markupsafe import escape

from einstein.db import db
from einstein.i18n import TIMEZONE
from einstein.models import Location, Offer, OfferKind, OfferStatus, User
from tests import factories
from tests.courses.conftest import local_date
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT


def _offers(app) -> list[Offer]:
    with app.app_context():
        offers = list(db.session.scalars(sa.select(Offer).order_by(Offer.id)))
        for offer in offers:
            _ = offer.sessions, [s.languages for s in offer.sessions]
        db.session.expunge_all()
        return offers


def test_a_volunteer_puts_an_activity_online_for_approval(app, client, volunteer, offer_form) -> None:
    client.sign_in(volunteer)
    response = client.post("/offers/new/activity", data=offer_form())
    assert response.status_code == 302
    [offer] = _offers(app)
    assert (offer.kind, offer.status, offer.organiser_id) == (OfferKind.ACTIVITY, OfferStatus.PENDING, volunteer.id)
    [session] = offer.sessions
    start = session.starts_at.astimezone(TIMEZONE)
    assert (start.date(), start.time()) == (local_date(7), time(17, 30))
    assert sorted(session.language_codes) == ["ar", "nl"]
    assert session.capacity == 12
    # not public yet
    anonymous = app.test_client()
    assert f"/offers/{offer.id}" not in anonymous.get("/").get_data(as_text=True)
    assert anonymous.get(f"/offers/{offer.id}").status_code == 404


def test_a_trusted_volunteer_publishes_at_once(app, client, make_user, offer_form) -> None:
    from einstein.models import Role

    trusted = make_user(role=Role.VOLUNTEER, trusted=True)
    client.sign_in(trusted)
    client.post("/offers/new/activity", data=offer_form())
    assert _offers(app)[0].status == OfferStatus.PUBLISHED


def test_a_weekly_course_from_a_coordinator(app, client, coordinator, offer_form) -> None:
    client.sign_in(coordinator)
    data = offer_form(
        title="Business English",
        category="language",
        repeat="weekly",
        count="8",
        capacity="16",
        start_time="19:00",
        end_time="21:00",
        new_organisation="Taalschool Domstad",
    )
    assert client.post("/offers/new/course", data=data).status_code == 302
    [offer] = _offers(app)
    assert offer.kind == OfferKind.COURSE and offer.status == OfferStatus.PUBLISHED
    assert len(offer.sessions) == 8
    # 19:00 in Utrecht every week, across the change to winter or summer time
    assert {s.starts_at.astimezone(TIMEZONE).time() for s in offer.sessions} == {time(19, 0)}
    days = [s.starts_at.astimezone(TIMEZONE).date() for s in offer.sessions]
    assert all((b - a).days == 7 for a, b in pairwise(days))
    assert offer.capacity == 16 and all(s.capacity == 16 for s in offer.sessions)


def test_a_fortnightly_series(app, client, coordinator, offer_form) -> None:
    client.sign_in(coordinator)
    client.post("/offers/new/activity", data=offer_form(repeat="fortnightly", count="3"))
    days = [s.starts_at.astimezone(TIMEZONE).date() for s in _offers(app)[0].sessions]
    assert [(b - a).days for a, b in pairwise(days)] == [14, 14]


def test_volunteers_cannot_publish_courses(client, volunteer, offer_form) -> None:
    client.sign_in(volunteer)
    assert client.get("/offers/new/course").status_code == 403
    assert client.post("/offers/new/course", data=offer_form()).status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_time": "17:30"}, "The end cannot be the same time as the start."),
        ({"first_date": local_date(-1).isoformat()}, "This date is in the past."),
        ({"first_date": "31-02-2026"}, "Not a valid date value."),
        ({"title": ""}, "Please give a title."),
        ({"title": "   "}, "Please give a title."),
        ({"description": "x" * 5001}, "Please keep the description under 5000 characters."),
        ({"category": "astrology"}, "Not a valid choice."),
        ({"capacity": "0"}, "Between 1 and 500 places."),
        ({"capacity": "many"}, "Not a valid integer value."),
        ({"capacity": "100000"}, "Between 1 and 500 places."),
        ({"languages": []}, "Please choose at least one language."),
        ({"languages": ["nl", "klingon"]}, "is not a valid choice"),
        ({"repeat": "weekly", "count": "60"}, "Between 1 and 52 sessions."),
        (
            {"new_place_name": "", "new_place_address": "", "location_id": ""},
            "Please choose a place, or fill in a new one.",
        ),
        ({"new_place_address": ""}, "A new place needs a name and a street."),
        ({"location_id": "999999", "new_place_name": "", "new_place_address": ""}, "Not a valid choice."),
    ],
)
def test_bad_offers_are_refused_with_a_clear_message(app, client, coordinator, offer_form, change, message) -> None:
    client.sign_in(coordinator)
    response = client.post("/offers/new/activity", data=offer_form(**change), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _offers(app) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first_date": "9999-12-30", "repeat": "weekly", "count": "8"}, "Please choose a date between"),
        ({"first_date": "9999-12-31"}, "Please choose a date between"),
        ({"first_date": "0001-01-01"}, "Please choose a date between"),
        ({"first_date": "2100-12-01", "repeat": "fortnightly", "count": "52"}, "The last session would be after"),
        ({"first_date": "2100-12-31", "repeat": "weekly", "count": "2"}, "The last session would be after"),
        ({"first_date": "2100-12-31", "repeat": "weekly", "count": "100000000000000000000"}, "Between 1 and 52"),
    ],
)
def test_a_schedule_running_into_the_year_9999_is_refused(app, client, volunteer, offer_form, change, message) -> None:
    client.sign_in(volunteer)
    response = client.post("/offers/new/activity", data=offer_form(**change), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _offers(app) == []


def test_a_schedule_may_end_on_the_last_day_of_the_window(app, client, volunteer, offer_form) -> None:
    client.sign_in(volunteer)
    data = offer_form(first_date="2100-12-17", repeat="weekly", count="3")
    assert client.post("/offers/new/activity", data=data).status_code == 302
    [offer] = _offers(app)
    assert offer.sessions[-1].starts_at.astimezone(TIMEZONE).date().isoformat() == "2100-12-31"


@pytest.mark.parametrize("text", list(HOSTILE_TEXT.values()), ids=list(HOSTILE_TEXT))
def test_hostile_text_renders_as_text(app, client, coordinator, offer_form, text) -> None:
    client.sign_in(coordinator)
    assert client.post("/offers/new/activity", data=offer_form(title=text[:200], description=text)).status_code == 302
    [offer] = _offers(app)
    assert offer.title == text[:200]
    for url in ("/", f"/offers/{offer.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert str(escape(text[:200])) in page
    assert "test-secret-key" not in client.get(f"/offers/{offer.id}").get_data(as_text=True)


@pytest.mark.parametrize("text", list(HOSTILE_IN_TEXT.values()), ids=list(HOSTILE_IN_TEXT))
def test_invisible_and_control_characters_are_refused(app, client, coordinator, offer_form, text) -> None:
    client.sign_in(coordinator)
    response = client.post("/offers/new/activity", data=offer_form(description=text), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "invisible or special control characters" in response.get_data(as_text=True)
    assert _offers(app) == []


def test_persian_text_with_joiners_is_fine(app, client, coordinator, offer_form) -> None:
    client.sign_in(coordinator)
    text = "می\u200cخواهیم با هم آشپزی کنیم"
    assert client.post("/offers/new/activity", data=offer_form(title=text, language="fa")).status_code == 302


def test_the_same_new_place_is_not_added_twice(app, client, coordinator, offer_form) -> None:
    client.sign_in(coordinator)
    client.post("/offers/new/activity", data=offer_form())
    client.post("/offers/new/activity", data=offer_form(title="Tweede"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 1


def test_only_the_organiser_and_coordinators_change_an_offer(
    app, client, volunteer, other_volunteer, coordinator, participant
) -> None:
    with app.app_context():
        offer = factories.OfferFactory(organiser=db.session.get(User, volunteer.id))
        offer_id = offer.id
    for person, status in ((other_volunteer, 403), (participant, 403), (volunteer, 200), (coordinator, 200)):
        client.sign_in(person)
        assert client.get(f"/offers/{offer_id}/edit").status_code == status


def test_editing_an_offer(app, client, trusted_volunteer, offer_form) -> None:
    volunteer = trusted_volunteer  # a trusted volunteer's changes go online at once
    with app.app_context():
        session = factories.SessionFactory(offer__organiser=db.session.get(User, volunteer.id))
        offer_id, location_id = session.offer_id, session.location_id
    client.sign_in(volunteer)
    data = offer_form(
        title="Nieuwe titel",
        capacity="20",
        languages=["en"],
        location_id=str(location_id),
        new_place_name="",
        new_place_address="",
    )
    assert client.post(f"/offers/{offer_id}/edit", data=data).status_code == 302
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer.title == "Nieuwe titel"
        assert offer.sessions[0].capacity == 20 and offer.sessions[0].language_codes == ["en"]
        assert "nieuwe titel" in offer.search_text


def test_capacity_cannot_go_below_the_places_booked(app, client, coordinator, make_user, offer_form) -> None:
    from einstein.bookings import services as bookings

    people = [make_user() for _ in range(4)]
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=5)
        for person in people:
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
        offer_id, location_id = session.offer_id, session.location_id
    client.sign_in(coordinator)
    data = offer_form(capacity="3", location_id=str(location_id), new_place_name="", new_place_address="")
    response = client.post(f"/offers/{offer_id}/edit", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "There are already 4 people booked" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Offer, offer_id).sessions[0].capacity == 5


def test_approval_queue(app, client, coordinator, volunteer) -> None:
    with app.app_context():
        pending = factories.OfferFactory(
            organiser=db.session.get(User, volunteer.id), status=OfferStatus.PENDING, title="Schaakmiddag"
        )
        factories.SessionFactory(offer=pending)
        pending_id = pending.id
    client.sign_in(coordinator)
    assert "Schaakmiddag" in client.get("/review").get_data(as_text=True)
    assert client.post(f"/offers/{pending_id}/approve").status_code == 303
    with app.app_context():
        assert db.session.get(Offer, pending_id).status == OfferStatus.PUBLISHED
    assert "Schaakmiddag" in app.test_client().get("/").get_data(as_text=True)
    # approving twice is a clear no, not an error
    assert client.post(f"/offers/{pending_id}/approve").status_code == 303


def test_a_declined_activity_stays_with_its_volunteer(app, client, coordinator, volunteer, other_volunteer) -> None:
    with app.app_context():
        pending = factories.OfferFactory(organiser=db.session.get(User, volunteer.id), status=OfferStatus.PENDING)
        pending_id = pending.id
    client.sign_in(coordinator)
    # a no needs a reason (the volunteer is told it)
    assert client.post(f"/offers/{pending_id}/reject").status_code == 422
    assert client.post(f"/offers/{pending_id}/reject", data={"reason": "Please add a place."}).status_code == 303
    client.sign_in(volunteer)
    assert client.get(f"/offers/{pending_id}").status_code == 200
    client.sign_in(other_volunteer)
    assert client.get(f"/offers/{pending_id}").status_code == 404


def test_translations_are_shown_in_the_readers_language(app, client, trusted_volunteer) -> None:
    volunteer = trusted_volunteer  # a trusted volunteer's translations go online at once
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), offer__title="Samen koken", offer__language="nl"
        )
        offer_id = session.offer_id
    client.sign_in(volunteer)
    response = client.post(
        f"/offers/{offer_id}/translations/ar", data={"title": "الطبخ معاً", "description": "نطبخ ونأكل معاً"}
    )
    assert response.status_code == 302
    reader = app.test_client()
    assert "الطبخ معاً" in reader.get(f"/offers/{offer_id}", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "الطبخ معاً" in reader.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "Samen koken" in reader.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Samen koken" in reader.get("/", headers={"Accept-Language": "tr"}).get_data(as_text=True)
    # the search finds it in either language
    assert "الطبخ معاً" in reader.get("/?q=الطبخ", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert client.get(f"/offers/{offer_id}/translations/xx").status_code == 404
    assert client.get(f"/offers/{offer_id}/translations/nl").status_code == 404  # the original's own language


def test_my_offers_lists_only_mine(app, client, volunteer, other_volunteer, coordinator) -> None:
    with app.app_context():
        factories.OfferFactory(organiser=db.session.get(User, volunteer.id), title="Mine")
        factories.OfferFactory(organiser=db.session.get(User, other_volunteer.id), title="Theirs")
    client.sign_in(volunteer)
    page = client.get("/my/offers").get_data(as_text=True)
    assert "Mine" in page and "Theirs" not in page
    client.sign_in(coordinator)
    assert "Theirs" in client.get("/my/offers?all=1").get_data(as_text=True)


def test_nothing_points_at_a_missing_offer(client, coordinator) -> None:
    client.sign_in(coordinator)
    for url in (
        "/offers/999999",
        "/offers/999999/edit",
        "/sessions/999999/edit",
        "/offers/999999.ics",
        "/sessions/999999.ics",
    ):
        assert client.get(url).status_code == 404
    assert client.post("/offers/999999/approve").status_code == 404


def test_sessions_keep_the_wall_clock_time_across_summer_time() -> None:
    from datetime import date

    from einstein.courses.schedule import series_times

    # 2026-10-25 is when the Netherlands goes back to winter time
    times = series_times(date(2026, 10, 20), time(19, 0), time(21, 0), 2)
    assert [t[0].astimezone(TIMEZONE).time() for t in times] == [time(19, 0), time(19, 0)]
    assert times[1][0] - times[0][0] == datetime(2026, 10, 27, 18) - datetime(2026, 10, 20, 17)


def _next_clock_change(after: date) -> date:
    """The first day after ``after`` on which the clocks in Utrecht go forward or back."""
    day = after + timedelta(days=1)
    while (
        datetime.combine(day, time(12), TIMEZONE).utcoffset()
        == datetime.combine(day - timedelta(days=1), time(12), TIMEZONE).utcoffset()
    ):
        day += timedelta(days=1)
    return day


def _when(start: datetime, end: datetime) -> str:
    """A session's time as the English pages write it when it ends on the next day."""
    start, end = start.astimezone(TIMEZONE), end.astimezone(TIMEZONE)
    day = lambda value: format_date(value, "EEEE d MMMM", locale="en")  # noqa: E731
    return f"{day(start)}, {start:%H:%M}\u2009–\u2009{day(end)}, {end:%H:%M}"  # CLDR's English interval


@pytest.mark.postgres
def test_an_eid_evening_every_week_ends_after_midnight_across_a_clock_change(
    app, client, coordinator, offer_form
) -> None:
    client.sign_in(coordinator)
    form = client.get("/offers/new/activity", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Ends after midnight? Give the time on the next day, for example 20:00 to 01:00." in form
    # four Saturday evenings: two weeks before the night the clocks change, that night, and after
    change = _next_clock_change(local_date(16))  # a Sunday: the clocks change at 02:00 or 03:00
    first = change - timedelta(days=15)
    data = offer_form(
        title="Eid evening",
        first_date=first.isoformat(),
        start_time="20:00",
        end_time="01:00",
        repeat="weekly",
        count="4",
    )
    assert client.post("/offers/new/activity", data=data).status_code == 302
    [offer] = _offers(app)
    sessions = offer.sessions
    days = [first + timedelta(weeks=week) for week in range(4)]
    assert [s.starts_at.astimezone(TIMEZONE) for s in sessions] == [
        datetime.combine(day, time(20), TIMEZONE) for day in days
    ]
    assert [s.ends_at.astimezone(TIMEZONE) for s in sessions] == [
        datetime.combine(day + timedelta(days=1), time(1), TIMEZONE) for day in days
    ]
    # each lasts five hours, and the clocks did change in between
    assert {s.ends_at - s.starts_at for s in sessions} == {timedelta(hours=5)}
    assert (
        sessions[0].starts_at.astimezone(TIMEZONE).utcoffset()
        != sessions[-1].starts_at.astimezone(TIMEZONE).utcoffset()
    )

    # the catalogue, the offer page and the calendar file say when each evening ends
    listing = app.test_client().get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _when(sessions[0].starts_at, sessions[0].ends_at) in listing
    page = client.get(f"/offers/{offer.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for session in sessions:
        assert _when(session.starts_at, session.ends_at) in page
    events = Calendar.from_ical(client.get(f"/offers/{offer.id}.ics").data).walk("VEVENT")
    assert [(e["dtstart"].dt, e["dtend"].dt) for e in events] == [(s.starts_at, s.ends_at) for s in sessions]


def test_an_end_before_the_start_is_on_the_next_day() -> None:
    from einstein.courses.errors import CatalogueError
    from einstein.courses.schedule import session_times

    def hours(day: date, start: time, end: time) -> float:
        starts, ends = session_times(day, start, end)
        return (ends - starts) / timedelta(hours=1)

    assert hours(date(2027, 2, 13), time(20), time(1)) == 5
    assert hours(date(2027, 2, 13), time(22), time(21, 59)) == 23 + 59 / 60
    # through the night the clocks change: an hour less in spring, an hour more in autumn
    assert hours(date(2027, 3, 27), time(22), time(4)) == 5
    assert hours(date(2027, 10, 30), time(22), time(4)) == 7
    # 02:30 to 03:30 on the spring night is no time at all: the clocks jump from 02:00 to 03:00
    with pytest.raises(CatalogueError):
        session_times(date(2027, 3, 28), time(2, 30), time(3, 30))


def test_a_session_that_the_clocks_skip_entirely_is_refused(app, client, volunteer) -> None:
    with app.app_context():
        offer_id = factories.OfferFactory(organiser=db.session.get(User, volunteer.id)).id
    spring = _next_clock_change(local_date(0))
    while datetime.combine(spring, time(12), TIMEZONE).utcoffset() != timedelta(hours=2):
        spring = _next_clock_change(spring)
    client.sign_in(volunteer)
    # 02:30 does not exist that night: it is read as 03:30, the end, so the session lasts nothing
    data = {"first_date": spring.isoformat(), "start_time": "02:30", "end_time": "03:30", "repeat": "once"}
    response = client.post(f"/offers/{offer_id}/sessions/new", data={**data, "count": "1"})
    assert response.status_code == 422
    assert "The end must be after the start." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Offer, offer_id).sessions == []
