"""A cache that survives a booking rush: a booking makes stale only the pages that show its
offer, those pages show the new count at once, and browsers and proxies may keep visitors'
pages (ETag, 304) without ever being shown an old count."""

from __future__ import annotations

import time

import pytest

from einstein import caching
from einstein.db import db
from einstein.extensions import GuardedRedisStorage, Outage
from einstein.models import Booking, Category, Offer
from tests import factories
from tests.support.booking import book
from tests.support.html import main

# these tests ask for a page twice and expect the second answer from the cache
pytestmark = pytest.mark.usefixtures("steady_cache_minute")

EN = {"Accept-Language": "en"}


@pytest.fixture
def two_offers(app):
    """Two walks of 2 places each, on different offers."""
    with app.app_context():
        a = factories.SessionFactory(offer__title="Walk A", offer__capacity=2)
        b = factories.SessionFactory(offer__title="Walk B", offer__capacity=2)
        return {
            "a": {"session_id": a.id, "offer_id": a.offer_id, "url": f"/offers/{a.offer_id}"},
            "b": {"session_id": b.id, "offer_id": b.offer_id, "url": f"/offers/{b.offer_id}"},
        }


def _visit(app, url: str, **headers: str):
    return app.test_client().get(url, headers={**EN, **headers})


def _cached(app, url: str) -> None:
    """Visit ``url`` twice as a visitor; the second answer comes from the cache."""
    _visit(app, url)
    assert _visit(app, url).headers.get("X-Einstein-Cache") == "hit"


def test_a_booking_on_one_offer_leaves_another_offers_page_cached(app, client, participant, two_offers) -> None:
    a, b = two_offers["a"], two_offers["b"]
    _cached(app, a["url"])
    _cached(app, b["url"])
    client.sign_in(participant)
    assert book(client, a).status_code == 303

    after_b = _visit(app, b["url"])
    assert after_b.headers.get("X-Einstein-Cache") == "hit"  # Walk B is not touched by a booking on A
    after_a = _visit(app, a["url"])
    assert after_a.headers.get("X-Einstein-Cache") is None  # rendered afresh, with the new count
    assert "1 place free" in main(after_a.text)
    assert _visit(app, a["url"]).headers.get("X-Einstein-Cache") == "hit"  # and kept again


def test_a_cancellation_and_an_edit_show_at_once(app, client, participant, two_offers) -> None:
    a, b = two_offers["a"], two_offers["b"]
    client.sign_in(participant)
    assert book(client, a).status_code == 303
    _cached(app, a["url"])
    assert "1 place free" in main(_visit(app, a["url"]).text)
    with app.app_context():
        reference = db.session.scalar(db.select(Booking.reference))
    assert client.post(f"/bookings/{reference}/cancel", data={"seen": "confirmed"}, headers=EN).status_code == 303
    assert "2 places free" in main(_visit(app, a["url"]).text)

    # an edit outside a request (a worker, a command): the page shows it at once
    _cached(app, b["url"])
    with app.app_context():
        db.session.get(Offer, b["offer_id"]).title = "Renamed walk"
        db.session.commit()
    assert "Renamed walk" in _visit(app, b["url"]).text


def test_the_listing_pages_that_do_not_show_the_offer_stay_cached(app, client, participant, two_offers) -> None:
    a = two_offers["a"]
    with app.app_context():
        factories.SessionFactory(offer__title="Dutch for beginners", offer__category=Category.LANGUAGE)
    showing_a, not_showing_a = "/", "/?category=language"
    _cached(app, showing_a)
    _cached(app, not_showing_a)
    free_places = "/?category=language&free=y"
    _cached(app, free_places)
    client.sign_in(participant)
    assert book(client, a).status_code == 303

    assert _visit(app, not_showing_a).headers.get("X-Einstein-Cache") == "hit"
    home = _visit(app, showing_a)
    assert home.headers.get("X-Einstein-Cache") is None and "1 place free" in main(home.text)
    # "with free places" changes only when a course or session fills up or comes free: Walk A
    # still has a place, so the list of what has free places is the same (the rush's case)
    assert _visit(app, free_places).headers.get("X-Einstein-Cache") == "hit"


