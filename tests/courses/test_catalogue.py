"""Finding things: the home page lists what is on, filters it, pages through it, fast at any size."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import Category, Offer, OfferKind, OfferSession, OfferStatus, SessionLanguage, SessionStatus, User
from tests import factories
from tests.support.html import main
from tests.support.queries import count_queries


def _page(client, url="/") -> str:
    return main(client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True))


def test_only_public_upcoming_sessions_are_listed(app, client) -> None:
    with app.app_context():
        factories.SessionFactory(offer__title="Walking group")
        factories.SessionFactory(offer__title="Waiting for approval", offer__status=OfferStatus.PENDING)
        factories.SessionFactory(offer__title="Was cancelled", status=SessionStatus.CANCELLED)
        factories.SessionFactory(offer__title="Already over", starts_at=utcnow() - timedelta(days=1))
    page = _page(client)
    assert "Walking group" in page
    for hidden in ("Waiting for approval", "Was cancelled", "Already over"):
        assert hidden not in page


def test_free_places_and_waiting_list_are_shown(app, client, make_user) -> None:
    people = [make_user() for _ in range(3)]
    with app.app_context():
        open_session = factories.SessionFactory(offer__title="Open", offer__capacity=5)
        full = factories.SessionFactory(offer__title="Full with list", offer__capacity=1)
        closed = factories.SessionFactory(offer__title="Full no list", offer__capacity=1, offer__waitlist_enabled=False)
        for session, person in ((full, people[0]), (closed, people[1]), (open_session, people[2])):
            bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    page = _page(client)
    assert "4 places free" in page
    assert "Full: waiting list open" in page
    assert page.count("Full</span>") == 1


@pytest.mark.postgres
def test_filters(app, client) -> None:
    now = utcnow()
    with app.app_context():
        factories.SessionFactory(
            offer__title="Dutch course",
            offer__kind=OfferKind.COURSE,
            offer__category=Category.LANGUAGE,
            languages=["nl"],
            starts_at=now + timedelta(days=1),
        )
        factories.SessionFactory(
            offer__title="Arabic walk",
            offer__category=Category.SOCIAL,
            languages=["ar", "en"],
            starts_at=now + timedelta(days=10),
        )
        factories.SessionFactory(
            offer__title="Money talk",
            offer__category=Category.MONEY,
            offer__description="Budget coaching",
            languages=["tr"],
            starts_at=now + timedelta(days=20),
        )
    today = (now + timedelta(hours=1)).date()

    def titles(query: str) -> set[str]:
        page = _page(client, "/?" + query)
        return {t for t in ("Dutch course", "Arabic walk", "Money talk") if t in page}

    assert titles("") == {"Dutch course", "Arabic walk", "Money talk"}
    assert titles("kind=course") == {"Dutch course"}
    assert titles("kind=activity") == {"Arabic walk", "Money talk"}
    assert titles("category=social") == {"Arabic walk"}
    assert titles("language=ar") == {"Arabic walk"}
    assert titles("q=BUDGET") == {"Money talk"}
    assert titles("q=walk&language=en") == {"Arabic walk"}
    assert titles(
        f"date_from={(today + timedelta(days=5)).isoformat()}&date_to={(today + timedelta(days=15)).isoformat()}"
    ) == {"Arabic walk"}
    assert titles("q=100%25") == set()
    assert titles("q=_") == set()


def test_only_free_places(app, client, make_user) -> None:
    person = make_user()
    with app.app_context():
        full = factories.SessionFactory(offer__title="Full one", offer__capacity=1)
        factories.SessionFactory(offer__title="Open one", offer__capacity=3)
        course = factories.OfferFactory(kind=OfferKind.COURSE, title="Full course", capacity=1)
        factories.SessionFactory(offer=course)
        bookings.book(db.session.get(User, person.id), bookings.Target(full.offer, full))
        bookings.book(db.session.get(User, person.id), bookings.Target(course, None))
        db.session.commit()
    page = _page(client, "/?free=y")
    assert "Open one" in page and "Full one" not in page and "Full course" not in page


@pytest.mark.parametrize(
    "query",
    [
        "kind=king",
        "category=%3Cscript%3E",
        "language=xx",
        "date_from=yesterday",
        "date_to=2026-13-45",
        "date_from=2030-01-10&date_to=2030-01-01",
        "q=" + "x" * 500,
        "free=maybe&kind=<b>",
        "q=%E2%80%AE",
    ],
)
def test_bad_filters_are_a_clear_400(client, query) -> None:
    response = client.get("/?" + query, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "field-errors" in page
    assert "<script>" not in main(page)


def _follow_pages(client, url: str, most: int = 5) -> list[str]:
    """The pages reached from ``url`` by following each page's "Later" link."""
    seen: list[str] = []
    for _ in range(most):
        seen.append(client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True))
        if 'rel="next"' not in seen[-1]:
            break
        url = seen[-1].split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    return seen


def _series(app, title: str, every: timedelta, count: int = 45) -> int:
    """An offer with ``count`` sessions, one every ``every`` from tomorrow; return its id."""
    with app.app_context():
        offer = factories.OfferFactory(title=title)
        base = utcnow() + timedelta(days=1)
        for index in range(count):
            factories.SessionFactory(offer=offer, starts_at=base + every * index)
        return offer.id


def test_pages_follow_one_another(app, client) -> None:
    _series(app, "Long series", timedelta(hours=1))
    seen = _follow_pages(client, "/")
    assert len(seen) == 3
    cards = sum(p.count('class="card"') for p in seen)
    assert cards == 45
    assert "Back to the start" in seen[1]


