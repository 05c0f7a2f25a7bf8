"""People registered at the desk, as the coordinator meets them: a warning before registering
someone twice, corrections, merging two records of one person, the list to book from, and
cancelling for someone after a question."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.db import db
from einstein.models import AuditEvent, Booking, BookingStatus, CancelReason, Offer, OfferSession, User
from tests.support.hostile import HOSTILE_LINES
from tests.support.html import main

EN = {"Accept-Language": "en"}


def _desk_person(make_user: Any, name: str, phone: str | None = None, **extra: Any) -> Any:
    return make_user(name=name, password_hash=None, email=None, phone=phone, **extra)


def _book(app, person: Any, session_id: int | None = None, offer_id: int | None = None) -> str:
    with app.app_context():
        if session_id is not None:
            session = db.session.get_one(OfferSession, session_id)
            target = Target(session.offer, session)
        else:
            target = Target(db.session.get_one(Offer, offer_id), None)
        booking = bookings.book(db.session.get_one(User, person.id), target)
        db.session.commit()
        return booking.reference


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return found


def _people(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


# --- registering: a warning before a second record ---------------------------------------------------

NEW = {"phone": "", "email": "", "locale": "ar", "audience": "newcomer", "consent": "y"}


def test_the_desk_is_warned_of_the_same_name_and_can_still_register_someone_else(
    app, client, coordinator, make_user
) -> None:
    known = _desk_person(make_user, "Mohammed Al-Khatib", "+31611110001")
    client.sign_in(coordinator)
    before = _people(app)
    # the same name, typed differently: nobody is registered, the known one is shown
    response = client.post("/desk/people/new", data={**NEW, "name": "mohammed  al khatib"}, headers=EN)
    page = main(response.get_data(as_text=True))
    assert response.status_code == 200 and _people(app) == before
    assert "Are they one of these?" in page and "Mohammed Al-Khatib" in page
    assert f'href="/desk/people/{known.id}"' in page
    assert f'name="seen" type="hidden" value="{known.id}"' in page or f'value="{known.id}"' in page
    # the coordinator asked: it is someone else with the same name
    response = client.post(
        "/desk/people/new", data={**NEW, "name": "mohammed  al khatib", "seen": str(known.id)}, headers=EN
    )
    assert response.status_code == 302 and _people(app) == before + 1


def test_the_same_phone_number_is_refused_with_the_person_who_has_it(app, client, coordinator, make_user) -> None:
    _desk_person(make_user, "Mohammed Al-Khatib", "+31611110001")
    client.sign_in(coordinator)
    before = _people(app)
    response = client.post("/desk/people/new", data={**NEW, "name": "Mo Khatib", "phone": "06 1111 0001"}, headers=EN)
    page = main(response.get_data(as_text=True))
    assert response.status_code == 422 and _people(app) == before
    assert "Someone already has this" in page and "Mohammed Al-Khatib" in page


@pytest.mark.parametrize("seen", ["1,abc,<script>", "-5", ",,,", "9" * 40])
def test_a_forged_list_of_people_seen_does_not_skip_the_warning(app, client, coordinator, make_user, seen) -> None:
    _desk_person(make_user, "Amal Yusuf")
    client.sign_in(coordinator)
    before = _people(app)
    response = client.post("/desk/people/new", data={**NEW, "name": "Amal Yusuf", "seen": seen}, headers=EN)
    assert response.status_code == 200 and _people(app) == before
    assert "Are they one of these?" in response.get_data(as_text=True)
    assert client.post("/desk/people/new", data={**NEW, "name": "Amal", "seen": "1," * 150}).status_code == 422


# --- correcting a desk person ------------------------------------------------------------------------


def test_the_desk_corrects_a_name_and_adds_a_phone_later(app, client, coordinator, make_user) -> None:
    person = _desk_person(make_user, "Mohamed Alkhatib")
    client.sign_in(coordinator)
    page = client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True)
    assert f'href="/desk/people/{person.id}/edit"' in page
    form = client.get(f"/desk/people/{person.id}/edit", headers=EN).get_data(as_text=True)
    assert 'value="Mohamed Alkhatib"' in form
    response = client.post(
        f"/desk/people/{person.id}/edit",
        data={"name": "Mohammed Al-Khatib", "phone": "06 2222 3333", "email": "", "locale": "en", "audience": "unsaid"},
    )
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get_one(User, person.id)
        assert (saved.name, saved.phone) == ("Mohammed Al-Khatib", "+31622223333")
        assert saved.phone_verified_at is not None  # given in person: texts go to it
        assert saved.name_key == "mohammedalkhatib"
    [event] = _events(app, "person.edited")
    assert (event.actor_id, event.subject_id) == (coordinator.id, person.id)
    assert event.details["fields"] == ["name", "phone"]
    assert "Khatib" not in json.dumps(event.details) and "2222" not in json.dumps(event.details)
    # the new name is found at the desk, and saving again changes nothing
    assert "Mohammed Al-Khatib" in client.get("/desk?q=al khatib").get_data(as_text=True)
    client.post(
        f"/desk/people/{person.id}/edit",
        data={"name": "Mohammed Al-Khatib", "phone": "06 2222 3333", "email": "", "locale": "en", "audience": "unsaid"},
    )
    assert len(_events(app, "person.edited")) == 1


def test_a_number_someone_else_has_is_refused_with_a_pointer_to_merging(app, client, coordinator, make_user) -> None:
    _desk_person(make_user, "Hodan Abdi", "+31633334444")
    person = _desk_person(make_user, "Hodan A.")
    client.sign_in(coordinator)
    data = {"name": "Hodan A.", "phone": "06 3333 4444", "email": "", "locale": "en", "audience": "unsaid"}
    response = client.post(f"/desk/people/{person.id}/edit", data=data, headers=EN)
    assert response.status_code == 422
    assert "merge the two" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(User, person.id).phone is None


@pytest.mark.parametrize("name", list(HOSTILE_LINES.values()), ids=list(HOSTILE_LINES))
def test_a_hostile_name_is_refused_when_correcting(app, client, coordinator, make_user, name) -> None:
    person = _desk_person(make_user, "Amal Yusuf")
    client.sign_in(coordinator)
    data = {"name": name, "phone": "", "email": "", "locale": "en", "audience": "unsaid"}
    assert client.post(f"/desk/people/{person.id}/edit", data=data).status_code == 422
    with app.app_context():
        assert db.session.get_one(User, person.id).name == "Amal Yusuf"


def test_only_a_coordinator_corrects_and_only_people_without_a_password(
    app, client, coordinator, volunteer, participant, make_user
) -> None:
    person = _desk_person(make_user, "Amal Yusuf")
    data = {"name": "Someone", "phone": "", "email": "", "locale": "en", "audience": "unsaid"}
    client.sign_in(volunteer)
    assert client.get(f"/desk/people/{person.id}/edit").status_code == 403
    assert client.post(f"/desk/people/{person.id}/edit", data=data).status_code == 403
    client.sign_in(coordinator)
    # someone who signs in changes their own details (with their password)
    assert client.post(f"/desk/people/{participant.id}/edit", data=data).status_code == 403
    with app.app_context():
        assert db.session.get_one(User, person.id).name == "Amal Yusuf"
        assert db.session.get_one(User, participant.id).name == participant.name


# --- merging two records of one person -----------------------------------------------------------------


@pytest.mark.postgres
def test_two_records_of_one_person_become_one_with_their_bookings_and_right_counters(
    app, client, coordinator, make_user, activity, course
) -> None:
    first = _desk_person(make_user, "Mohammed Al-Khatib", "+31611110001")
    second = _desk_person(make_user, "mohammed al khatib", locale="ar")
    other = _desk_person(make_user, "Sara Haile")
    kept_ref = _book(app, first, session_id=activity["session_id"])
    twice_ref = _book(app, second, session_id=activity["session_id"])  # the session is full now
    moved_ref = _book(app, second, offer_id=course["offer_id"])
    waiting_ref = _book(app, other, session_id=activity["session_id"])
    client.sign_in(coordinator)
    # the merge page offers the record with the same name
    page = main(client.get(f"/desk/people/{second.id}/merge", headers=EN).get_data(as_text=True))
    assert f"/desk/people/{second.id}/merge/{first.id}" in page
    compare = main(client.get(f"/desk/people/{second.id}/merge/{first.id}", headers=EN).get_data(as_text=True))
    assert "Booked twice" in compare and twice_ref in compare and kept_ref in compare
    # without saying they are one person: nothing happens
    response = client.post(f"/desk/people/{second.id}/merge/{first.id}", data={"locale": str(second.id)})
    assert response.status_code == 422 and _people(app) >= 3
    response = client.post(
        f"/desk/people/{second.id}/merge/{first.id}", data={"locale": str(second.id), "confirm": "y"}, headers=EN
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/desk/people/{first.id}")
    with app.app_context():
        assert db.session.get(User, second.id) is None
        kept = db.session.get_one(User, first.id)
        assert (kept.name, kept.phone, kept.locale) == ("Mohammed Al-Khatib", "+31611110001", "ar")
        rows = db.session.scalars(sa.select(Booking).where(Booking.user_id == kept.id))
        theirs = {b.reference: b.status for b in rows}
        assert theirs == {kept_ref: BookingStatus.CONFIRMED, moved_ref: BookingStatus.CONFIRMED}
        assert db.session.scalar(sa.select(Booking).where(Booking.reference == twice_ref)) is None
        # the place the second record held goes to the one who waited, and the counters agree
        session = db.session.get_one(OfferSession, activity["session_id"])
        waiting = db.session.scalar(sa.select(Booking).where(Booking.reference == waiting_ref))
        assert waiting.status == BookingStatus.CONFIRMED
        assert (session.confirmed_count, session.waitlist_count) == (2, 0)
        assert db.session.get_one(Offer, course["offer_id"]).confirmed_count == 1
    [event] = _events(app, "person.merged")
    assert (event.actor_id, event.subject_id) == (coordinator.id, first.id)
    assert event.details["merged_id"] == second.id and event.details["given_up"] == [twice_ref]
    assert event.details["details_taken"] == ["locale"] and "Khatib" not in json.dumps(event.details)


def test_merging_with_a_detail_of_neither_record_is_refused(app, client, coordinator, make_user) -> None:
    first = _desk_person(make_user, "Amal Yusuf")
    second = _desk_person(make_user, "Amal Jusuf", "+31655556666")
    stranger = _desk_person(make_user, "Somebody Else")
    client.sign_in(coordinator)
    for value in (str(stranger.id), "abc", "<script>", "9" * 30):
        response = client.post(f"/desk/people/{first.id}/merge/{second.id}", data={"name": value, "confirm": "y"})
        assert response.status_code == 422, value
    assert _people(app) >= 4 and not _events(app, "person.merged")


def test_who_may_not_merge(app, client, coordinator, volunteer, participant, other_participant, make_user) -> None:
    person = _desk_person(make_user, "Amal Yusuf")
    twin = _desk_person(make_user, "Amal Yusuf")
    client.sign_in(volunteer)
    assert client.get(f"/desk/people/{person.id}/merge").status_code == 403
    assert client.post(f"/desk/people/{person.id}/merge/{twin.id}", data={"confirm": "y"}).status_code == 403
    client.sign_in(coordinator)
    # not with themselves, not with staff
    assert client.post(f"/desk/people/{person.id}/merge/{person.id}", data={"confirm": "y"}).status_code == 403
    assert client.post(f"/desk/people/{person.id}/merge/{volunteer.id}", data={"confirm": "y"}).status_code == 403
    # two who sign in with a password: einstein cannot choose a sign-in, and says so
    response = client.post(
        f"/desk/people/{participant.id}/merge/{other_participant.id}", data={"confirm": "y"}, headers=EN
    )
    assert response.status_code == 409 and "Both can sign in" in response.get_data(as_text=True)
    assert _people(app) >= 6 and not _events(app, "person.merged")


def test_a_desk_record_merges_into_the_account_the_person_made_later(
    app, client, coordinator, participant, make_user, activity
) -> None:
    at_desk = _desk_person(make_user, participant.name, "+31677778888")
    reference = _book(app, at_desk, session_id=activity["session_id"])
    client.sign_in(coordinator)
    response = client.post(
        f"/desk/people/{at_desk.id}/merge/{participant.id}", data={"phone": str(at_desk.id), "confirm": "y"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, at_desk.id) is None
        kept = db.session.get_one(User, participant.id)  # the one who can sign in stays
        assert kept.phone == "+31677778888" and kept.email == participant.email
        assert db.session.scalar(sa.select(Booking.user_id).where(Booking.reference == reference)) == participant.id


# --- erase and export for someone who withdraws their consent ------------------------------------------


def test_the_desk_exports_and_erases_a_desk_person_and_the_trail_says_so(
    app, client, coordinator, volunteer, make_user
) -> None:
    person = _desk_person(make_user, "Hodan Abdi", "+31612121212")
    client.sign_in(volunteer)
    assert client.post(f"/people/{person.id}/erase", data={"confirm": "y"}).status_code == 403
    client.sign_in(coordinator)
    page = client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True)
    assert f"/people/{person.id}/data" in page and f"/people/{person.id}/erase" in page
    export = client.post(f"/people/{person.id}/data", data={"confirm": "y"})
    assert export.status_code == 200 and "Hodan Abdi" in export.get_data(as_text=True)
    assert client.post(f"/people/{person.id}/erase", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(User, person.id) is None
    assert [e.actor_id for e in _events(app, "person.exported")] == [coordinator.id]
    [erased] = _events(app, "person.erased")
    assert erased.actor_id == coordinator.id and erased.details["person_id"] == person.id


# --- the list to book from -------------------------------------------------------------------------------


def test_the_desk_books_from_a_list_with_places_in_words(app, client, coordinator, make_user, activity, course) -> None:
    person = _desk_person(make_user, "Yonas Tesfay")
    client.sign_in(coordinator)
    page = main(client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True))
    assert "2 places free" in page and "(2 / 2)" not in page and "<select" not in page
    courses, activities = page.split("<h3>Courses</h3>")[1].split("<h3>Activities</h3>")
    assert "Business English" in courses and "Bike repair café" not in courses
    assert courses.count("Business English</h4>") == 1  # one course, three sessions: once
    assert "3 sessions to come" in courses
    assert "Bike repair café" in activities and "Business English" not in activities
    # a search by words of the title, without script (a GET form)
    found = main(client.get(f"/desk/people/{person.id}?q=bike", headers=EN).get_data(as_text=True))
    assert "Bike repair café" in found and "Business English" not in found and "No course found" in found
    # booking from the list
    response = client.post(
        f"/desk/people/{person.id}?q=bike", data={"target": f"session-{activity['session_id']}", "waitlist": "y"}
    )
    assert response.status_code == 302 and "q=bike" in response.headers["Location"]
    after = main(client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True))
    assert "1 place free" in after and "They are booked on this already" in after


def test_a_full_session_offers_the_waiting_list_in_words(app, client, coordinator, make_user, activity) -> None:
    for name in ("Amal Yusuf", "Sara Haile"):
        _book(app, _desk_person(make_user, name), session_id=activity["session_id"])
    person = _desk_person(make_user, "Yonas Tesfay")
    client.sign_in(coordinator)
    page = main(client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True))
    assert "Full: waiting list open" in page and "Put them on the waiting list" in page


@pytest.mark.parametrize("target", ["offer-abc", "session-", "<script>", "session-99999999", "x" * 100, ""])
def test_a_forged_choice_on_the_list_is_refused(app, client, coordinator, make_user, target) -> None:
    person = _desk_person(make_user, "Yonas Tesfay")
    client.sign_in(coordinator)
    response = client.post(f"/desk/people/{person.id}", data={"target": target, "waitlist": "y"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_a_hostile_search_is_refused_or_shown_as_text(app, client, coordinator, make_user) -> None:
    person = _desk_person(make_user, "Yonas Tesfay")
    client.sign_in(coordinator)
    assert client.get(f"/desk/people/{person.id}?q=" + "a" * 500).status_code == 422
    for query in ("<script>alert(1)</script>", "%_%", "'; DROP TABLE offers;--", "\x00"):
        response = client.get(f"/desk/people/{person.id}", query_string={"q": query, "cpage": "2"})
        assert response.status_code in {200, 422}, query
        assert "<script>alert(1)" not in response.get_data(as_text=True)
    for page in ("-1", "x", "9" * 30):  # a page that cannot be: the project's 400 with a message
        assert client.get(f"/desk/people/{person.id}", query_string={"spage": page}).status_code == 400


# --- cancelling for someone ----------------------------------------------------------------------------------


def test_the_desk_cancel_asks_first_and_does_not_thank_the_coordinator(
    app, client, coordinator, make_user, activity
) -> None:
    person = _desk_person(make_user, "Yonas Tesfay", "+31611112222")
    reference = _book(app, person, session_id=activity["session_id"])
    client.sign_in(coordinator)
    page = main(client.get(f"/desk/people/{person.id}", headers=EN).get_data(as_text=True))
    assert f"/desk/bookings/{reference}/cancel" in page
    question = client.get(f"/desk/bookings/{reference}/cancel", headers=EN)
    assert question.status_code == 200 and "Cancel the place of Yonas Tesfay?" in question.get_data(as_text=True)
    # the participant's own cancel link, used by the coordinator, leads here too
    assert (
        client.post(f"/bookings/{reference}/cancel").headers["Location"].endswith(f"/desk/bookings/{reference}/cancel")
    )
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.status).where(Booking.reference == reference)) == (
            BookingStatus.CONFIRMED
        )
    response = client.post(f"/desk/bookings/{reference}/cancel", data={"asked": "yes"}, headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/desk/people/{person.id}")
    after = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Cancelled for Yonas Tesfay" in after and "Thank you for letting us know" not in after
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.reference == reference))
        assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, CancelReason.PARTICIPANT)


def test_the_desk_cancel_refuses_the_wrong_user_and_a_forged_answer(
    app, client, coordinator, volunteer, make_user, activity
) -> None:
    person = _desk_person(make_user, "Yonas Tesfay")
    reference = _book(app, person, session_id=activity["session_id"])
    client.sign_in(volunteer)
    assert client.post(f"/desk/bookings/{reference}/cancel", data={"asked": "yes"}).status_code == 403
    client.sign_in(coordinator)
    for answer in ("maybe", "", "<script>"):
        assert client.post(f"/desk/bookings/{reference}/cancel", data={"asked": answer}).status_code == 422
    assert client.get("/desk/bookings/NOPE-0000/cancel").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.status).where(Booking.reference == reference)) == (
            BookingStatus.CONFIRMED
        )


@pytest.mark.postgres
def test_a_merge_keeps_one_mark_per_session_the_one_that_says_present(app, coordinator, make_user) -> None:
    from einstein.attendance.models import Attendance, AttendanceStatus
    from einstein.models import OfferKind
    from einstein.privacy import merge as merging
    from tests import factories
    from tests.support.clock import days_ahead

    first = _desk_person(make_user, "Amal Yusuf")
    second = _desk_person(make_user, "amal yusuf")
    with app.app_context():
        offer = factories.OfferFactory(kind=OfferKind.COURSE, capacity=5, title="Dutch for beginners")
        factories.SessionFactory(offer=offer, starts_at=days_ahead(7))
        offer_id = offer.id
    refs = [_book(app, person, offer_id=offer_id) for person in (first, second)]
    with app.app_context():  # a session held last week, where the two records were marked apart
        held_id = factories.SessionFactory(offer=db.session.get_one(Offer, offer_id), starts_at=days_ahead(-7)).id
        session = db.session.get_one(OfferSession, held_id)
        for ref, status in zip(refs, (AttendanceStatus.ABSENT, AttendanceStatus.PRESENT), strict=True):
            booking = db.session.scalar(sa.select(Booking).where(Booking.reference == ref))
            db.session.add(Attendance(session_id=held_id, booking_id=booking.id, status=status))
        session.present_count, session.absent_count = 1, 1
        db.session.commit()
        merged = merging.merge(
            db.session.get_one(User, first.id),
            db.session.get_one(User, second.id),
            by=db.session.get_one(User, coordinator.id),
            chosen={},
        )
        db.session.commit()
        assert merged.person.id == first.id and merged.given_up == [refs[1]]
        [mark] = db.session.scalars(sa.select(Attendance)).all()
        kept = db.session.scalar(sa.select(Booking).where(Booking.reference == refs[0]))
        assert (mark.booking_id, mark.status) == (kept.id, AttendanceStatus.PRESENT)
        session = db.session.get_one(OfferSession, held_id)
        assert (session.present_count, session.absent_count) == (1, 0)
        assert db.session.get_one(Offer, offer_id).confirmed_count == 1
