"""The offer page signed in: its shared part (the offer's words, the sessions with their dates,
places and labels) comes from the cache, each person's bookings and buttons are their own, and a
booking, a cancellation, a promotion or an edit shows at once."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_login import login_user

from einstein.bookings import queries
from einstein.bookings import services as bookings
from einstein.courses.offer_page import REFERENCE_SLOT
from einstein.db import db
from einstein.extensions import cache
from einstein.models import Booking, BookingStatus, Offer, OfferKind, OfferSession, User
from tests import factories
from tests.support.booking import book
from tests.support.clock import days_ahead
from tests.support.html import main
from tests.support.queries import count_queries

# these tests ask for a page twice and expect the second answer from the cache
pytestmark = pytest.mark.usefixtures("steady_cache_minute")

EN = {"Accept-Language": "en"}
#: A form token is signed with the second it was made in: two requests may differ there alone.
TOKEN = re.compile(r'(name="csrf_token" value=")[^"]+"')


def _without_tokens(page: str) -> str:
    return TOKEN.sub(r'\1…"', page)


def _page(app, client, offer_id: int) -> tuple[str, int]:
    """The page as the person sees it, and how many SQL statements it took."""
    with count_queries(app) as statements:
        response = client.get(f"/offers/{offer_id}", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(statements)


def _fresh_and_cached(app, client, offer_id: int) -> tuple[str, str]:
    """The page rendered with nothing in the cache, then the same page with its shared part cached."""
    client.get(f"/offers/{offer_id}", headers=EN)  # shows (and so ends) any message waiting
    with app.app_context():
        cache.clear()
    fresh, fresh_statements = _page(app, client, offer_id)
    cached, cached_statements = _page(app, client, offer_id)
    assert cached_statements < fresh_statements  # the second came from the cache
    return _without_tokens(fresh), _without_tokens(cached)


def _activity(capacity: int = 1, sessions: int = 3) -> tuple[int, list[int]]:
    offer = factories.OfferFactory(kind=OfferKind.ACTIVITY, title="Walking group", capacity=capacity)
    made = [factories.SessionFactory(offer=offer, starts_at=days_ahead(2 + 7 * week)) for week in range(sessions)]
    return offer.id, [s.id for s in made]


def test_the_page_from_the_cache_is_the_page_made_fresh_for_each_person_and_state(
    app, client, other_client, participant, other_participant
) -> None:
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    with app.app_context():
        activity, sessions = _activity(capacity=1)
        course = factories.OfferFactory(kind=OfferKind.COURSE, title="Dutch for beginners", capacity=1)
        factories.SessionFactory(offer=course, starts_at=days_ahead(3))
        course_id = course.id
    anonymous = app.test_client()
    for offer_id in (activity, course_id):
        for who in (client, other_client, anonymous):
            fresh, cached = _fresh_and_cached(app, who, offer_id)
            assert cached == fresh
    # one has a place, the other waits: each sees their own state, from the cache as made fresh
    assert book(client, {"session_id": sessions[0]}).status_code == 303
    assert book(other_client, {"session_id": sessions[0]}, waitlist=True).status_code == 303
    assert book(client, {"offer_id": course_id}).status_code == 303
    for offer_id in (activity, course_id):
        for who in (client, other_client):
            fresh, cached = _fresh_and_cached(app, who, offer_id)
            assert cached == fresh
    mine, _ = _page(app, client, activity)
    theirs, _ = _page(app, other_client, activity)
    assert "You have a place" in mine and "You are on the waiting list" not in mine
    assert "You are on the waiting list, number 1" in theirs and "You have a place" not in theirs
    # each person's form token is their own, never the one the shared part was made with
    token = 'name="csrf_token" value="'
    assert mine.split(token)[1].split('"')[0] != theirs.split(token)[1].split('"')[0]


def test_a_booking_a_cancellation_a_promotion_and_an_edit_show_at_once(
    app, client, other_client, participant, other_participant
) -> None:
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    with app.app_context():
        activity, sessions = _activity(capacity=1, sessions=1)
    for who in (client, other_client):  # both pages' shared part is cached now
        _page(app, who, activity)
        assert "1 place free" in main(_page(app, who, activity)[0])

    assert book(client, {"session_id": sessions[0]}).status_code == 303  # a booking
    mine, theirs = main(_page(app, client, activity)[0]), main(_page(app, other_client, activity)[0])
    assert "You have a place" in mine and "Full: waiting list open" in mine
    assert "Join the waiting list (you would be number 1)" in theirs and "You have a place" not in theirs

    assert book(other_client, {"session_id": sessions[0]}, waitlist=True).status_code == 303
    assert "You are on the waiting list, number 1" in main(_page(app, other_client, activity)[0])

    with app.app_context():  # a cancellation, and the place goes to the next in line (a promotion)
        booking = db.session.scalar(
            sa.select(Booking).where(Booking.user_id == participant.id, Booking.status == BookingStatus.CONFIRMED)
        )
        promoted = bookings.cancel(booking)
        db.session.commit()
        assert [b.user_id for b in promoted] == [other_participant.id]
    mine, theirs = main(_page(app, client, activity)[0]), main(_page(app, other_client, activity)[0])
    assert "You have a place" not in mine and "Join the waiting list (you would be number 1)" in mine
    assert "You have a place" in theirs and "You are on the waiting list" not in theirs

    with app.app_context():  # an edit: the words change for everyone at once
        db.session.get(Offer, activity).title = "Walking group by the canal"
        db.session.commit()
    for who in (client, other_client):
        assert "Walking group by the canal" in main(_page(app, who, activity)[0])


def test_a_booking_leaves_the_shared_part_kept_and_the_places_are_read_now(
    app, client, other_client, participant, other_participant
) -> None:
    """In a rush every booking changes the places: the shared part is not made again for that,
    while the places on the page and in its structured data are the ones of this moment."""
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    with app.app_context():
        activity, sessions = _activity(capacity=1, sessions=1)
        course = factories.OfferFactory(kind=OfferKind.COURSE, title="Dutch for beginners", capacity=1)
        factories.SessionFactory(offer=course, starts_at=days_ahead(3))
        course_id = course.id
    for offer_id, target in ((activity, {"session_id": sessions[0]}), (course_id, {"offer_id": course_id})):
        _page(app, other_client, offer_id)  # made, and kept
        before, kept = _page(app, other_client, offer_id)
        assert "1 place free" in main(before)
        assert '"remainingAttendeeCapacity": 1' in before and "schema.org/InStock" in before
        assert book(client, target).status_code == 303
        after, statements = _page(app, other_client, offer_id)
        assert statements == kept  # the shared part came from the cache
        assert "Full: waiting list open" in main(after) and "1 place free" not in after
        assert '"remainingAttendeeCapacity": 0' in after and "schema.org/SoldOut" in after
        assert "Join the waiting list (you would be number 1)" in main(after)
        fresh, cached = _fresh_and_cached(app, other_client, offer_id)
        assert cached == fresh


def test_each_badge_of_places_says_what_its_offer_and_language_say(app, client, participant) -> None:
    """The badges of free places are made once per process and kept by what they say: two offers
    as full, one with a waiting list and one without, and two languages, each get their own."""
    client.sign_in(participant)
    with app.app_context():
        waiting = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=1, waitlist_enabled=True)
        closed = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=1, waitlist_enabled=False)
        for offer in (waiting, closed):
            factories.SessionFactory(offer=offer, starts_at=days_ahead(2), capacity=1, confirmed_count=1)
        ids = waiting.id, closed.id
    pages = {
        (offer_id, language): main(client.get(f"/offers/{offer_id}", query_string={"lang": language}).text)
        for language in ("en", "nl", "en")
        for offer_id in ids
    }
    assert "Full: waiting list open" in pages[ids[0], "en"] and "Full: waiting list open" not in pages[ids[1], "en"]
    assert '<span class="badge full">Full</span>' in pages[ids[1], "en"]
    assert "Vol: wachtlijst open" in pages[ids[0], "nl"]
    assert '<span class="badge full">Vol</span>' in pages[ids[1], "nl"]


def test_a_household_and_an_organiser_see_their_own_page_made_fresh(
    app, client, other_client, participant, coordinator
) -> None:
    """Who manages the offer, helps at it or books for a household gets the page made for them."""
    from einstein.auth.models import AgeGroup
    from einstein.bookings import household

    with app.app_context():
        activity, _sessions = _activity(capacity=5, sessions=1)
        holder = db.session.get(User, participant.id)
        household.add_member(holder, name="Saraqiel", age_group=AgeGroup.CHILD, locale="ar", recorded_by=holder)
        db.session.commit()
    client.sign_in(participant)
    first, first_count = _page(app, client, activity)
    again, again_count = _page(app, client, activity)
    assert "Saraqiel" in first and _without_tokens(again) == _without_tokens(first) and again_count == first_count
    other_client.sign_in(coordinator)
    managing, _ = _page(app, other_client, activity)
    assert "<h2>Manage</h2>" in managing and "Saraqiel" not in managing
    # and a visitor's page, its shared part now cached, shows neither the organiser's links nor the household
    visitor, _ = _page(app, app.test_client(), activity)
    assert "<h2>Manage</h2>" not in visitor and "Saraqiel" not in visitor


def test_a_session_gone_from_under_the_kept_part_makes_the_page_afresh(app, client, participant) -> None:
    """The kept part lists its sessions; if one of them is gone when a page reads their places
    (deleted without the catalogue's cache being told, as by another tool), the page is made
    again from what is there, not shown with a hole or an error."""
    client.sign_in(participant)
    with app.app_context():
        activity, sessions = _activity(capacity=2, sessions=3)
    _page(app, client, activity)
    _kept_page, kept = _page(app, client, activity)
    assert book(client, {"session_id": sessions[0]}).status_code == 303
    with app.app_context():  # behind the app's back: a plain DELETE, no cache told
        db.session.execute(sa.text("DELETE FROM offer_sessions WHERE id = :id"), {"id": sessions[2]})
        db.session.commit()
    page, statements = _page(app, client, activity)
    assert statements > kept  # the kept part could not be used: made again
    assert f'id="session-{sessions[2]}"' not in page and f'id="session-{sessions[1]}"' in page
    assert "You have a place" in main(page)


#: A booking form on the offer page: where it posts, and the token it carries.
BOOKING_FORM = re.compile(
    r'<form method="post" action="(/(?:sessions|offers)/\d+/book)">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">'
)


def _panels(app) -> dict:
    return app.extensions.setdefault("einstein.panels", {})


def test_a_kept_booking_panel_says_what_one_made_fresh_says(
    app, client, other_client, participant, other_participant
) -> None:
    """Where a person has no booking, the booking buttons are made once per process and kept by
    what they say (``offer_page.panel_key``): each state below, in two languages, shows as made
    fresh, also after the state changed under a kept panel; each person gets their own form token,
    and it books."""
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    with app.app_context():
        activity = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=2, waitlist_enabled=True)
        free = factories.SessionFactory(offer=activity, starts_at=days_ahead(2), capacity=2)
        full = factories.SessionFactory(offer=activity, starts_at=days_ahead(3), capacity=1, confirmed_count=1)
        closed = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=1, waitlist_enabled=False)
        shut = factories.SessionFactory(offer=closed, starts_at=days_ahead(2), capacity=1, confirmed_count=1)
        course = factories.OfferFactory(kind=OfferKind.COURSE, capacity=5)
        first = factories.SessionFactory(offer=course, starts_at=days_ahead(4))
        factories.SessionFactory(offer=course, starts_at=days_ahead(11))
        offers, free_id, full_id, first_id = (activity.id, closed.id, course.id), free.id, full.id, first.id
        shut_id = shut.id

    def pages(who) -> dict[tuple[int, str], str]:
        found = {}
        for offer_id in offers:
            for language in ("en", "ar"):
                response = who.get(f"/offers/{offer_id}", query_string={"lang": language})
                assert response.status_code == 200
                found[offer_id, language] = response.text
        return found

    def kept_as_fresh() -> dict[tuple[int, str], str]:
        """The other person's pages from the panels kept so far, checked against pages made fresh."""
        kept = pages(other_client)
        _panels(app).clear()
        fresh = pages(client)
        for key, page in kept.items():
            assert _without_tokens(main(page)) == _without_tokens(main(fresh[key])), key
        return kept

    pages(client)
    assert len(_panels(app)) == 2 * 4  # two languages: the course, and the activities' three sessions
    kept = kept_as_fresh()
    assert len(_panels(app)) == 2 * 4  # the other person's came from them: none was made again
    page = main(kept[activity.id, "en"])
    assert "Book a place" in page and "Join the waiting list (you would be number 1)" in page
    assert "Book the whole course" in main(kept[course.id, "en"])
    assert "Join the waiting list" not in main(kept[closed.id, "en"])

    # the waiting list grows, a free session fills and a full one frees, the course begins: the
    # kept panels do not show
    with app.app_context():
        db.session.get(OfferSession, shut_id).confirmed_count = 0
        db.session.get(OfferSession, full_id).waitlist_count = 1
        db.session.get(OfferSession, free_id).confirmed_count = 2
        db.session.get(OfferSession, first_id).starts_at = days_ahead(-1)
        db.session.commit()
    kept = kept_as_fresh()
    page = main(kept[activity.id, "en"])
    assert "Book a place" not in page and "(you would be number 2)" in page
    assert "This has started" in main(kept[course.id, "en"])
    assert "Book a place" in main(kept[closed.id, "en"])

    # each form carries the token of the person it is shown to, and that token books
    with app.app_context():
        db.session.get(OfferSession, free_id).confirmed_count = 0
        db.session.commit()
    mine, theirs = (main(who.get(f"/offers/{activity.id}", headers=EN).text) for who in (client, other_client))
    (action, token), *_ = BOOKING_FORM.findall(theirs)
    assert action == f"/sessions/{free_id}/book"
    assert {t for _, t in BOOKING_FORM.findall(mine)} != {token} == {t for _, t in BOOKING_FORM.findall(theirs)}
    assert client.post(action, data={"csrf_token": token}, csrf=False).status_code == 400  # not the other's
    assert other_client.post(action, data={"csrf_token": token}, csrf=False).status_code == 303
    assert "You have a place" in main(other_client.get(f"/offers/{activity.id}", query_string={"lang": "en"}).text)


#: The form to leave the waiting list: where it goes (the booking's reference) and its token.
LEAVE_FORM = re.compile(
    r'<form class="inline" method="post" action="(/bookings/([^/"]+)/cancel)">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">'
)


def _panel_made_fresh(app, user_id: int, session_id: int, language: str) -> str:
    """A session's booking panel as ``bookings/_panels.html`` makes it for this person, with their
    own booking, outside any cache."""
    with app.test_request_context("/", query_string={"lang": language}):
        user = db.session.get(User, user_id)
        login_user(user)
        unit = db.session.get(OfferSession, session_id)
        mine = queries.active_bookings_for_offer(user, unit.offer)
        waiting = [b for b in mine.values() if b.status == BookingStatus.WAITLISTED]
        context = {"offer": unit.offer, "my_bookings": mine, "positions": queries.waitlist_places(waiting)}
        app.update_template_context(context)
        panels = app.jinja_env.get_template("bookings/_panels.html").make_module(context)
        return str(panels.session_panel(unit, False))


def test_a_kept_panel_of_a_booking_shows_the_persons_own_reference_and_token(
    app, client, other_client, participant, other_participant, make_user
) -> None:
    """The panel of someone's booking is kept by its state and place on the list alone
    (``offer_page.booked_panel_key``): each person's page shows their own references, as the
    panel made fresh for them says, and their own token in the form to leave the list, which
    works for them alone."""
    client.sign_in(participant)
    other_client.sign_in(other_participant)
    with app.app_context():
        activity = factories.OfferFactory(kind=OfferKind.ACTIVITY, capacity=5, waitlist_enabled=True)
        free = factories.SessionFactory(offer=activity, starts_at=days_ahead(2), capacity=5)
        full = factories.SessionFactory(offer=activity, starts_at=days_ahead(3), capacity=1)
        offer_id, free_id, full_id = activity.id, free.id, full.id
        people = {client: participant.id, other_client: other_participant.id}
    for who in (client, other_client):
        assert book(who, {"session_id": free_id}).status_code == 303
    assert book(client, {"session_id": full_id}).status_code == 303
    assert book(other_client, {"session_id": full_id}, waitlist=True).status_code == 303
    with app.app_context():
        reference = {(b.user_id, b.session_id): b.reference for b in db.session.scalars(sa.select(Booking))}

    kept = app.extensions.setdefault("einstein.booked_panels", {})
    kept.clear()
    for who in (client, other_client):  # the second person's confirmed panels come from the first's
        for language in ("en", "ar"):
            page = main(who.get(f"/offers/{offer_id}", query_string={"lang": language}).text)
            assert REFERENCE_SLOT not in page
            for session_id in (free_id, full_id):
                fresh = _panel_made_fresh(app, people[who], session_id, language)
                assert reference[people[who], session_id] in fresh
                assert _without_tokens(fresh) in _without_tokens(page), (language, session_id)
            theirs = {r for (person, _), r in reference.items() if person != people[who]}
            assert not any(r in page for r in theirs)
    assert len(kept) == 2 * 2  # two languages: a confirmed place, and number 1 on the waiting list

    third = app.test_client()
    third.sign_in(make_user(name="Third"))
    assert book(third, {"session_id": full_id}, waitlist=True).status_code == 303
    page = main(third.get(f"/offers/{offer_id}", query_string={"lang": "en"}).text)
    assert "You are on the waiting list, number 2" in page and "number 1" not in page

    page = main(other_client.get(f"/offers/{offer_id}", query_string={"lang": "en"}).text)
    assert "You are on the waiting list, number 1" in page
    (action, code, token), *_ = LEAVE_FORM.findall(page)
    assert code == reference[other_participant.id, full_id]
    refused = client.post(action, data={"csrf_token": token, "seen": "waitlisted"}, csrf=False)
    assert refused.status_code == 400  # not their token
    answer = other_client.post(action, data={"csrf_token": token, "seen": "waitlisted"}, csrf=False)
    assert answer.status_code == 303
    with app.app_context():
        left = db.session.scalar(sa.select(Booking).where(Booking.reference == code))
        assert left.status == BookingStatus.CANCELLED
