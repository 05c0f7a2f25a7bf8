"""The cached listing is never stale: a booking, a new offer or a change shows at once."""

from __future__ import annotations

import pytest

from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import User
from tests import factories
from tests.support.html import main
from tests.support.queries import count_queries


def _home(client) -> str:
    return main(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))


def test_the_listing_is_cached_until_the_catalogue_changes(app, client, participant) -> None:
    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group", offer__capacity=1)
        session_id, offer_id = session.id, session.offer_id
    assert "1 place free" in _home(client)
    with count_queries(app) as statements:
        assert "1 place free" in _home(client)
    assert statements == []  # from the cache: no query at all for an anonymous visitor

    # the last place is taken through the app: the listing changes at once
    client.sign_in(participant)
    assert client.post(f"/sessions/{session_id}/book", data={}).status_code == 303
    assert "Full: waiting list open" in _home(app.test_client())

    # a change made outside a request (a worker, a command) invalidates too
    with app.app_context():
        factories.SessionFactory(offer__title="Brand new walk")
    assert "Brand new walk" in _home(app.test_client())
    with app.app_context():
        from einstein.models import Offer

        db.session.get(Offer, offer_id).title = "Renamed walk"
        db.session.commit()
    assert "Renamed walk" in _home(app.test_client())


def test_a_rolled_back_change_does_not_empty_the_cache(app, client) -> None:
    with app.app_context():
        factories.SessionFactory(offer__title="Walking group")
    _home(client)
    with app.app_context():
        from einstein.caching import catalogue_version

        before = catalogue_version()
        db.session.add(factories.OfferFactory.build(title="Never saved"))
        db.session.flush()  # noted as a change to the catalogue ...
        db.session.rollback()  # ... then undone
        db.session.commit()  # a later commit that changes nothing must not renew the version
        assert catalogue_version() == before


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": "redis://127.0.0.1:1/0",
            "CACHE_OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    ],
)
def test_pages_work_when_the_cache_is_down(app, client, app_config, make_user) -> None:
    person = make_user()
    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group")
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    assert "Walking group" in _home(client)


def test_a_page_cached_for_visitors_holds_nothing_personal_and_is_never_shown_to_a_signed_in_person(
    app, client, participant
) -> None:
    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group")
        url = f"/offers/{session.offer_id}"
    first = client.get(url, headers={"Accept-Language": "en"})
    again = client.get(url, headers={"Accept-Language": "en"})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("X-Einstein-Cache") == "hit"
    assert again.get_data() == first.get_data()
    assert "csrf_token" not in again.get_data(as_text=True)  # a form token must never be shared

    # another language is another page
    arabic = client.get(url, headers={"Accept-Language": "ar"})
    assert arabic.headers.get("X-Einstein-Cache") is None
    assert 'dir="rtl"' in arabic.get_data(as_text=True)

    # signed in: always rendered for this person, with their own form token
    client.sign_in(participant)
    mine = client.get(url, headers={"Accept-Language": "en"})
    assert mine.headers.get("X-Einstein-Cache") is None
    assert 'name="csrf_token"' in mine.get_data(as_text=True)
