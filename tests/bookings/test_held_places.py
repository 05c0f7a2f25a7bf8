"""Places held for the mix: an organiser keeps some places for neighbours (or newcomers) until a
chosen day before the start; everyone else, also someone who said nothing, books the open places;
on the chosen day the held places open to everyone and the waiting list moves on. Nobody but the
person ever sees what they said: not the organiser, not the desk, not an export, not the history.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from einstein.bookings import services as bookings
from einstein.bookings import tasks
from einstein.bookings.errors import BookingError
from einstein.db import db
from einstein.i18n import TIMEZONE
from einstein.models import (
    Audience,
    Booking,
    BookingStatus,
    NotificationKind,
    Offer,
    OfferKind,
    OfferSession,
    Role,
    User,
)
from tests import factories
from tests.support.booking import book
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT
from tests.support.outbox import queued

EN = {"Accept-Language": "en"}
NEIGHBOUR, NEWCOMER, UNSAID = Audience.NEIGHBOUR, Audience.NEWCOMER, Audience.UNSAID


# --- the world -----------------------------------------------------------------------------------


def _activity(app, organiser, *, capacity: int = 4, held: int = 2, days: int = 3, start_in: int = 10, **offer) -> dict:
    """An activity session ``start_in`` days ahead (10:00 in Utrecht) holding ``held`` places for
    neighbours until ``days`` days before it."""
    with app.app_context():
        session = factories.SessionFactory(
            starts_at=days_ahead(start_in),
            offer__organiser=db.session.get(User, organiser.id),
            offer__capacity=capacity,
            offer__held_places=held,
            offer__held_days=days,
            offer__title="Cooking together",
            **{f"offer__{key}": value for key, value in offer.items()},
        )
        return {"session_id": session.id, "offer_id": session.offer_id, "starts_at": session.starts_at}


def _course(app, organiser, *, capacity: int = 3, held: int = 1, days: int = 5) -> dict:
    """A course of three weekly sessions, the first twelve days ahead, holding places for neighbours."""
    with app.app_context():
        offer = factories.OfferFactory(
            kind=OfferKind.COURSE,
            capacity=capacity,
            held_places=held,
            held_days=days,
            organiser=db.session.get(User, organiser.id),
            title="Business English",
        )
        for week in range(3):
            factories.SessionFactory(offer=offer, starts_at=days_ahead(12 + 7 * week))
        return {"offer_id": offer.id, "starts_at": days_ahead(12)}


def _people(make_user, audience: Audience, count: int, name: str) -> list[Any]:
    return [make_user(audience=audience, name=f"{name} {n}") for n in range(1, count + 1)]


def _status(app, person) -> BookingStatus | None:
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.user_id == person.id))
        return booking.status if booking is not None else None


def _book_as(app, person, what: dict, waitlist: bool = True) -> Booking:
    """Book through the service, as the desk or the button would."""
    with app.app_context():
        offer = db.session.get(Offer, what["offer_id"])
        session = db.session.get(OfferSession, what["session_id"]) if "session_id" in what else None
        booking = bookings.book(db.session.get(User, person.id), bookings.Target.of(offer, session), waitlist=waitlist)
        db.session.commit()
        return booking


def _cancel(app, person) -> None:
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.user_id == person.id))
        bookings.cancel(booking)
        db.session.commit()


def _opening(what: dict, days: int):
    return (what["starts_at"].astimezone(TIMEZONE) - timedelta(days=days)).astimezone(TIMEZONE)


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_someone_who_said_nothing_books_the_open_places_and_then_waits(app, client, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=4, held=2)
    first, second, third = _people(make_user, UNSAID, 3, "Anna")
    for person in (first, second):
        client.sign_in(person)
        assert book(client, activity).status_code == 303
        assert _status(app, person) == BookingStatus.CONFIRMED
    # two places are free, but they are held for neighbours: the page says until when, and offers the list
    client.sign_in(third)
    refused = book(client, activity)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "The places open to everyone are taken" in page and "held for the mix until" in page
    assert "you would be number 1" in page
    joined = book(client, activity, waitlist=True)
    assert joined.status_code == 303 and _status(app, third) == BookingStatus.WAITLISTED
    mine = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert "Places are held for the mix until" in mine


def test_a_neighbour_may_take_any_free_place(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=3, held=1)
    neighbours = _people(make_user, NEIGHBOUR, 3, "Bram")
    for person in neighbours:
        _book_as(app, person, activity)
    assert [_status(app, p) for p in neighbours] == [BookingStatus.CONFIRMED] * 3


def test_newcomers_can_be_the_ones_places_are_held_for(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=2, held=1, held_for=NEWCOMER)
    neighbour, other_neighbour = _people(make_user, NEIGHBOUR, 2, "Els")
    newcomer = make_user(audience=NEWCOMER, name="Dawit")
    _book_as(app, neighbour, activity)
    _book_as(app, other_neighbour, activity)  # the open place is taken: the other is held for a newcomer
    _book_as(app, newcomer, activity)
    assert [_status(app, p) for p in (neighbour, other_neighbour, newcomer)] == [
        BookingStatus.CONFIRMED,
        BookingStatus.WAITLISTED,
        BookingStatus.CONFIRMED,
    ]


def test_without_a_waiting_list_the_refusal_says_until_when(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=2, held=1, waitlist_enabled=False)
    first, second = _people(make_user, UNSAID, 2, "Cas")
    _book_as(app, first, activity)
    with pytest.raises(BookingError) as refused, app.test_request_context(headers=EN):
        _book_as(app, second, activity)
    assert refused.value.code == "held_full"
    assert "held for the mix until" in refused.value.message
    # the date is the opening moment's, in the reader's words
    assert str(_opening(activity, 3).day) in refused.value.message


@pytest.mark.postgres
def test_held_places_open_on_the_chosen_day_and_the_list_moves_on(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=3, held=2, days=3)
    early, waiting, later = _people(make_user, UNSAID, 3, "Dirk")
    _book_as(app, early, activity)
    _book_as(app, waiting, activity)
    _book_as(app, later, activity)
    opening = _opening(activity, 3)
    with time_machine.travel(opening - timedelta(minutes=1), tick=False):
        assert tasks.open_held_places() == {"promoted": 0}  # a minute early: still held
    assert [_status(app, p) for p in (early, waiting, later)] == [
        BookingStatus.CONFIRMED,
        BookingStatus.WAITLISTED,
        BookingStatus.WAITLISTED,
    ]
    with time_machine.travel(opening + timedelta(seconds=30), tick=False):
        assert tasks.open_held_places() == {"promoted": 2}
        assert tasks.open_held_places() == {"promoted": 0}  # safe to run twice
    assert [_status(app, p) for p in (waiting, later)] == [BookingStatus.CONFIRMED] * 2
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (3, 0)
    promoted = queued(app, NotificationKind.BOOKING_PROMOTED)
    assert sorted(n.user_id for n in promoted) == sorted([waiting.id, later.id])
    # once open, anyone takes a place that comes free
    with time_machine.travel(opening + timedelta(hours=1), tick=False):
        after = make_user(name="Fenna")
        _cancel(app, early)
        _book_as(app, after, activity)
        assert _status(app, after) == BookingStatus.CONFIRMED


def test_a_course_holds_its_places_until_days_before_its_first_session(app, make_user, coordinator) -> None:
    course = _course(app, coordinator, capacity=2, held=1, days=5)
    first, second = _people(make_user, UNSAID, 2, "Gijs")
    _book_as(app, first, course)
    _book_as(app, second, course)
    assert _status(app, second) == BookingStatus.WAITLISTED
    opening = _opening(course, 5)
    assert opening.hour == 10  # 10:00 in Utrecht, five days before the first session
    with time_machine.travel(opening + timedelta(minutes=1), tick=False):
        assert tasks.open_held_places() == {"promoted": 1}
    assert _status(app, second) == BookingStatus.CONFIRMED


def test_once_a_course_has_begun_the_beat_takes_nobody_from_its_list(app, make_user, coordinator) -> None:
    """Had the beat been down on the day, nobody is told "you have a place" in a course under way."""
    course = _course(app, coordinator, capacity=2, held=1, days=5)
    first, second = _people(make_user, UNSAID, 2, "Hidde")
    _book_as(app, first, course)
    _book_as(app, second, course)
    with time_machine.travel(course["starts_at"] + timedelta(minutes=5), tick=False):
        assert tasks.open_held_places() == {"promoted": 0}
    assert _status(app, second) == BookingStatus.WAITLISTED


@pytest.mark.postgres
def test_a_freed_place_goes_to_the_first_on_the_list_who_may_take_it(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=3, held=1)
    other_1, other_2, other_3 = _people(make_user, UNSAID, 3, "Hans")
    neighbour_1, neighbour_2 = _people(make_user, NEIGHBOUR, 2, "Ilse")
    for person in (other_1, other_2, neighbour_1, other_3, neighbour_2):
        _book_as(app, person, activity)
    # the two open places and the held one are taken; Hans 3 waits first, Ilse 2 second
    assert _status(app, other_3) == _status(app, neighbour_2) == BookingStatus.WAITLISTED
    # the held place comes free: the open places are still taken, so it goes to Ilse 2, not Hans 3
    _cancel(app, neighbour_1)
    assert _status(app, neighbour_2) == BookingStatus.CONFIRMED
    assert _status(app, other_3) == BookingStatus.WAITLISTED
    # an open place comes free: Hans 3 is first in line and may take it
    _cancel(app, other_1)
    assert _status(app, other_3) == BookingStatus.CONFIRMED
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (3, 0)


@pytest.mark.postgres
def test_nobody_who_may_take_it_keeps_the_place_free_and_the_list_intact(app, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=2, held=1)
    other_1, other_2 = _people(make_user, UNSAID, 2, "Joost")
    neighbour = make_user(audience=NEIGHBOUR, name="Kim")
    for person in (other_1, neighbour, other_2):
        _book_as(app, person, activity)
    _cancel(app, neighbour)  # a held place: nobody waiting may take it yet
    assert _status(app, other_2) == BookingStatus.WAITLISTED
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        assert (session.confirmed_count, session.waitlist_count) == (1, 1)  # the list is not "drifted"


# --- what people see -----------------------------------------------------------------------------


def test_everyone_sees_how_many_places_are_held_until_when(app, client, make_user, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=4, held=2, days=3)
    page = client.get(f"/offers/{activity['offer_id']}", headers=EN).get_data(as_text=True)
    assert "2 places held for neighbours until" in page
    assert "4 places free" in page
    listing = client.get("/", headers=EN).get_data(as_text=True)
    assert "2 places held for neighbours until" in listing
    with time_machine.travel(_opening(activity, 3) + timedelta(minutes=1), tick=False):
        later = client.get(f"/offers/{activity['offer_id']}", headers={**EN, "Cache-Control": "no-cache"})
        assert "held for neighbours" not in later.get_data(as_text=True)


def test_an_offer_that_holds_nothing_says_nothing(app, client, activity) -> None:
    page = client.get(f"/offers/{activity['offer_id']}", headers=EN).get_data(as_text=True)
    assert "held for" not in page


# --- the organiser's form ------------------------------------------------------------------------


def _offer_form(app, offer_id: int, **changes: Any) -> dict[str, Any]:
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        data = {
            "title": offer.title,
            "description": offer.description,
            "language": offer.language,
            "category": offer.category.value,
            "languages": ["nl"],
            "dutch_level": offer.dutch_level.value,
            "location_id": str(offer.location_id),
            "capacity": str(offer.capacity),
            "waitlist_enabled": "y",
            "reminder_offsets": ["24h"],
            "held_places": str(offer.held_places),
            "held_for": offer.held_for.value,
            "held_days": str(offer.held_days),
        }
    return {**data, **changes}


def _held(app, offer_id: int) -> tuple[int, Audience, int, int]:
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        return offer.held_places, offer.held_for, offer.held_days, offer.capacity


def test_an_organiser_holds_places_for_newcomers_in_the_offer_form(app, client, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=10, held=0)
    client.sign_in(volunteer)
    form = client.get(f"/offers/{activity['offer_id']}/edit", headers=EN).get_data(as_text=True)
    assert "Places held for the mix" in form and "People from the neighbourhood" in form
    data = _offer_form(app, activity["offer_id"], held_places="3", held_for="newcomer", held_days="2")
    response = client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _held(app, activity["offer_id"]) == (3, NEWCOMER, 2, 10)
    page = client.get(f"/offers/{activity['offer_id']}", headers=EN).get_data(as_text=True)
    assert "3 places held for newcomers until" in page


def test_more_places_and_more_held_at_once_and_fewer_of_both(app, client, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=10, held=0)
    client.sign_in(volunteer)
    more = _offer_form(app, activity["offer_id"], capacity="20", held_places="15")
    assert client.post(f"/offers/{activity['offer_id']}/edit", data=more, headers=EN).status_code == 302
    assert _held(app, activity["offer_id"])[::3] == (15, 20)
    fewer = _offer_form(app, activity["offer_id"], capacity="5", held_places="3")
    assert client.post(f"/offers/{activity['offer_id']}/edit", data=fewer, headers=EN).status_code == 302
    assert _held(app, activity["offer_id"])[::3] == (3, 5)


def test_a_new_course_can_hold_places_from_the_start(app, client, coordinator) -> None:
    with app.app_context():
        place = factories.LocationFactory()
        place_id = place.id
    client.sign_in(coordinator)
    data = {
        "title": "Dutch for the neighbourhood",
        "language": "en",
        "category": "language",
        "languages": ["nl"],
        "dutch_level": "none",
        "location_id": str(place_id),
        "capacity": "12",
        "held_places": "4",
        "held_for": "neighbour",
        "held_days": "7",
        "first_date": days_ahead(20).astimezone(TIMEZONE).date().isoformat(),
        "start_time": "19:00",
        "end_time": "21:00",
        "repeat": "weekly",
        "count": "4",
    }
    response = client.post("/offers/new/course", data=data, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        offer = db.session.scalar(sa.select(Offer).where(Offer.title == "Dutch for the neighbourhood"))
        assert (offer.held_places, offer.held_for, offer.held_days) == (4, NEIGHBOUR, 7)


def test_an_offer_without_the_new_fields_holds_nothing(app, client, volunteer) -> None:
    """A form from before this feature (or a browser that drops the fields) saves as before."""
    activity = _activity(app, volunteer, capacity=10, held=0)
    client.sign_in(volunteer)
    data = _offer_form(app, activity["offer_id"])
    for name in ("held_places", "held_for", "held_days"):
        del data[name]
    assert client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN).status_code == 302
    assert _held(app, activity["offer_id"])[0] == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"held_places": "11"}, "No more places can be held than there are places (10)."),
        ({"held_places": "-1"}, "Between 0 and 500 places."),
        ({"held_places": "ten"}, "Not a valid integer value."),
        ({"held_places": "99999999999999999999"}, "Between 0 and 500 places."),
        ({"held_days": "61"}, "Between 0 and 60 days."),
        ({"held_days": "-2"}, "Between 0 and 60 days."),
        ({"held_for": "unsaid"}, "Not a valid choice."),
        ({"held_for": "asylum seeker"}, "Not a valid choice."),
    ],
)
def test_wrong_held_places_answer_422_with_the_reason(app, client, volunteer, changes, message) -> None:
    activity = _activity(app, volunteer, capacity=10, held=2)
    client.sign_in(volunteer)
    data = _offer_form(app, activity["offer_id"], **changes)
    response = client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _held(app, activity["offer_id"])[0] == 2  # nothing changed


def test_the_reason_is_in_the_readers_language(app, client, make_user) -> None:
    dutch = make_user(role=Role.VOLUNTEER, name="Riet", locale="nl")
    activity = _activity(app, dutch, capacity=10, held=2)
    client.sign_in(dutch)
    data = _offer_form(app, activity["offer_id"], held_for="unsaid")
    response = client.post(f"/offers/{activity['offer_id']}/edit", data=data)
    assert response.status_code == 422
    assert "Geen geldige keuze." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "value", [*HOSTILE_TEXT.values(), *HOSTILE_IN_TEXT.values(), "1e3", str(2**31), "\u0661\u0662", " ", "3.5"]
)
def test_hostile_values_in_the_held_fields_are_refused_not_a_500(app, client, volunteer, value) -> None:
    activity = _activity(app, volunteer, capacity=10, held=2)
    client.sign_in(volunteer)
    for field in ("held_places", "held_for", "held_days"):
        data = _offer_form(app, activity["offer_id"], **{field: value})
        response = client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN)
        assert response.status_code in {302, 422}, (field, value)
    assert _held(app, activity["offer_id"])[0] in {0, 2}


def test_another_volunteer_cannot_change_the_held_places(app, client, volunteer, other_volunteer) -> None:
    activity = _activity(app, volunteer, capacity=10, held=2)
    client.sign_in(other_volunteer)
    data = _offer_form(app, activity["offer_id"], held_places="0")
    assert client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN).status_code == 403
    assert _held(app, activity["offer_id"])[0] == 2


def test_a_participant_cannot_change_the_held_places(app, client, participant, volunteer) -> None:
    activity = _activity(app, volunteer, capacity=10, held=2)
    client.sign_in(participant)
    data = _offer_form(app, activity["offer_id"], held_places="0")
    assert client.post(f"/offers/{activity['offer_id']}/edit", data=data, headers=EN).status_code == 403
    assert _held(app, activity["offer_id"])[0] == 2


# --- privacy: who said what stays with the person ------------------------------------------------

#: What changes from one request to the next whatever the data: form tokens and script nonces.
_PER_REQUEST = re.compile(rb'(name="csrf_token"[^>]*value="|nonce="|"csrf_token" value=")[^"]*"')


def _stable(body: bytes) -> bytes:
    return _PER_REQUEST.sub(rb'\1"', body)


def _swap_audiences(app, first, second) -> None:
    """Let the two people have said the other's answer (on their account and their booking)."""
    with app.app_context():
        one, two = db.session.get(User, first.id), db.session.get(User, second.id)
        one.audience, two.audience = two.audience, one.audience
        for booking in db.session.scalars(sa.select(Booking).where(Booking.user_id.in_([one.id, two.id]))):
            booking.audience = one.audience if booking.user_id == one.id else two.audience
        db.session.commit()


