"""Booking at the desk for people without e-mail, the printed card, and who sees whom."""

from __future__ import annotations

import sqlalchemy as sa

from einstein.db import db
from einstein.models import Audience, Booking, BookingSource, BookingStatus, User
from tests.support.booking import book
from tests.support.hostile import HOSTILE_LINES
from tests.support.html import main

NEW_PERSON = {
    "name": "Yonas Tesfay",
    "phone": "06 1111 2222",
    "email": "",
    "locale": "ti",
    "audience": "newcomer",
    "consent": "y",
}


def test_register_and_book_someone_at_the_desk_in_four_steps(app, client, coordinator, activity) -> None:
    client.sign_in(coordinator)
    assert client.get("/desk?q=Yonas").status_code == 200
    response = client.post("/desk/people/new", data=NEW_PERSON)
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalar(sa.select(User).where(User.name == "Yonas Tesfay"))
        assert person.phone == "+31611112222" and person.password_hash is None
        assert person.consent_recorded_by_id == coordinator.id and person.consent_recorded_at is not None
        person_id = person.id
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"session-{activity['session_id']}" in page
    assert (
        client.post(
            f"/desk/people/{person_id}", data={"target": f"session-{activity['session_id']}", "waitlist": "y"}
        ).status_code
        == 302
    )
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking))
        assert (booking.user_id, booking.source, booking.booked_by_id, booking.status) == (
            person_id,
            BookingSource.DESK,
            coordinator.id,
            BookingStatus.CONFIRMED,
        )
        reference = booking.reference
    # the card: in the participant's language, with the reference as a QR code
    card = client.get(f"/bookings/{reference}/card")
    assert card.status_code == 200
    html = card.get_data(as_text=True)
    # the card in Yonas's language; the page around it (menu, buttons) in the coordinator's
    assert '<article class="booking-card" lang="ti" dir="ltr">' in html and '<html lang="en"' in html
    assert reference in html and "<svg" in html and "Bike repair café" in html
    # and the desk finds them again by phone
    assert "Yonas Tesfay" in client.get("/desk?q=0611112222").get_data(as_text=True)


def test_a_card_in_arabic_reads_right_to_left(app, client, coordinator, make_user, activity) -> None:
    from einstein.bookings import services as bookings
    from einstein.models import OfferSession

    person = make_user(locale="ar")
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        booking = bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
        reference = booking.reference
    client.sign_in(coordinator)
    html = client.get(f"/bookings/{reference}/card", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<article class="booking-card" lang="ar" dir="rtl">' in html and '<html lang="en" dir="ltr">' in html


def test_no_account_without_consent(app, client, coordinator) -> None:
    client.sign_in(coordinator)
    response = client.post("/desk/people/new", data={**NEW_PERSON, "consent": ""}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "without consent we cannot make an account" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Yonas Tesfay")) == 0


def test_hostile_desk_input(app, client, coordinator) -> None:
    client.sign_in(coordinator)
    for value in HOSTILE_LINES.values():
        assert client.post("/desk/people/new", data={**NEW_PERSON, "name": value}).status_code == 422
    assert client.get("/desk?q=" + "%E2%80%AE" * 10).status_code == 200
    assert client.get("/desk?q=" + "x" * 500).status_code == 200


def test_a_phone_number_in_use_is_found_not_duplicated(app, client, coordinator, make_user) -> None:
    make_user(phone="+31611112222")
    client.sign_in(coordinator)
    response = client.post("/desk/people/new", data=NEW_PERSON, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Search for them instead" in response.get_data(as_text=True)


def test_a_tampered_desk_form_books_nothing(app, client, coordinator, participant, activity, course) -> None:
    client.sign_in(coordinator)
    for target in (
        "session-999999",
        "offer-999999",
        f"offer-{activity['offer_id']}",
        "nonsense",
        "session-",
        "<script>",
    ):
        response = client.post(f"/desk/people/{participant.id}", data={"target": target})
        assert response.status_code in {404, 422}, target
    assert client.post("/desk/people/999999", data={"target": f"session-{activity['session_id']}"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_volunteers_see_names_on_their_own_activity_only(
    app, client, make_user, volunteer, other_volunteer, participant, activity
) -> None:
    person = make_user(name="Hodan Abdi", email="hodan@example.org", phone="+31622223333", audience=Audience.NEWCOMER)
    client.sign_in(person)
    book(client, activity)
    url = f"/sessions/{activity['session_id']}/people"
    client.sign_in(volunteer)
    page = main(client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "Hodan Abdi" in page
    assert "hodan@example.org" not in page and "2222" not in page
    assert "newcomer" not in page.lower() and "new in the netherlands" not in page.lower()
    client.sign_in(other_volunteer)
    assert client.get(url).status_code == 403
    client.sign_in(participant)
    assert client.get(url).status_code == 403


def test_coordinators_see_everyones_lists(app, client, coordinator, make_user, activity) -> None:
    person = make_user(name="Hodan Abdi")
    client.sign_in(person)
    book(client, activity)
    client.sign_in(coordinator)
    assert "Hodan Abdi" in client.get(f"/sessions/{activity['session_id']}/people").get_data(as_text=True)
