"""A coordinator prints the week's programme for the notice board of the AZC: one place, one week,
in Dutch and Arabic, large type on A4, with a QR code to each activity's page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import segno

from einstein.db import db
from einstein.i18n import TIMEZONE, local_today
from einstein.models import Location, Offer, OfferStatus, OfferTranslation, Role, SessionStatus
from tests import factories
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_LINES, HOSTILE_TEXT

EN = {"Accept-Language": "en"}


def _week(moment) -> str:
    year, week, _ = moment.astimezone(TIMEZONE).isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture
def azc(app) -> dict[str, Any]:
    """A week at the AZC: two activities there (one translated into Arabic), and what must not show."""
    # Tuesday to Thursday of the week two weeks from now, whatever today is: never cut by today,
    # never spilling into the next week (a Sunday plus one day is another week)
    tuesday = 14 + 1 - (local_today() + timedelta(days=14)).weekday()
    when = days_ahead(tuesday)
    monday = when.astimezone(TIMEZONE).date() - timedelta(days=1)
    with app.app_context():
        place = factories.LocationFactory(name="AZC Utrecht", address="Joegoslaviëstraat 2")
        elsewhere = factories.LocationFactory(name="Buurthuis Lombok")
        coffee = factories.OfferFactory(title="Koffie en taal", language="nl", location=place)
        coffee.translations.append(OfferTranslation(locale="ar", title="قهوة ولغة", description=""))
        first = factories.SessionFactory(offer=coffee, starts_at=when, languages=["nl", "ar"])
        bikes = factories.OfferFactory(title="Fietsen repareren", language="nl", location=elsewhere)
        # a session of an offer elsewhere that takes place at the AZC this once
        visiting = factories.SessionFactory(offer=bikes, location=place, starts_at=days_ahead(tuesday + 1))
        # not on the board: another place, another week, not published, cancelled
        factories.SessionFactory(offer=bikes, starts_at=when)
        factories.SessionFactory(offer=coffee, starts_at=days_ahead(tuesday + 7))
        pending = factories.OfferFactory(title="Wacht nog", location=place, status=OfferStatus.PENDING)
        factories.SessionFactory(offer=pending, starts_at=when)
        cancelled = factories.SessionFactory(offer=coffee, starts_at=days_ahead(tuesday + 2))
        cancelled.status = SessionStatus.CANCELLED
        db.session.commit()
        return {
            "place": place.id,
            "week": _week(when),
            "monday": monday,
            "coffee": coffee.id,
            "bikes": bikes.id,
            "first": first.id,
            "visiting": visiting.id,
        }


def _board(client, azc, query="?lang=nl&lang=ar", **headers):
    return client.get(f"/notice-board/{azc['place']}/{azc['week']}{query}", headers=headers or EN)


def test_the_coordinator_chooses_place_week_and_languages_and_gets_the_page(client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    form = client.get("/notice-board", headers=EN)
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "AZC Utrecht" in page and azc["week"] in page  # the place and the week can be chosen
    # Dutch first, the coordinator's English second, unless they choose otherwise
    assert re.search(r'<option selected value="nl">|<option value="nl" selected>', page.split('id="second"')[0])
    chosen = client.get(f"/notice-board?location={azc['place']}&week={azc['week']}&first=nl&second=ar", headers=EN)
    assert chosen.status_code == 303
    assert chosen.headers["Location"].endswith(f"/notice-board/{azc['place']}/{azc['week']}?lang=nl&lang=ar")


def test_the_page_has_the_weeks_sessions_at_that_place_in_both_languages(client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    response = _board(client, azc)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    board = page.split('<article class="notice-board">', 1)[1].split("</article>", 1)[0]
    # what happens there that week, and nothing else
    assert "Koffie en taal" in board and "قهوة ولغة" in board  # the title in Dutch and in Arabic
    assert "Fietsen repareren" in board  # held at the AZC this once
    assert board.count('class="board-session"') == 2  # not the other place, week, pending or cancelled one
    assert "Wacht nog" not in board
    # headings in both languages, the Arabic part right to left
    assert re.search(r"<h1>[^<]*AZC Utrecht[^<]*</h1>", board)
    assert re.search(r'<div class="board-lang board-lang-2" lang="ar" dir="rtl">', board)
    assert re.search(r'lang="nl" dir="ltr">[^<]*(maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)', board)
    assert "10:00" in board and "12:00" in board and 'dir="ltr">' in board
    assert f"<bdi>{client.application.config['BASE_URL']}/</bdi>" in board  # the public address, as in the codes
    # large type on A4 when printed, without the menu
    assert 'class="print-board"' in page


def test_each_offer_has_one_qr_code_to_its_page(app, client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    board = _board(client, azc).get_data(as_text=True)
    for offer_id in (azc["coffee"], azc["bikes"]):
        link = f"{app.config['BASE_URL']}/offers/{offer_id}"  # the public address, whoever prints it
        drawn = board.split(f"<title>{link}</title>")
        assert len(drawn) == 2  # one code per offer
        # the code is the code of that link, as a phone will read it
        expected = segno.make(link, error="m").svg_inline(omitsize=True, border=2)
        assert expected.split("<path", 1)[1].split("/>", 1)[0] in drawn[1].split("</svg>", 1)[0]
    assert board.count('class="segno"') == 2  # no more codes than offers


def test_a_week_with_nothing_says_so_in_both_languages(client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    empty = f"/notice-board/{azc['place']}/2031-W02?lang=nl&lang=en"
    page = client.get(empty, headers=EN).get_data(as_text=True)
    assert "Nothing is planned here this week." in page
    assert page.count('class="board-empty"') == 2


def test_one_language_is_enough(client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    board = _board(client, azc, "?lang=ti").get_data(as_text=True)
    assert 'lang="ti"' in board and 'class="board-lang board-lang-2"' not in board


@pytest.mark.parametrize("role", ["participant", "volunteer"])
def test_nobody_but_coordinators_prints_it(app, client, azc, role, request) -> None:
    client.sign_in(request.getfixturevalue(role))
    assert _board(client, azc).status_code == 403
    assert client.get("/notice-board").status_code == 403
    anonymous = app.test_client().get(f"/notice-board/{azc['place']}/{azc['week']}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("week", ["2026-W54", "2026-W00", "2026W49", "week", "1999-W01", "2101-W01", "99999-W01"])
def test_a_week_that_does_not_exist_is_not_found(client, coordinator, azc, week) -> None:
    client.sign_in(coordinator)
    assert client.get(f"/notice-board/{azc['place']}/{week}").status_code == 404


def test_a_place_that_does_not_exist_is_not_found(client, coordinator, azc) -> None:
    client.sign_in(coordinator)
    assert client.get(f"/notice-board/999999/{azc['week']}").status_code == 404
    assert client.get(f"/notice-board/99999999999999999999999/{azc['week']}").status_code == 404
    assert client.get(f"/notice-board/-1/{azc['week']}").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?lang=xx",
        "?lang=nl&lang=nl",
        "?lang=nl&lang=ar&lang=en",
        "?lang=",
        *(f"?lang={value}" for value in HOSTILE_TEXT.values()),
        "?lang=nl&lang=" + "a" * 5000,
    ],
)
def test_a_language_einstein_does_not_speak_is_refused(client, coordinator, azc, query) -> None:
    client.sign_in(coordinator)
    assert _board(client, azc, query).status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"second": "nl"},  # the same language twice
        {"first": "xx"},
        {"first": ""},
        {"location": "abc"},
        {"location": "999999"},
        {"week": "2099-W01"},  # not one of the weeks to choose
        *({"first": value} for value in HOSTILE_LINES.values()),
        *({"location": value} for value in HOSTILE_TEXT.values()),
    ],
)
def test_a_wrong_choice_in_the_form_is_explained(client, coordinator, azc, change) -> None:
    client.sign_in(coordinator)
    query = {"location": str(azc["place"]), "week": azc["week"], "first": "nl", "second": "ar", **change}
    response = client.get("/notice-board", query_string=query, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please check the form:" in page


def test_the_form_speaks_the_readers_language(client, make_user, azc) -> None:
    client.sign_in(make_user(role=Role.COORDINATOR, locale="nl"))
    query = {"location": str(azc["place"]), "week": azc["week"], "first": "ar", "second": "ar"}
    response = client.get("/notice-board", query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and '<html lang="nl"' in page
    assert 'id="form-problem"' in page and "Please check the form:" not in page  # in Dutch


def test_the_coordinators_menu_leads_to_it(client, coordinator, participant) -> None:
    client.sign_in(coordinator)
    assert 'href="/notice-board"' in client.get("/", headers=EN).get_data(as_text=True)
    client.sign_in(participant)
    assert 'href="/notice-board"' not in client.get("/", headers=EN).get_data(as_text=True)


def test_only_approved_places_are_offered(app, client, coordinator, azc) -> None:
    with app.app_context():
        factories.LocationFactory(name="Typed in by a volunteer", approved_at=None)
        db.session.commit()
        assert db.session.query(Location).count() >= 3
        assert db.session.get(Offer, azc["coffee"]) is not None
    client.sign_in(coordinator)
    page = client.get("/notice-board", headers=EN).get_data(as_text=True)
    assert "AZC Utrecht" in page and "Typed in by a volunteer" not in page