@pytest.mark.postgres
def test_no_page_or_export_tells_organisers_or_others_who_said_what(
    app, client, make_user, volunteer, coordinator, other_participant
) -> None:
    """Two people booked on the same session, one neighbour and one who said nothing; then each
    has said the other's answer. Every page an organiser, a coordinator or another participant
    can open, and every export, is the same byte for byte: nothing on them depends on it."""
    activity = _activity(app, volunteer, capacity=4, held=2)
    course = _course(app, coordinator, capacity=4, held=2)
    neighbour = make_user(audience=NEIGHBOUR, name="Lotte Neighbour")
    quiet = make_user(audience=UNSAID, name="Mehmet Quiet")
    # the neighbour books the open places first: even so, nobody can tell which place is whose
    for person in (neighbour, quiet):
        _book_as(app, person, activity)
        _book_as(app, person, course)
    assert _status(app, quiet) == BookingStatus.CONFIRMED
    with app.app_context():
        references = list(db.session.scalars(sa.select(Booking.reference).order_by(Booking.id)))
    session_id, offer_id, course_id = activity["session_id"], activity["offer_id"], course["offer_id"]
    today = days_ahead(0).astimezone(TIMEZONE).date()
    period = f"start={today.isoformat()}&end={(today + timedelta(days=30)).isoformat()}"
    pages = {
        volunteer: [
            f"/offers/{offer_id}",
            f"/sessions/{session_id}/people",
            f"/sessions/{session_id}/attendance",
        ],
        coordinator: [
            f"/offers/{offer_id}",
            f"/offers/{course_id}",
            f"/offers/{course_id}/people",
            f"/sessions/{session_id}/people",
            f"/offers/{offer_id}/history",
            f"/offers/{course_id}/history",
            f"/people/{neighbour.id}/history",
            *(f"/bookings/{reference}/card" for reference in references),
            f"/exports/bookings.csv?{period}",
            f"/exports/attendance.csv?{period}",
            f"/exports/sessions.csv?{period}",
        ],
        other_participant: [f"/offers/{offer_id}", f"/offers/{course_id}", "/"],
        None: [f"/offers/{offer_id}", f"/offers/{course_id}", "/"],
    }

    def everything() -> dict[str, bytes]:
        seen: dict[str, bytes] = {}
        for person, paths in pages.items():
            browser = app.test_client()
            if person is not None:
                browser.sign_in(person)
            for path in paths:
                response = browser.get(path, headers={**EN, "Cache-Control": "no-cache"})
                assert response.status_code == 200, (path, response.status_code)
                seen[f"{getattr(person, 'name', 'visitor')} {path}"] = _stable(response.get_data())
        return seen

    before = everything()
    assert b"Lotte Neighbour" in before[f"Noor Coordinator /sessions/{session_id}/people"]
    _swap_audiences(app, neighbour, quiet)
    after = everything()
    for key, body in before.items():
        assert after[key] == body, f"{key} shows who said what"
    for body in before.values():  # nor any answer's words
        assert not any(
            label in body for label in (b"From the neighbourhood", b"New in the Netherlands", b"Did not say")
        )


