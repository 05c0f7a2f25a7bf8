"""A partner reads einstein's programme through the API: offers, sessions with free places and
the waiting list, places and themes, in the reader's language, a page at a time."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from einstein.bookings import services as bookings
from einstein.courses.models import held_opening
from einstein.db import db
from einstein.models import Audience, Offer, OfferSession, User
from tests import factories
from tests.api.conftest import PARTICIPANT_NAME

pytestmark = pytest.mark.postgres


def _all_pages(client: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following ``next_cursor`` page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        answer = client.get(url, query_string={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never end")


def test_a_partner_pages_through_every_published_offer_once(client, programme) -> None:
    offers = _all_pages(client, "/api/v1/offers", limit=2)

    ids = [offer["id"] for offer in offers]
    assert len(ids) == programme["published_offers"] == len(set(ids))
    assert ids == sorted(ids)
    assert programme["pending"] not in ids


def test_the_programme_pages_through_sessions_soonest_first(client, programme) -> None:
    sessions = _all_pages(client, "/api/v1/sessions", limit=3)

    starts = [s["starts_at"] for s in sessions]
    assert starts == sorted(starts)
    ids = {s["id"] for s in sessions}
    assert set(programme["course_sessions"]) <= ids and programme["walk_session"] in ids
    assert all(s["offer"]["id"] != programme["pending"] for s in sessions)


def test_free_places_and_the_waiting_list_are_said(client, programme) -> None:
    sessions = client.get(f"/api/v1/offers/{programme['walk']}/sessions").get_json()["items"]
    by_id = {s["id"]: s for s in sessions}

    full = by_id[programme["walk_session"]]
    assert full["availability"] == "waiting_list"
    assert full["places"] == {"capacity": 1, "free": 0, "held": None}
    assert full["waiting_list"] == {"enabled": True, "open": True, "waiting": 0}
    assert full["languages"] == ["ar", "nl"]
    assert full["starts_at"].endswith("+00:00")
    cancelled = by_id[programme["cancelled_session"]]
    assert cancelled["status"] == "cancelled" and cancelled["availability"] == "cancelled"

    # a course's places are the course's, on each of its sessions
    course = client.get(f"/api/v1/offers/{programme['course']}/sessions").get_json()["items"]
    assert [s["places"] for s in course] == [{"capacity": 12, "free": 12, "held": None}] * 3


def test_places_held_for_the_mix_are_said_until_they_open(app, client) -> None:
    with app.app_context():
        session = factories.SessionFactory(
            offer__capacity=6, offer__held_places=2, offer__held_for=Audience.NEIGHBOUR, offer__held_days=3
        )
        db.session.commit()
        offer_id, session_id = session.offer_id, session.id
        opening = held_opening(session.offer, session)
    assert opening is not None

    def places() -> dict[str, Any]:
        items = client.get(f"/api/v1/offers/{offer_id}/sessions").get_json()["items"]
        return next(s["places"] for s in items if s["id"] == session_id)

    with time_machine.travel(opening - timedelta(minutes=5), tick=False):
        held = places()
    assert held["free"] == 6
    assert held["held"] == {"places": 2, "held_for": "neighbour", "opens_at": opening.isoformat()}
    # answers are kept for a minute at most: ten minutes on, the held places are open
    with time_machine.travel(opening + timedelta(minutes=5), tick=False):
        assert places()["held"] is None


def test_texts_come_in_the_readers_language(client, programme) -> None:
    url = f"/api/v1/offers/{programme['course']}"

    arabic = client.get(url, query_string={"lang": "ar"}).get_json()
    assert arabic["title"] == "الإنجليزية للأعمال" and arabic["title_language"] == "ar"
    assert arabic["category_label"] != "Language"  # the theme's name in Arabic too
    by_browser = client.get(url, headers={"Accept-Language": "ar,en;q=0.5"}).get_json()
    assert by_browser["title"] == arabic["title"]
    # no translation: the original, and the language it is in
    english = client.get(url, query_string={"lang": "en"}).get_json()
    assert english["title"] == "Zakelijk Engels" and english["title_language"] == "nl"
    assert english["category_label"] == "Language"
    assert english["organised_by"] == "Taalschool Utrecht"
    assert english["url"] == f"http://einstein.test/offers/{programme['course']}?lang=en"


def test_places_and_themes(client, programme) -> None:
    places = _all_pages(client, "/api/v1/locations", limit=1)
    names = {p["name"] for p in places}
    assert {"Bibliotheek Kanaleneiland", "Buurthuis De Pijp"} <= names
    assert all(p["calendar_url"].endswith(f"/calendar/locations/{p['id']}.ics") for p in places)

    themes = client.get("/api/v1/categories", query_string={"lang": "en"}).get_json()["items"]
    assert {
        "code": "health",
        "label": "Health",
        "calendar_url": "http://einstein.test/calendar/categories/health.ics",
    } in themes


def test_filters_narrow_the_lists(client, programme) -> None:
    at_the_centre = _all_pages(client, "/api/v1/sessions", location=programme["centre"])
    assert {s["offer"]["id"] for s in at_the_centre} == {programme["walk"], programme["cooking"]}
    language = _all_pages(client, "/api/v1/offers", category="language")
    assert [o["id"] for o in language] == [programme["course"]]
    courses = _all_pages(client, "/api/v1/sessions", kind="course")
    assert {s["offer"]["id"] for s in courses} == {programme["course"]}


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        base64.urlsafe_b64encode(b"id.0").decode(),
        base64.urlsafe_b64encode(b"id.99999999999").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "%00",
        "=",
        "١٢",
    ],
)
def test_a_cursor_einstein_did_not_make_is_a_400_in_json(client, programme, cursor) -> None:
    for url in (
        "/api/v1/offers",
        "/api/v1/locations",
        "/api/v1/sessions",
        f"/api/v1/offers/{programme['walk']}/sessions",
    ):
        answer = client.get(url, query_string={"cursor": cursor}, headers={"Accept-Language": "en"})
        assert answer.status_code in (400, 422), (url, answer.status_code)
        body = answer.get_json()
        assert body["code"] == answer.status_code and body["status"]
        if answer.status_code == 400:
            assert "cursor" in body["message"]


def test_a_cursor_of_one_list_is_refused_by_another(client, programme) -> None:
    cursor = client.get("/api/v1/offers", query_string={"limit": 1}).get_json()["next_cursor"]

    answer = client.get("/api/v1/sessions", query_string={"cursor": cursor})

    assert answer.status_code == 400 and answer.is_json


def test_an_offer_not_published_is_not_there(client, programme) -> None:
    for url in (f"/api/v1/offers/{programme['pending']}", f"/api/v1/offers/{programme['pending']}/sessions"):
        answer = client.get(url)
        assert answer.status_code == 404
        assert answer.get_json()["code"] == 404


def test_bad_arguments_are_a_422_in_json(client, programme) -> None:
    for query in ({"limit": 0}, {"limit": 101}, {"category": "weapons"}, {"location": "x"}, {"lang": "xx"}):
        answer = client.get("/api/v1/offers", query_string=query)
        assert answer.status_code == 422, query
        assert answer.get_json()["errors"]


def test_a_booking_shows_at_once_although_answers_are_cached(app, client, programme) -> None:
    url = f"/api/v1/offers/{programme['course']}/sessions"
    assert client.get(url).get_json()["items"][0]["places"]["free"] == 12
    with app.app_context():
        person = factories.UserFactory()
        course = db.session.get(Offer, programme["course"])
        bookings.book(db.session.get(User, person.id), bookings.Target(course, None))
        db.session.commit()

    assert client.get(url).get_json()["items"][0]["places"]["free"] == 11


@pytest.mark.usefixtures("steady_cache_minute")
def test_answers_are_cached(app, client, programme) -> None:
    url = f"/api/v1/offers/{programme['walk']}/sessions"
    client.get(url)
    with app.app_context():
        # a change the cache is not told of (no commit through the session): the cached answer stays
        db.session.execute(
            OfferSession.__table__.update().where(OfferSession.id == programme["walk_session"]).values(capacity=5)
        )
        db.session.connection().commit()  # type: ignore[attr-defined]

    assert client.get(url).get_json()["items"][0]["places"]["capacity"] == 1


def test_no_personal_data_and_no_cookie_in_any_answer(client, programme) -> None:
    urls = [
        "/api/v1/offers",
        "/api/v1/sessions",
        "/api/v1/locations",
        "/api/v1/categories",
        f"/api/v1/offers/{programme['walk']}",
        f"/api/v1/offers/{programme['walk']}/sessions?lang=ar",
        "/api/v1/openapi.json",
    ]
    for url in urls:
        answer = client.get(url)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200, url
        assert PARTICIPANT_NAME not in text and "hanna@example.org" not in text, url
        assert "Set-Cookie" not in answer.headers, url
        if url != "/api/v1/openapi.json":
            assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_too_many_requests_are_a_429_in_json(app, client, programme) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    answers = [client.get("/api/v1/categories") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["code"] == 429


def test_the_description_lists_every_route_and_the_page_explains_it(client, programme) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]) == {
        "/api/v1/offers",
        "/api/v1/offers/{offer_id}",
        "/api/v1/offers/{offer_id}/sessions",
        "/api/v1/sessions",
        "/api/v1/locations",
        "/api/v1/categories",
    }
    page = client.get("/api/v1/", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/api/v1/offers/{offer_id}/sessions" in text and "/api/v1/openapi.json" in text
    assert f"/calendar/locations/{programme['centre']}.ics" in text and "/calendar/categories/work.ics" in text
    assert json.dumps(spec)  # plain JSON, nothing else
