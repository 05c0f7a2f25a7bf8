"""Nothing a volunteer who is not trusted writes reaches participants before a coordinator saw it.

The attack (security review 2026, item 1): an activity is approved, then its volunteer rewrites
the title, the description, the contact, the place or a translation ("free phones: bring your
BSN and V-number"), and the new words used to be online at once.
"""

from __future__ import annotations

import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.db import db
from einstein.i18n import TIMEZONE
from einstein.models import AuditEvent, Location, NotificationKind, Offer, OfferRevision, OfferSession, User
from tests import factories
from tests.courses.conftest import local_date
from tests.support.outbox import queued

SCAM = "Free phones today! Bring your BSN and V-number"


def _approved_activity(app, volunteer, **offer) -> dict:
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id),
            offer__title="Samen koken",
            offer__language="nl",
            offer__contact="Samir, 06 1234 5678",
            **{f"offer__{k}": v for k, v in offer.items()},
        )
        return {"offer_id": session.offer_id, "session_id": session.id, "location_id": session.location_id}


def _edit_offer(client, world, offer_form, **change):
    data = offer_form(location_id=str(world["location_id"]), new_place_name="", new_place_address="", **change)
    return client.post(f"/offers/{world['offer_id']}/edit", data=data, headers={"Accept-Language": "en"})


def _public_page(app, world, lang="nl") -> str:
    reader = app.test_client()
    return reader.get(f"/offers/{world['offer_id']}", headers={"Accept-Language": lang}).get_data(as_text=True)


def test_new_words_wait_for_a_coordinator_and_the_approved_ones_stay_online(
    app, client, volunteer, coordinator, offer_form
) -> None:
    world = _approved_activity(app, volunteer)
    client.sign_in(volunteer)
    response = _edit_offer(client, world, offer_form, title=SCAM, description=SCAM, contact=SCAM, capacity="30")
    assert response.status_code == 302
    page = _public_page(app, world) + app.test_client().get("/").get_data(as_text=True)
    assert "BSN" not in page and "Samen koken" in page
    with app.app_context():
        offer = db.session.get(Offer, world["offer_id"])
        assert (offer.title, offer.contact) == ("Samen koken", "Samir, 06 1234 5678")
        assert "bsn" not in offer.search_text  # the search does not find the held words either
        assert offer.capacity == 30  # places are no words: they change at once
    # the volunteer goes on from what they proposed
    assert SCAM in client.get(f"/offers/{world['offer_id']}/edit").get_data(as_text=True)
    # the coordinator sees both versions side by side
    client.sign_in(coordinator)
    review = client.get("/review", headers={"Accept-Language": "en"}).get_data(as_text=True)
    changes = review.split('id="changes"')[1]
    assert "Samen koken" in changes and SCAM in changes and "Online now" in changes and "Proposed" in changes


def test_rejected_words_never_reach_participants(app, client, volunteer, coordinator, offer_form) -> None:
    world = _approved_activity(app, volunteer)
    client.sign_in(volunteer)
    _edit_offer(client, world, offer_form, title=SCAM)
    with app.app_context():
        revision_id = db.session.scalar(sa.select(OfferRevision.id))
    client.sign_in(coordinator)
    response = client.post(f"/revisions/{revision_id}/reject", data={"reason": "Looks like a scam."})
    assert response.status_code == 303
    assert "BSN" not in _public_page(app, world)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "revision.rejected")).all()
        assert (event.actor_id, event.subject_id, event.offer_id) == (coordinator.id, volunteer.id, world["offer_id"])


def test_approved_words_go_online(app, client, volunteer, coordinator, offer_form) -> None:
    world = _approved_activity(app, volunteer)
    client.sign_in(volunteer)
    _edit_offer(client, world, offer_form, title="Samen koken en eten")
    with app.app_context():
        revision_id = db.session.scalar(sa.select(OfferRevision.id))
    client.sign_in(coordinator)
    assert client.post(f"/revisions/{revision_id}/approve").status_code == 303
    assert "Samen koken en eten" in _public_page(app, world)
    # deciding twice is a clear no, not an error
    again = client.post(f"/revisions/{revision_id}/approve", follow_redirects=True, headers={"Accept-Language": "en"})
    assert "already decided" in again.get_data(as_text=True)