def test_the_audit_trail_records_no_ones_answer(app, make_user, coordinator, volunteer) -> None:
    """A booking made for someone at the desk is in the history; what they said is not."""
    activity = _activity(app, volunteer, capacity=4, held=2)
    neighbour = make_user(audience=NEIGHBOUR, name="Nina")
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        bookings.book(
            db.session.get(User, neighbour.id),
            bookings.Target.of(session.offer, session),
            source=bookings.BookingSource.DESK,
            booked_by=db.session.get(User, coordinator.id),
        )
        db.session.commit()
        rows = db.session.execute(sa.text("SELECT * FROM audit_events")).mappings().all()
    assert rows, "the booking for someone else is recorded"
    assert not any("neighbour" in str(value) for row in rows for value in row.values())


def test_a_volunteer_who_runs_no_offer_sees_nothing_of_the_session(app, client, volunteer, other_volunteer) -> None:
    activity = _activity(app, volunteer)
    client.sign_in(other_volunteer)
    assert client.get(f"/sessions/{activity['session_id']}/people").status_code == 403


def _count(app, model, **where: Any) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def test_the_users_role_does_not_matter_to_the_rule(app, make_user, volunteer) -> None:
    """A coordinator or volunteer books as anyone does: what they said decides, not their role."""
    activity = _activity(app, volunteer, capacity=2, held=1)
    staff = make_user(role=Role.COORDINATOR, audience=UNSAID, name="Olga")
    other = make_user(audience=UNSAID, name="Pim")
    _book_as(app, other, activity)
    _book_as(app, staff, activity)
    assert _status(app, staff) == BookingStatus.WAITLISTED
    assert _count(app, Booking, status=BookingStatus.CONFIRMED) == 1


def test_a_session_with_fewer_places_of_its_own_holds_at_most_those(app, client, make_user, volunteer) -> None:
    """The activity holds 3 of its 4 places; one evening has only 2 places: both are held."""
    activity = _activity(app, volunteer, capacity=4, held=3)
    with app.app_context():
        db.session.get(OfferSession, activity["session_id"]).capacity = 2
        db.session.commit()
    quiet, neighbour = make_user(name="Quinten"), make_user(audience=NEIGHBOUR, name="Roos")
    _book_as(app, quiet, activity)
    _book_as(app, neighbour, activity)
    assert (_status(app, quiet), _status(app, neighbour)) == (BookingStatus.WAITLISTED, BookingStatus.CONFIRMED)
    page = client.get(f"/offers/{activity['offer_id']}", headers=EN).get_data(as_text=True)
    # the number held, not how many are left: that would tell who took one
    assert "2 places held for neighbours until" in page and "1 place free" in page