def test_the_free_places_listing_changes_at_once_when_a_session_fills_up_or_comes_free(
    app, client, participant, other_participant
) -> None:
    with app.app_context():
        shown = factories.SessionFactory(offer__title="Dutch, one place", offer__category=Category.LANGUAGE, capacity=1)
        full = factories.SessionFactory(offer__title="Dutch, full", offer__category=Category.LANGUAGE, capacity=1)
        walk = factories.SessionFactory(offer__title="Walk", offer__capacity=1, capacity=1)
        places = {
            name: {"session_id": found.id, "offer_id": found.offer_id}
            for name, found in (("shown", shown), ("full", full), ("walk", walk))
        }
    client.sign_in(other_participant)
    assert book(client, places["full"]).status_code == 303
    free_places = "/?category=language&free=y"
    _cached(app, free_places)
    assert "Dutch, one place" in main(_visit(app, free_places).text)
    assert "Dutch, full" not in main(_visit(app, free_places).text)

    # a place comes free in a full session not on the list: the list shows it at once
    with app.app_context():
        reference = db.session.scalar(db.select(Booking.reference))
    assert client.post(f"/bookings/{reference}/cancel", data={"seen": "confirmed"}, headers=EN).status_code == 303
    page = _visit(app, free_places)
    assert page.headers.get("X-Einstein-Cache") is None and "Dutch, full" in main(page.text)
    _cached(app, free_places)

    # the last place of a session of another listing: it fills up, and this list is made again,
    # the same (so a booking of a last place anywhere costs each "free places" page one render)
    client.sign_in(participant)
    assert book(client, places["walk"]).status_code == 303
    assert _visit(app, free_places).headers.get("X-Einstein-Cache") is None
    _cached(app, free_places)

    # the last place of a session on the list: it leaves the list at once
    assert book(client, places["shown"]).status_code == 303
    page = _visit(app, free_places)
    assert "Dutch, one place" not in main(page.text) and "Dutch, full" in main(page.text)


def test_a_visitors_page_from_the_cache_costs_one_round_trip(app, two_offers) -> None:
    url = two_offers["b"]["url"]
    _cached(app, url)
    with app.app_context():
        store = caching.page_cache()
    calls = []

    class Counting:
        def __init__(self, backend):
            self.backend = backend

        def __getattr__(self, name):
            calls.append(name)
            return getattr(self.backend, name)

    store.backend = Counting(store.backend)
    assert _visit(app, url).headers.get("X-Einstein-Cache") == "hit"
    assert calls == ["get_many"]


def test_a_page_made_while_a_booking_commits_is_not_kept(app, two_offers) -> None:
    """A page rendered from data read before a change is not stored under the version after it."""
    a = two_offers["a"]
    with app.test_request_context():
        store = caching.page_cache()
        seen = int(store.read(caching.SEQ_KEY)[0] or 0)
        scopes = frozenset({caching.CATALOGUE, caching.offer_scope(a["offer_id"])})
        caching.catalogue_changed(caching.offer_scope(a["offer_id"]), caching.PLACES)  # commits meanwhile
        assert store.settle()
        store.keep("probe", scopes, seen, lambda versions: (versions, "old page"), 60)
        assert store.settle()
        assert store.read("probe") == [None]


def test_a_visitors_page_carries_an_etag_and_is_answered_304_when_unchanged(
    app, client, participant, two_offers
) -> None:
    a = two_offers["a"]
    first = _visit(app, a["url"])
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert {"Cookie", "Accept-Language", "Accept-Encoding"} <= {v.strip() for v in first.headers["Vary"].split(",")}

    again = _visit(app, a["url"], **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag

    # a booking changes the page: the old ETag no longer matches, the new count comes back
    client.sign_in(participant)
    assert book(client, a).status_code == 303
    changed = _visit(app, a["url"], **{"If-None-Match": etag})
    assert changed.status_code == 200 and "1 place free" in main(changed.text)
    assert changed.headers["ETag"] != etag

    # a signed-in person's page is never kept by a browser or a proxy, and has no ETag
    mine = client.get(a["url"], headers={**EN, "If-None-Match": changed.headers["ETag"]})
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    assert "ETag" not in mine.headers


def test_each_encoding_has_its_own_etag(app, two_offers) -> None:
    url = two_offers["a"]["url"]
    plain = _visit(app, url).headers["ETag"]
    gzipped = _visit(app, url, **{"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip" and gzipped.headers["ETag"] != plain
    assert _visit(app, url, **{"Accept-Encoding": "gzip", "If-None-Match": plain}).status_code == 200


def test_a_commit_does_not_wait_for_a_cache_that_does_not_answer(app, two_offers) -> None:
    """The version a commit renews is handed to a thread: a commit waits at most a moment."""

    class Frozen:
        def __getattr__(self, name):
            def hang(*args, **kwargs):
                time.sleep(2)
                raise TimeoutError("no answer")

            return hang

    with app.app_context():
        store = caching.PageCache(Frozen(), Outage("a frozen cache", every=60), write_wait=0.05, threaded=True)
        app.extensions["einstein.page_cache"] = store
        started = time.monotonic()
        for _ in range(5):
            store.changed({caching.PLACES})
        assert time.monotonic() - started < 1.0  # the first waits 50 ms at most, the rest not at all
        assert not store.usable()  # reads do not start while a write hangs
        with pytest.raises(caching.CacheUnavailableError):
            store.read("anything")


def test_the_rate_limits_storage_fails_at_once_once_redis_is_away() -> None:
    storage = GuardedRedisStorage("einstein+redis://127.0.0.1:1/0", socket_timeout=0.2, socket_connect_timeout=0.2)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the first call finds out
        storage.incr("sign-in", 60)
    started = time.monotonic()
    assert storage.check() is False
    with pytest.raises(ConnectionError):
        storage.incr("sign-in", 60)
    assert time.monotonic() - started < 0.05