@pytest.mark.parametrize("cursor", ["garbage", "=" * 70, "MTIzNDU2", "LTEuLTE", "OTk5OTk5OTk5OTk5OTk5OTk5LjE"])
def test_a_broken_page_cursor_starts_from_the_beginning(client, cursor) -> None:
    assert client.get(f"/?after={cursor}").status_code == 200


def test_an_offers_sessions_come_a_page_at_a_time(app, client) -> None:
    offer_id = _series(app, "Daily Dutch", timedelta(days=1))
    seen = _follow_pages(client, f"/offers/{offer_id}")
    assert [p.count('class="card"') for p in seen] == [20, 20, 5]
    assert "And 25 more sessions later." in seen[0] and "Back to the start" not in seen[0]
    assert "And 5 more sessions later." in seen[1] and "Back to the start" in seen[1]
    headings = [h for p in seen for h in p.split("<h3>")[1:]]
    assert len(set(headings)) == 45  # each session once, none skipped


@pytest.mark.parametrize(
    "cursor", ["garbage", "-1", "0", "99999999999999999999", "%3Cscript%3E", "%D9%A1%D9%A2", "other"]
)
def test_a_broken_or_foreign_session_cursor_shows_the_first_sessions(app, client, cursor) -> None:
    with app.app_context():
        offer, elsewhere = factories.OfferFactory(title="Weekly Dutch"), factories.OfferFactory(title="Other")
        first = factories.SessionFactory(offer=offer)
        foreign = factories.SessionFactory(offer=elsewhere)
        offer_id, foreign_id, first_id = offer.id, foreign.id, first.id
    if cursor == "other":
        cursor = str(foreign_id)
    response = client.get(f"/offers/{offer_id}?after={cursor}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="card"') == 1 and f"/sessions/{first_id}.ics" in page
    assert "Back to the start" not in page and "<script>" not in main(page)


def test_an_empty_catalogue_helps(client) -> None:
    assert "Nothing planned yet" in _page(client)
    assert "Nothing matches these filters" in _page(client, "/?category=money")


def _big_catalogue(app, sessions: int) -> int:
    """Add offers with ``sessions`` sessions in all (bulk, for speed); return one offer's id."""
    with app.app_context():
        location = factories.LocationFactory()
        organiser = factories.UserFactory()
        offers = []
        for index in range(max(sessions // 50, 1)):
            offers.append(
                Offer(
                    kind=OfferKind.ACTIVITY,
                    status=OfferStatus.PUBLISHED,
                    title=f"Offer {index}",
                    category=Category.SOCIAL,
                    location=location,
                    organiser=organiser,
                    capacity=10,
                    search_text=f"offer {index}",
                )
            )
        db.session.add_all(offers)
        db.session.flush()
        start = utcnow() + timedelta(hours=1)
        rows = [
            {
                "offer_id": offers[i % len(offers)].id,
                "starts_at": start + timedelta(minutes=i),
                "ends_at": start + timedelta(minutes=i + 60),
                "location_id": location.id,
                "capacity": 10,
                "status": SessionStatus.SCHEDULED,
                "confirmed_count": 0,
                "waitlist_count": 0,
                "created_at": start,
                "updated_at": start,
            }
            for i in range(sessions)
        ]
        db.session.execute(sa.insert(OfferSession), rows)
        ids = db.session.scalars(sa.select(OfferSession.id)).all()
        db.session.execute(sa.insert(SessionLanguage), [{"session_id": i, "language": "nl"} for i in ids])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # as autovacuum would soon: without it the planner may still believe the 10 rows of the
            # first round and join 5,000 sessions in nested loops (once this took over 300 s)
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        return offers[0].id


@pytest.mark.postgres
@pytest.mark.parametrize("url", ["/", "/?category=social&language=nl&free=y&q=offer", "/offers/{offer}"])
def test_the_number_of_queries_does_not_grow_with_the_catalogue(app, client, participant, url) -> None:
    client.sign_in(participant)
    counts = []
    for size in (10, 5000):
        with app.app_context():
            for table in ("session_languages", "offer_sessions", "offers"):
                db.session.execute(sa.text(f"DELETE FROM {table}"))
            db.session.commit()
        offer_id = _big_catalogue(app, size)
        with count_queries(app) as statements:
            response = client.get(url.format(offer=offer_id))
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    # signed in: the person with their sign-in (and whether they have a household), no more
    assert counts[0] <= (7 if url.startswith("/offers/") else 9), counts


def test_the_filter_columns_are_indexed(app) -> None:
    with app.app_context():
        inspector = sa.inspect(db.engine)
        indexed = {
            table: [tuple(index["column_names"]) for index in inspector.get_indexes(table)]
            for table in ("offer_sessions", "offers", "session_languages")
        }
    assert ("status", "starts_at") in indexed["offer_sessions"]
    assert ("status", "kind", "category") in indexed["offers"]
    assert ("language", "session_id") in indexed["session_languages"]


@pytest.mark.postgres
def test_text_search_uses_a_trigram_index_on_postgresql(app, database) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            names = {index["name"] for index in sa.inspect(db.engine).get_indexes("offers")}
            assert "ix_offers_search_text_trgm" not in names
            return
        names = {index["name"] for index in sa.inspect(db.engine).get_indexes("offers")}
        assert "ix_offers_search_text_trgm" in names