def test_a_translation_waits_too(app, client, volunteer, coordinator) -> None:
    world = _approved_activity(app, volunteer)
    client.sign_in(volunteer)
    response = client.post(f"/offers/{world['offer_id']}/translations/ar", data={"title": SCAM, "description": SCAM})
    assert response.status_code == 302
    assert "BSN" not in _public_page(app, world, lang="ar")
    client.sign_in(coordinator)
    review = client.get("/review", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert SCAM in review.split('id="changes"')[1]


def test_a_new_place_cannot_be_slipped_into_a_session(app, client, volunteer, make_user) -> None:
    world = _approved_activity(app, volunteer)
    client.sign_in(volunteer)
    start = local_date(5)
    response = client.post(
        f"/sessions/{world['session_id']}/edit",
        data={
            "day": start.isoformat(),
            "start_time": "14:00",
            "end_time": "16:00",
            "location_id": "",
            "new_place_name": SCAM,
            "new_place_address": "Achter het station 1",
            "capacity": "10",
            "languages": ["nl"],
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "needs a coordinator" in response.get_data(as_text=True)
    assert "BSN" not in _public_page(app, world)


def test_a_place_typed_into_a_waiting_activity_is_not_offered_to_others(
    app, client, volunteer, other_volunteer, offer_form
) -> None:
    client.sign_in(volunteer)
    client.post("/offers/new/activity", data=offer_form(new_place_name=SCAM, new_place_address="Achter het station 1"))
    with app.app_context():
        place = db.session.scalar(sa.select(Location).where(Location.name == SCAM))
        assert place is not None and place.approved_at is None
    client.sign_in(other_volunteer)
    form = client.get("/offers/new/activity").get_data(as_text=True)
    assert "BSN" not in form


def test_a_new_time_goes_out_at_once_and_people_are_told(app, client, volunteer, make_user) -> None:
    person = make_user()
    world = _approved_activity(app, volunteer)
    with app.app_context():
        session = db.session.get(OfferSession, world["session_id"])
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    client.sign_in(volunteer)
    start = local_date(6)
    response = client.post(
        f"/sessions/{world['session_id']}/edit",
        data={
            "day": start.isoformat(),
            "start_time": "11:00",
            "end_time": "13:00",
            "location_id": str(world["location_id"]),
            "capacity": "10",
            "languages": ["nl"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        moved = db.session.get(OfferSession, world["session_id"])
        assert moved.starts_at.astimezone(TIMEZONE).strftime("%H:%M") == "11:00"
        assert moved.starts_at.astimezone(TIMEZONE).date() == start
    assert len(queued(app, NotificationKind.SESSION_CHANGED)) == 1


def test_a_trusted_volunteers_words_go_online_at_once(app, client, trusted_volunteer, offer_form) -> None:
    world = _approved_activity(app, trusted_volunteer)
    client.sign_in(trusted_volunteer)
    _edit_offer(client, world, offer_form, title="Samen bakken")
    assert "Samen bakken" in _public_page(app, world)


def test_coordinators_approving_an_activity_approve_its_place(app, client, volunteer, coordinator, offer_form) -> None:
    client.sign_in(volunteer)
    client.post(
        "/offers/new/activity", data=offer_form(new_place_name="Wijkcentrum Oog in Al", new_place_address="Oog in Al 1")
    )
    with app.app_context():
        offer = db.session.scalar(sa.select(Offer).where(Offer.title == "Samen koken"))
        offer_id = offer.id
        assert offer.location.approved_at is None
    client.sign_in(coordinator)
    client.post(f"/offers/{offer_id}/approve")
    with app.app_context():
        assert db.session.get(Offer, offer_id).location.approved_at is not None
