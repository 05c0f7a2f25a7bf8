"""The cached listing is never stale: a booking, a new offer or a change shows at once."""

from __future__ import annotations

import pytest

from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import User
from einstein.privacy import services as privacy
from tests import factories
from tests.support.html import main
from tests.support.queries import count_queries

# these tests ask for a page twice and expect the second answer from the cache
pytestmark = pytest.mark.usefixtures("steady_cache_minute")


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


def test_a_renamed_organiser_or_organisation_shows_at_once_on_a_kept_page(app) -> None:
    """An offer page's structured data names who organises it: renaming them is an edit too,
    while the other changes of a person (signing in, settings) keep the pages."""
    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group", offer__organiser__name="Ayaan Volunteer")
        offer_id, organiser_id = session.offer_id, session.offer.organiser_id
    url = f"/offers/{offer_id}"
    visitor = app.test_client()
    assert "Ayaan Volunteer" in visitor.get(url, headers={"Accept-Language": "en"}).text

    with app.app_context():
        person = db.session.get(User, organiser_id)
        person.phone_verified_at = person.created_at  # not on any shared page
        db.session.commit()
    assert visitor.get(url, headers={"Accept-Language": "en"}).headers.get("X-Einstein-Cache") == "hit"

    with app.app_context():
        db.session.get(User, organiser_id).name = "Ayaan Renamed"
        db.session.commit()
    page = visitor.get(url, headers={"Accept-Language": "en"})
    assert page.headers.get("X-Einstein-Cache") is None and "Ayaan Renamed" in page.text

    with app.app_context():
        from einstein.models import Offer, Organisation

        partner = Organisation(name="Taalschool Utrecht")
        db.session.get(Offer, offer_id).organisation = partner
        db.session.commit()
    assert "Taalschool Utrecht" in visitor.get(url, headers={"Accept-Language": "en"}).text
    with app.app_context():
        db.session.query(Organisation).one().name = "Taalhuis Utrecht"
        db.session.commit()
    assert "Taalhuis Utrecht" in visitor.get(url, headers={"Accept-Language": "en"}).text

    # an organiser who deletes their account is named nowhere any more
    with app.app_context():
        db.session.get(Offer, offer_id).organisation = None
        db.session.commit()
    assert "Ayaan Renamed" in visitor.get(url, headers={"Accept-Language": "en"}).text
    with app.app_context():
        privacy.delete_account(db.session.get(User, organiser_id))
        db.session.commit()
    assert "Ayaan Renamed" not in visitor.get(url, headers={"Accept-Language": "en"}).text


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
    # served before the other hooks ran, but with the same security headers
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
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


def test_each_encoding_a_browser_accepts_is_its_own_cached_page(app, client) -> None:
    import gzip

    import brotli

    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group")
        url = f"/offers/{session.offer_id}"
    plain = client.get(url, headers={"Accept-Language": "en"}).get_data()
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        first = client.get(url, headers={"Accept-Language": "en", "Accept-Encoding": encoding})
        again = client.get(url, headers={"Accept-Language": "en", "Accept-Encoding": encoding})
        assert first.headers.get("X-Einstein-Cache") is None
        assert again.headers.get("X-Einstein-Cache") == "hit"
        assert again.headers["Content-Encoding"] == encoding
        assert int(again.headers["Content-Length"]) == len(again.get_data())
        assert decompress(again.get_data()) == plain
        assert "Accept-Encoding" in again.headers["Vary"]


def test_the_language_chosen_with_the_switcher_is_a_cached_page_of_its_own(app, client) -> None:
    with app.app_context():
        session = factories.SessionFactory(offer__title="Walking group")
        url = f"/offers/{session.offer_id}"
    client.get(url, headers={"Accept-Language": "en"})
    assert client.post("/language", data={"lang": "ar"}).status_code == 302
    first = client.get(url, headers={"Accept-Language": "en"})
    again = client.get(url, headers={"Accept-Language": "en"})
    assert first.headers.get("X-Einstein-Cache") is None  # not the English page stored above
    assert again.headers.get("X-Einstein-Cache") == "hit"
    assert 'lang="ar"' in again.get_data(as_text=True)


def test_a_visitor_with_a_message_waiting_or_a_remember_cookie_gets_a_fresh_page(app, client) -> None:
    client.get("/", headers={"Accept-Language": "en"})
    assert client.get("/", headers={"Accept-Language": "en"}).headers.get("X-Einstein-Cache") == "hit"

    # leaves "Please sign in" waiting
    assert client.get("/my/bookings", headers={"Accept-Language": "en"}).status_code == 302
    shown = client.get("/", headers={"Accept-Language": "en"})
    assert shown.headers.get("X-Einstein-Cache") is None
    assert "Please sign in to continue." in shown.get_data(as_text=True)

    client.set_cookie("remember_token", "anything")
    assert client.get("/", headers={"Accept-Language": "en"}).headers.get("X-Einstein-Cache") is None


@pytest.mark.parametrize("cookie", ["not-a-signed-cookie", "<script>alert(1)</script>", "é" * 5000, "."])
def test_a_forged_session_cookie_is_an_empty_session_not_an_error(app, client, cookie) -> None:
    client.get("/", headers={"Accept-Language": "en"})
    answer = app.test_client().get("/", headers={"Accept-Language": "en", "Cookie": f"session={cookie}"})
    assert answer.status_code == 200
    assert answer.headers.get("X-Einstein-Cache") == "hit"


def test_a_page_that_sets_a_cookie_or_fails_is_never_stored(app) -> None:
    from flask import Flask, abort, make_response

    from einstein.caching import VisitorPages, for_visitors
    from einstein.extensions import cache

    small = Flask("small")
    small.config.update(SECRET_KEY="x" * 32, CACHE_TYPE="SimpleCache")
    cache.init_app(small)
    calls = []

    @small.get("/cookie")
    @for_visitors
    def with_cookie():
        calls.append("cookie")
        response = make_response("hello")
        response.set_cookie("token", "for one person only")
        return response

    @small.get("/missing")
    @for_visitors
    def missing():
        calls.append("missing")
        abort(404)

    @small.get("/plain")
    @for_visitors
    def plain():
        calls.append("plain")
        return "hello"

    small.wsgi_app = VisitorPages(small, small.wsgi_app)
    visitor = small.test_client()
    for path in ("/cookie", "/missing", "/plain"):
        visitor.get(path)
        visitor.get(path)
    assert calls == ["cookie", "cookie", "missing", "missing", "plain"]
    assert visitor.post("/plain").status_code == 405


def test_a_signed_in_request_checks_its_session_cookie_once(app, client, participant, monkeypatch) -> None:
    """The visitors' page cache opens the session cookie to see whether someone is signed in; the
    app's sessions take what it found rather than check the signature and decode it again."""
    from itsdangerous import URLSafeTimedSerializer

    client.sign_in(participant)
    opened: list[str] = []
    loads = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        if self.salt == b"cookie-session":
            opened.append(args[0])
        return loads(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    page = client.get("/my/bookings", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "My bookings" in page.text  # signed in, from the one check
    assert len(opened) == 1
    # a cookie the cache could not check is the app's to refuse, as before: nobody is signed in
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "not-a-signed-cookie")
    assert client.get("/my/bookings").status_code == 302
