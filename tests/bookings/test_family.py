"""Booking for the family: a parent adds the children (no accounts of their own), books them in one
go under the same rules as anyone, sees and cancels their places, and hears about them; the desk
does the same for someone without a password. Nobody else sees, books or cancels for them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.auth.models import AgeGroup
from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.db import db
from einstein.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    CancelReason,
    NotificationKind,
    OfferSession,
    Role,
    User,
)
from tests import factories
from tests.support.clock import days_ahead
from tests.support.hostile import GOOD_NAMES, HOSTILE_LINES
from tests.support.html import main
from tests.support.outbox import deliver, queued

EN = {"Accept-Language": "en"}
CHILD = {"age_group": "child", "locale": "ar", "consent": "y"}


def _add(client, name: str, **extra: Any) -> Any:
    return client.post("/my/household", data={**CHILD, "name": name, **extra}, headers=EN)


def _members(app, holder: Any) -> list[User]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(User).where(User.household_of_id == holder.id).order_by(User.id)))
        db.session.expunge_all()
        return found


def _family(app, client, holder: Any, *names: str) -> list[User]:
    client.sign_in(holder)
    for name in names:
        assert _add(client, name).status_code == 303
    return _members(app, holder)


def _bookings(app, session_id: int) -> list[Booking]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).where(Booking.session_id == session_id).order_by(Booking.id)))
        db.session.expunge_all()
        return rows


def _session(app, session_id: int) -> OfferSession:
    with app.app_context():
        session = db.session.get_one(OfferSession, session_id)
        db.session.expunge(session)
        return session


def _book_for(client, session_id: int, *who: str | int) -> Any:
    return client.post(
        f"/sessions/{session_id}/book", data={"household": "1", "who": [str(w) for w in who]}, headers=EN
    )


def _small_session(app, capacity: int, waitlist: bool = True) -> int:
    with app.app_context():
        return factories.SessionFactory(
            offer__capacity=capacity, offer__waitlist_enabled=waitlist, starts_at=days_ahead(4)
        ).id


# --- the household ---------------------------------------------------------------------------------


def test_a_parent_adds_their_children_with_consent_and_nothing_else_is_kept(app, client, participant) -> None:
    client.sign_in(participant)
    page = client.get("/my/household", headers=EN)
    assert page.status_code == 200 and "I may share this information for them" in page.get_data(as_text=True)
    # without the box ticked, nothing is kept, and the parent reads why in their language
    refused = _add(client, "Yusuf", consent="")
    assert refused.status_code == 422
    assert "without it we cannot keep their details" in main(refused.get_data(as_text=True))
    assert _members(app, participant) == []
    assert _add(client, "Yusuf", age_group="child").status_code == 303
    assert _add(client, "أمل يوسف", age_group="teen", locale="ti").status_code == 303
    yusuf, amal = _members(app, participant)
    assert (yusuf.age_group, amal.age_group, amal.locale) == (AgeGroup.CHILD, AgeGroup.TEEN, "ti")
    for member in (yusuf, amal):
        # no account of their own: no address, no number, no password, never signs in
        assert member.email is None and member.phone is None and member.password_hash is None
        assert not member.can_sign_in and member.role == Role.PARTICIPANT
        assert member.consent_recorded_by_id == participant.id and member.consent_recorded_at is not None
    listed = main(client.get("/my/household", headers=EN).get_data(as_text=True))
    assert "<bdi>أمل يوسف</bdi>" in listed and "Young person (12 to 17)" in listed


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_in_every_script_are_welcome(app, client, participant, name) -> None:
    client.sign_in(participant)
    assert _add(client, name).status_code == 303
    assert [m.name for m in _members(app, participant)] == [name]


@pytest.mark.parametrize("case", sorted(HOSTILE_LINES))
def test_a_hostile_name_is_refused_with_a_message(app, client, participant, case) -> None:
    client.sign_in(participant)
    response = _add(client, HOSTILE_LINES[case])
    assert response.status_code == 422
    assert "Please check the form" in response.get_data(as_text=True)
    assert _members(app, participant) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"age_group": "infant"},
        {"age_group": ""},
        {"age_group": "<script>"},
        {"locale": "xx"},
        {"locale": ""},
        {"consent": ""},
    ],
)
def test_a_wrong_form_is_refused_in_the_readers_language(app, client, participant, bad) -> None:
    client.sign_in(participant)
    response = client.post("/my/household", data={**CHILD, "name": "Yusuf", **bad}, headers={"Accept-Language": "nl"})
    assert response.status_code == 422
    assert 'lang="nl"' in response.get_data(as_text=True)
    assert _members(app, participant) == []


def test_a_household_has_a_limit(app, client, participant) -> None:
    from einstein.bookings.household import MAX_MEMBERS

    client.sign_in(participant)
    for i in range(MAX_MEMBERS):
        assert _add(client, f"Child {i}").status_code == 303
    response = _add(client, "One too many")
    assert response.status_code == 422 and "at most" in response.get_data(as_text=True)
    assert len(_members(app, participant)) == MAX_MEMBERS


def test_the_parent_corrects_and_removes_a_child_nobody_else_can(
    app, client, other_client, participant, other_participant, activity
) -> None:
    [yusuf] = _family(app, client, participant, "Yusf")
    # a typo corrected; consent is given again with the change
    assert client.get(f"/my/household/{yusuf.id}", headers=EN).status_code == 200
    changed = {"name": "Yusuf", "age_group": "teen", "locale": "nl", "consent": "y"}
    assert client.post(f"/my/household/{yusuf.id}", data={**changed, "consent": ""}, headers=EN).status_code == 422
    assert client.post(f"/my/household/{yusuf.id}", data=changed, headers=EN).status_code == 303
    [yusuf] = _members(app, participant)
    assert (yusuf.name, yusuf.age_group, yusuf.locale) == ("Yusuf", AgeGroup.TEEN, "nl")
    # someone else sees nothing, changes nothing, removes nothing: the pages do not exist for them
    other_client.sign_in(other_participant)
    for url in (f"/my/household/{yusuf.id}", f"/my/household/{yusuf.id}/remove"):
        assert other_client.get(url).status_code == 404
        assert other_client.post(url, data={**changed, "name": "Stolen"}).status_code == 404
    assert other_client.get("/my/household/999999").status_code == 404
    assert [m.name for m in _members(app, participant)] == ["Yusuf"]
    # the parent removes him, after a page that says what happens to his place
    assert _book_for(client, activity["session_id"], yusuf.id).status_code == 303
    page = client.get(f"/my/household/{yusuf.id}/remove", headers=EN).get_data(as_text=True)
    assert "coming booking is cancelled" in page
    assert client.post(f"/my/household/{yusuf.id}/remove", headers=EN).status_code == 303
    assert _members(app, participant) == []
    [booking] = _bookings(app, activity["session_id"])
    assert booking.user_id is None and booking.status == BookingStatus.CANCELLED
    assert _session(app, activity["session_id"]).confirmed_count == 0


def test_a_household_member_has_no_household_of_their_own(app, client, participant) -> None:
    from einstein.bookings import household

    [yusuf] = _family(app, client, participant, "Yusuf")
    with app.app_context():
        member = db.session.get_one(User, yusuf.id)
        with pytest.raises(household.HouseholdError):
            household.add_member(member, name="X", age_group=AgeGroup.CHILD, locale="nl", recorded_by=member)


# --- booking for the family --------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_parent_books_three_children_into_two_places_and_the_third_waits(app, client, participant, smtp) -> None:
    session_id = _small_session(app, capacity=3)
    with app.app_context():  # someone else took one of the three places
        other = factories.UserFactory()
        session = db.session.get_one(OfferSession, session_id)
        bookings.book(other, Target(session.offer, session))
        db.session.commit()
        other_id = other.id
    amal, yusuf, noor = _family(app, client, participant, "Amal", "Yusuf", "Noor")
    offer_page = client.get(f"/offers/{_session(app, session_id).offer_id}", headers=EN).get_data(as_text=True)
    assert "Who is coming?" in offer_page and "<bdi>Noor</bdi> (Child (under 12))" in offer_page
    # any box will do: none is marked required (the browser would then insist on every one)
    assert not re.search(r'<input[^>]*name="who"[^>]*required', offer_page)
    smtp.reset()
    response = _book_for(client, session_id, amal.id, yusuf.id, noor.id)
    assert response.status_code == 303 and response.headers["Location"].endswith("/my/bookings")
    rows = [b for b in _bookings(app, session_id) if b.user_id != other_id]
    assert [(b.user_id, b.status) for b in rows] == [
        (amal.id, BookingStatus.CONFIRMED),
        (yusuf.id, BookingStatus.CONFIRMED),
        (noor.id, BookingStatus.WAITLISTED),
    ]
    assert all(b.booked_by_id == participant.id for b in rows)
    session = _session(app, session_id)
    assert (session.confirmed_count, session.waitlist_count) == (3, 1)
    mine = main(client.get("/my/bookings", headers=EN).get_data(as_text=True))
    assert "Amal has a place" in mine and "Noor is on the waiting list, number 1." in mine
    for name in ("Amal", "Yusuf", "Noor"):
        assert f"<bdi>{name}</bdi>" in mine
    # every message about them goes to the parent, by the parent's channel, and names the child
    told = queued(app, NotificationKind.BOOKING_CONFIRMED) + queued(app, NotificationKind.BOOKING_WAITLISTED)
    told = [n for n in told if n.booking_id in {b.id for b in rows}]
    assert len(told) == 3 and {n.user_id for n in told} == {participant.id}
    reminders = [n for n in queued(app, NotificationKind.REMINDER) if n.booking_id in {b.id for b in rows}]
    assert reminders and {n.user_id for n in reminders} == {participant.id}
    deliver(app)
    texts = [m.get_body(("plain",)).get_content() for m in smtp.to(participant.email)]
    assert any("This is about Noor, of your household." in text for text in texts)
    assert any("This is about Amal, of your household." in text for text in texts)


def test_the_people_are_booked_in_the_order_chosen_and_me_too(app, client, participant) -> None:
    session_id = _small_session(app, capacity=2)
    amal, yusuf = _family(app, client, participant, "Amal", "Yusuf")
    assert _book_for(client, session_id, yusuf.id, "me", amal.id).status_code == 303
    rows = {b.user_id: b for b in _bookings(app, session_id)}
    assert rows[yusuf.id].status == rows[participant.id].status == BookingStatus.CONFIRMED
    assert rows[amal.id].status == BookingStatus.WAITLISTED
    assert rows[participant.id].booked_by_id is None  # the holder booked for themselves


def test_without_a_waiting_list_those_who_do_not_fit_are_refused_by_name(app, client, participant) -> None:
    session_id = _small_session(app, capacity=1, waitlist=False)
    amal, yusuf = _family(app, client, participant, "Amal", "Yusuf")
    assert _book_for(client, session_id, amal.id, yusuf.id).status_code == 303
    [booking] = _bookings(app, session_id)
    assert booking.user_id == amal.id
    mine = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert "Yusuf: sorry, there is no place left and no waiting list." in mine
    # nobody fits any more: refused, with the reason per person, nothing written
    response = _book_for(client, session_id, yusuf.id)
    assert response.status_code == 409
    assert "Yusuf: sorry, there is no place left" in main(response.get_data(as_text=True))
    assert len(_bookings(app, session_id)) == 1


def test_booking_someone_twice_changes_nothing(app, client, participant, activity) -> None:
    [amal] = _family(app, client, participant, "Amal")
    assert _book_for(client, activity["session_id"], amal.id).status_code == 303
    again = _book_for(client, activity["session_id"], amal.id, amal.id)
    assert again.status_code == 409 and "Amal already has a place." in again.get_data(as_text=True)
    assert len(_bookings(app, activity["session_id"])) == 1
    assert _session(app, activity["session_id"]).confirmed_count == 1


@pytest.mark.parametrize(
    "who",
    [[], [""], ["999999"], ["<script>"], ["-1"], ["1e3"], ["me\u202e"], ["9" * 40]],
)
def test_a_wrong_choice_books_nobody_and_says_why(app, client, participant, activity, who) -> None:
    _family(app, client, participant, "Amal")
    response = client.post(f"/sessions/{activity['session_id']}/book", data={"household": "1", "who": who}, headers=EN)
    assert response.status_code == 422
    body = main(response.get_data(as_text=True))
    assert "Please check the form" in body and "Who is coming?" in body
    assert _bookings(app, activity["session_id"]) == []


def test_nobody_books_for_someone_elses_child(
    app, client, other_client, participant, other_participant, coordinator, activity
) -> None:
    [amal] = _family(app, client, participant, "Amal")
    other_client.sign_in(other_participant)
    response = _book_for(other_client, activity["session_id"], amal.id)
    assert response.status_code == 422
    other_client.sign_in(coordinator)  # not at the desk: a coordinator's own form has only themselves
    assert _book_for(other_client, activity["session_id"], amal.id).status_code == 422
    assert _bookings(app, activity["session_id"]) == []


def test_the_parent_sees_and_cancels_each_place_on_its_own_nobody_else_can(
    app, client, other_client, participant, other_participant, volunteer, activity, smtp
) -> None:
    amal, yusuf = _family(app, client, participant, "Amal", "Yusuf")
    assert _book_for(client, activity["session_id"], amal.id, yusuf.id).status_code == 303
    first, second = _bookings(app, activity["session_id"])
    # the booking card opens for the parent, in the child's language
    card = client.get(f"/bookings/{first.reference}/card", headers=EN)
    assert card.status_code == 200
    # the organiser's list shows the children like anyone else
    organiser = other_client
    organiser.sign_in(volunteer)
    people = organiser.get(f"/sessions/{activity['session_id']}/people", headers=EN).get_data(as_text=True)
    assert "Amal" in people and "Yusuf" in people
    # someone else: the booking does not exist for them
    other_client.sign_in(other_participant)
    for url in (f"/bookings/{first.reference}/cancel", f"/bookings/{first.reference}/card"):
        assert other_client.get(url).status_code == 404
    assert other_client.post(f"/bookings/{first.reference}/cancel").status_code == 404
    # the parent cancels Amal's place only, after a page that names her
    page = client.get(f"/bookings/{first.reference}/cancel", headers=EN).get_data(as_text=True)
    assert "For: <bdi>Amal</bdi>" in page
    assert client.post(f"/bookings/{first.reference}/cancel", headers=EN).status_code == 303
    first, second = _bookings(app, activity["session_id"])
    assert first.status == BookingStatus.CANCELLED and first.cancel_reason == CancelReason.PARTICIPANT
    assert second.status == BookingStatus.CONFIRMED
    [told] = [n for n in queued(app, NotificationKind.BOOKING_CANCELLED) if n.booking_id == first.id]
    assert told.user_id == participant.id


def test_what_the_parent_did_for_the_children_is_in_the_audit_trail(app, client, participant, activity) -> None:
    [amal] = _family(app, client, participant, "Amal")
    _book_for(client, activity["session_id"], amal.id)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "booking.made_for")).all()
        assert (event.actor_id, event.subject_id) == (participant.id, amal.id)


def test_someone_without_a_household_sees_the_usual_button(app, client, participant, activity) -> None:
    client.sign_in(participant)
    page = client.get(f"/offers/{activity['offer_id']}", headers=EN).get_data(as_text=True)
    assert "Who is coming?" not in page and "Book a place" in page


# --- their data --------------------------------------------------------------------------------------


def test_the_parents_data_export_holds_the_children_and_their_bookings(app, client, participant, activity) -> None:
    [amal] = _family(app, client, participant, "Amal")
    _book_for(client, activity["session_id"], amal.id)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    [member] = data["household"]
    assert (member["name"], member["age_group"], member["language"]) == ("Amal", "child", "ar")
    assert [b["status"] for b in member["bookings"]] == ["confirmed"]


@pytest.mark.postgres
def test_deleting_the_parents_account_deletes_the_children_and_frees_their_places(
    app, client, participant, make_user, activity
) -> None:
    amal, yusuf = _family(app, client, participant, "Amal", "Yusuf")
    _book_for(client, activity["session_id"], amal.id, yusuf.id)
    waiting = make_user()
    client.sign_in(waiting)
    client.post(f"/sessions/{activity['session_id']}/book", data={"waitlist": "1"})
    with app.app_context():
        from einstein.privacy import services as privacy

        privacy.delete_account(db.session.get_one(User, participant.id))
        db.session.commit()
        assert db.session.get(User, amal.id) is None and db.session.get(User, yusuf.id) is None
    rows = _bookings(app, activity["session_id"])
    theirs = [b for b in rows if b.user_id != waiting.id]
    # their bookings stay as anonymous counts, as a deleted account's do; a place went to the list
    assert [b.user_id for b in theirs] == [None, None]
    assert all(b.cancel_reason == CancelReason.ACCOUNT_DELETED for b in theirs)
    assert [b.status for b in rows if b.user_id == waiting.id] == [BookingStatus.CONFIRMED]


# --- the desk ----------------------------------------------------------------------------------------


def test_the_desk_adds_a_child_to_someone_without_a_password_and_books_her(
    app, client, coordinator, make_user, activity
) -> None:
    mother = make_user(name="Hiba", password_hash=None, email=None, phone="+31611112222", locale="ar")
    client.sign_in(coordinator)
    url = f"/desk/people/{mother.id}/household"
    assert client.get(url, headers=EN).status_code == 200
    assert client.post(url, data={**CHILD, "name": "Sara", "consent": ""}, headers=EN).status_code == 422
    assert client.post(url, data={**CHILD, "name": "Sara"}, headers=EN).status_code == 303
    [sara] = _members(app, mother)
    assert sara.consent_recorded_by_id == coordinator.id
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert f'href="/desk/people/{sara.id}"' in page
    response = client.post(
        f"/desk/people/{sara.id}", data={"target": f"session-{activity['session_id']}", "waitlist": "y"}, headers=EN
    )
    assert response.status_code == 302
    [booking] = _bookings(app, activity["session_id"])
    assert (booking.user_id, booking.booked_by_id) == (sara.id, coordinator.id)
    # the mother hears of it: by text, her phone being the one the desk verified
    [told] = [n for n in queued(app, NotificationKind.BOOKING_CONFIRMED) if n.booking_id == booking.id]
    assert told.user_id == mother.id
    # the mother's desk page shows her daughter's booking
    assert "<bdi>Sara</bdi>" in client.get(f"/desk/people/{mother.id}", headers=EN).get_data(as_text=True)


def test_the_desk_household_is_only_for_people_who_cannot_sign_in(
    app, client, coordinator, participant, make_user
) -> None:
    client.sign_in(coordinator)
    # someone with a password adds their household themselves
    url = f"/desk/people/{participant.id}/household"
    assert client.get(url).status_code == 403
    assert client.post(url, data={**CHILD, "name": "Sara"}).status_code == 403
    assert client.get("/desk/people/999999/household").status_code == 404
    assert _members(app, participant) == []
    # and a household member has no household of their own
    mother = make_user(password_hash=None, email=None)
    client.post(f"/desk/people/{mother.id}/household", data={**CHILD, "name": "Sara"})
    [sara] = _members(app, mother)
    assert client.get(f"/desk/people/{sara.id}/household").status_code == 403
    # nor does the desk give her an address or a number, or merge her into someone
    edited = {"name": "Sara", "phone": "0612345678", "email": "sara@example.org", "locale": "ar"}
    assert client.post(f"/desk/people/{sara.id}/edit", data={**edited, "audience": "unsaid"}).status_code == 403
    assert client.get(f"/desk/people/{sara.id}/merge").status_code == 403
    [sara] = _members(app, mother)
    assert sara.phone is None and sara.email is None


def test_the_desk_books_a_mother_and_her_two_children_at_once_and_the_third_waits(
    app, client, coordinator, make_user, activity
) -> None:
    mother = make_user(name="Hiba", password_hash=None, email=None, phone="+31611113333", locale="ar")
    client.sign_in(coordinator)
    for name in ("Sara", "Omar"):
        client.post(f"/desk/people/{mother.id}/household", data={**CHILD, "name": name})
    sara, omar = _members(app, mother)
    page = client.get(f"/desk/people/{mother.id}", headers=EN).get_data(as_text=True)
    assert "Who is coming?" in page and f'value="{omar.id}"' in page
    key = f"session-{activity['session_id']}"
    # the two places of the session: Sara and Omar, in the order ticked; the mother waits
    response = client.post(
        f"/desk/people/{mother.id}", data={"target": key, "waitlist": "y", "who": [str(sara.id), str(omar.id), "me"]}
    )
    assert response.status_code == 302
    rows = {b.user_id: b for b in _bookings(app, activity["session_id"])}
    assert rows[sara.id].status == rows[omar.id].status == BookingStatus.CONFIRMED
    assert rows[mother.id].status == BookingStatus.WAITLISTED
    assert {b.booked_by_id for b in rows.values()} == {coordinator.id}
    told = [n for n in queued(app) if n.booking_id in {b.id for b in rows.values()} and n.kind != "reminder"]
    assert len(told) == 3 and {n.user_id for n in told} == {mother.id}
    # the desk page shows all three, each with their name
    page = client.get(f"/desk/people/{mother.id}", headers=EN).get_data(as_text=True)
    assert "<bdi>Sara</bdi>" in page and "<bdi>Omar</bdi>" in page


@pytest.mark.parametrize("who", [["999999"], ["<script>"], [""], ["me", "-1"]])
def test_the_desk_books_nobody_for_a_wrong_choice(app, client, coordinator, make_user, activity, who) -> None:
    mother = make_user(name="Hiba", password_hash=None, email=None)
    stranger_child = _family(app, client, make_user(), "Not hers")[0]
    client.sign_in(coordinator)
    client.post(f"/desk/people/{mother.id}/household", data={**CHILD, "name": "Sara"})
    who = [str(stranger_child.id) if w == "999999" else w for w in who]  # someone else's child, too
    response = client.post(
        f"/desk/people/{mother.id}",
        data={"target": f"session-{activity['session_id']}", "who": who},
        headers=EN,
    )
    assert response.status_code == 422
    assert "Please check the form" in main(response.get_data(as_text=True))
    assert _bookings(app, activity["session_id"]) == []


def test_the_parents_calendar_feed_holds_the_childrens_sessions_once(app, client, participant) -> None:
    amal, yusuf = _family(app, client, participant, "Amal", "Yusuf")
    children_only = _small_session(app, capacity=5)
    together = _small_session(app, capacity=5)
    assert _book_for(client, children_only, amal.id, yusuf.id).status_code == 303
    assert _book_for(client, together, "me", amal.id).status_code == 303
    elsewhere = _small_session(app, capacity=5)
    with app.app_context():
        token = db.session.get_one(User, participant.id).calendar_token
        assert token is not None
        bookings.book(factories.UserFactory(), Target.of_session(db.session.get_one(OfferSession, elsewhere)))
        db.session.commit()
    feed = client.get(f"/calendar/{token}.ics").get_data(as_text=True)
    uids = re.findall(r"^UID:(.*)$", feed, re.M)
    assert len(uids) == 2 and len(set(uids)) == 2  # both sessions, each once; nobody else's
