"""Volunteers help at sessions, and einstein counts the hours they gave.

The story: Sara (a volunteer) runs a cooking evening and asks for two helpers per session. Amal
(who reads Arabic) and Bram sign up; Chen is one too many, until Amal finds she can't come after
all. Later Amal's hours add up from the sessions that took place: not the cancelled one, not the
one still to come, not the one she withdrew from. She prints a statement of volunteer work in
Arabic and, for a work-permit application, in Dutch; the coordinator sees the hours in the reports.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from einstein.attendance import volunteering
from einstein.attendance.models import Helper
from einstein.db import db
from einstein.i18n import TIMEZONE, local_today
from einstein.models import Offer, OfferSession, OfferStatus, Role, SessionStatus, User
from tests import factories
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_LINES
from tests.support.html import main as main_of

EN = {"Accept-Language": "en"}


def _said(app, locale: str, text: str, **values: Any) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(text, **values)


def _sign_in(client, person) -> None:
    """Sign in, with this device's pages in English (the texts these tests read; the messages and
    the statement stay in the person's own language)."""
    client.sign_in(person)
    with client.session_transaction() as session:
        session["lang"] = "en"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def main(response) -> str:
    """What the page says in its <main>, as the reader reads it (entities unescaped)."""
    return main_of(_text(response))


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {
        "sara": make_user(role=Role.VOLUNTEER, name="Sara Jansen", locale="nl"),
        "amal": make_user(role=Role.VOLUNTEER, name="Amal Yusuf", locale="ar"),
        "bram": make_user(role=Role.VOLUNTEER, name="Bram de Vries", locale="en"),
        "chen": make_user(role=Role.VOLUNTEER, name="Chen Li", locale="en"),
        "pia": make_user(role=Role.PARTICIPANT, name="Pia Participant", locale="en"),
        "noor": make_user(role=Role.COORDINATOR, name="Noor Coordinator", locale="en"),
    }


@pytest.fixture
def evening(app, people) -> dict[str, int]:
    """Sara's cooking evening, with one session next week (two hours)."""
    with app.app_context():
        sara = db.session.get(User, people["sara"].id)
        session = factories.SessionFactory(
            offer__organiser=sara, offer__title="Cooking evening", starts_at=days_ahead(7)
        )
        return {"offer_id": session.offer_id, "session_id": session.id}


def _ask_for_helpers(client, people, evening, number: str = "2"):
    _sign_in(client, people["sara"])
    return client.post(
        f"/offers/{evening['offer_id']}/helpers",
        data={"number": number, "csrf_token": client.csrf_token()},
        headers=EN,
    )


def _help(client, person, session_id: int):
    _sign_in(client, person)
    return client.post(f"/sessions/{session_id}/help", data={"csrf_token": client.csrf_token()}, headers=EN)


def _withdraw(client, person, session_id: int):
    _sign_in(client, person)
    return client.post(f"/sessions/{session_id}/help/withdraw", data={"csrf_token": client.csrf_token()}, headers=EN)


def _helpers(app, session_id: int) -> list[str]:
    with app.app_context():
        query = sa.select(User.name).join(Helper, Helper.user_id == User.id).where(Helper.session_id == session_id)
        return sorted(db.session.scalars(query))


# --- helping at a session ------------------------------------------------------------------------


def test_volunteers_sign_up_until_enough_and_one_withdraws(app, client, people, evening) -> None:
    offer_url = f"/offers/{evening['offer_id']}"
    session_id = evening["session_id"]
    # nothing asked yet: no button, and a sign-up is refused with a reason
    _sign_in(client, people["amal"])
    assert "I'll help" not in main(client.get(offer_url, headers=EN))
    response = _help(client, people["amal"], session_id)
    assert response.status_code == 303
    assert _helpers(app, session_id) == []

    assert _ask_for_helpers(client, people, evening).status_code == 303
    _sign_in(client, people["amal"])
    page = main(client.get(offer_url, headers=EN))
    assert "Helpers: 0 of 2" in page and "I'll help" in page

    assert _help(client, people["amal"], session_id).status_code == 303
    assert _help(client, people["bram"], session_id).status_code == 303
    refused = _help(client, people["chen"], session_id)
    assert refused.status_code == 303
    page = main(client.get(refused.headers["Location"], headers=EN))
    assert "there are enough helpers for this session already" in page
    assert "Helpers: 2 of 2" in page and "I'll help" not in page
    assert _helpers(app, session_id) == ["Amal Yusuf", "Bram de Vries"]

    # the organiser sees who helps; another volunteer does not, a participant cannot sign up
    _sign_in(client, people["sara"])
    page = main(client.get(f"/offers/{evening['offer_id']}/helpers", headers=EN))
    assert "Amal Yusuf" in page and "Bram de Vries" in page
    _sign_in(client, people["chen"])
    assert client.get(f"/offers/{evening['offer_id']}/helpers").status_code == 403
    assert _help(client, people["pia"], session_id).status_code == 403
    # Sara organises: her hours count already
    _help(client, people["sara"], session_id)
    assert _helpers(app, session_id) == ["Amal Yusuf", "Bram de Vries"]

    # Amal can't come after all: asked once more, in her language, then her place goes to Chen
    _sign_in(client, people["amal"])
    page = main(client.get(offer_url, headers=EN))
    assert "I can't help after all" in page and "You are helping" in page
    question = client.get(f"/sessions/{session_id}/help/withdraw", headers={"Accept-Language": "ar"})
    assert question.status_code == 200
    assert _withdraw(client, people["amal"], session_id).status_code == 303
    assert _helpers(app, session_id) == ["Bram de Vries"]
    assert _help(client, people["chen"], session_id).status_code == 303
    assert _helpers(app, session_id) == ["Bram de Vries", "Chen Li"]
    # withdrawing twice, or without having signed up, changes nothing and never fails
    assert _withdraw(client, people["amal"], session_id).status_code == 303
    assert client.get(f"/sessions/{session_id}/help/withdraw").status_code == 303


def test_no_sign_up_once_started_cancelled_or_not_public(app, client, people, evening) -> None:
    _ask_for_helpers(client, people, evening)
    with app.app_context():
        offer = db.session.get(Offer, evening["offer_id"])
        past = factories.SessionFactory(offer=offer, starts_at=days_ahead(-2))
        cancelled = factories.SessionFactory(offer=offer, starts_at=days_ahead(8), status=SessionStatus.CANCELLED)
        pending = factories.SessionFactory(
            offer__organiser=db.session.get(User, people["sara"].id),
            offer__status=OfferStatus.PENDING,
            offer__helpers_wanted=2,
        )
        ids = {"past": past.id, "cancelled": cancelled.id, "pending": pending.id}
    for name in ("past", "cancelled"):
        response = _help(client, people["amal"], ids[name])
        assert response.status_code == 303
        assert _helpers(app, ids[name]) == []
    assert _help(client, people["amal"], ids["pending"]).status_code == 404
    assert _help(client, people["amal"], 2**31).status_code == 404
    # once it has started, a sign-up is part of the record: no withdrawing
    with app.app_context():
        db.session.add(Helper(session_id=ids["past"], user_id=people["bram"].id))
        db.session.commit()
    response = _withdraw(client, people["bram"], ids["past"])
    assert "This session has already started." in main(client.get(response.headers["Location"], headers=EN))
    assert _helpers(app, ids["past"]) == ["Bram de Vries"]
    # no CSRF token: refused, nothing stored
    _sign_in(client, people["chen"])
    assert client.post(f"/sessions/{evening['session_id']}/help", data={}, csrf=False).status_code == 400
    assert _helpers(app, evening["session_id"]) == []


@pytest.mark.parametrize(
    "number", ["-1", "51", "two", "1.5", "", *(value for value in HOSTILE_LINES.values() if value.strip())]
)
def test_the_number_of_helpers_is_checked(app, client, people, evening, number) -> None:
    response = _ask_for_helpers(client, people, evening, number[:200])
    assert response.status_code == 422
    page = main(response)
    assert any(
        message in page
        for message in ("Between 0 and 50 helpers.", "Please give a number (0 if you need no helpers).", "Not a valid")
    ), page
    with app.app_context():
        assert db.session.get(Offer, evening["offer_id"]).helpers_wanted == 0


def test_a_wrong_number_is_explained_in_the_readers_language(app, client, people, evening) -> None:
    client.sign_in(people["sara"])
    response = client.post(
        f"/offers/{evening['offer_id']}/helpers",
        data={"number": "99", "csrf_token": client.csrf_token()},
        headers={"Accept-Language": "nl"},
    )
    assert response.status_code == 422
    assert _said(app, "nl", "Between 0 and %(max)d helpers.", max=50) in _text(response)


@pytest.mark.postgres
def test_sign_ups_never_pass_the_number_wanted_under_concurrency(app, people, evening, make_user) -> None:
    """Many volunteers tap "I'll help" at once for the last two places: two get them."""
    from concurrent.futures import ThreadPoolExecutor

    with app.app_context():
        db.session.get(Offer, evening["offer_id"]).helpers_wanted = 2
        db.session.commit()
    crowd = [make_user(role=Role.VOLUNTEER) for _ in range(8)]
    clients = []
    for person in crowd:
        client = app.test_client()
        client.sign_in(person)
        clients.append((client, client.csrf_token()))

    def tap(pair) -> int:
        client, token = pair
        return client.post(f"/sessions/{evening['session_id']}/help", data={"csrf_token": token}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(tap, clients))
    assert set(statuses) == {303}
    assert len(_helpers(app, evening["session_id"])) == 2


# --- the hours ------------------------------------------------------------------------------------


def _clock_change_night() -> tuple[datetime, datetime]:
    """22:00 to 06:00 on the clocks, the night the clocks went back last year (the last Sunday of
    October, 03:00 in Utrecht): nine hours passed."""
    last = date(local_today().year - 1, 10, 31)
    sunday = last - timedelta(days=(last.weekday() - 6) % 7)
    start = datetime.combine(sunday - timedelta(days=1), time(22, 0), tzinfo=TIMEZONE)
    end = datetime.combine(sunday, time(6, 0), tzinfo=TIMEZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


@pytest.fixture
def amals_record(app, client, people, evening) -> dict[str, Any]:
    """Sessions Amal organised or helped at, some of which took place and count."""
    _ask_for_helpers(client, people, evening)
    # she withdraws from next week's evening, which later takes place without her
    assert _help(client, people["amal"], evening["session_id"]).status_code == 303
    assert _withdraw(client, people["amal"], evening["session_id"]).status_code == 303
    with app.app_context():
        amal = db.session.get(User, people["amal"].id)
        offer = db.session.get(Offer, evening["offer_id"])
        withdrawn = db.session.get(OfferSession, evening["session_id"])
        withdrawn.starts_at, withdrawn.ends_at = days_ahead(-5), days_ahead(-5) + timedelta(hours=2)
        helped = factories.SessionFactory(offer=offer, starts_at=days_ahead(-3))  # 2 hours
        cancelled = factories.SessionFactory(offer=offer, starts_at=days_ahead(-4), status=SessionStatus.CANCELLED)
        future = factories.SessionFactory(offer=offer, starts_at=days_ahead(3))
        night_start, night_end = _clock_change_night()
        night = factories.SessionFactory(offer=offer, starts_at=night_start, ends_at=night_end)
        for session in (helped, cancelled, future, night):
            db.session.add(Helper(session_id=session.id, user_id=amal.id))
        # and she runs a walking group of her own: 90 minutes
        walk = factories.SessionFactory(
            offer__organiser=amal,
            offer__title="Walking group",
            starts_at=days_ahead(-10),
            ends_at=days_ahead(-10) + timedelta(minutes=90),
        )
        # an activity of hers that never got published does not count
        factories.SessionFactory(offer__organiser=amal, offer__status=OfferStatus.REJECTED, starts_at=days_ahead(-6))
        db.session.commit()
        return {"night": night.id, "walk_offer": walk.offer_id, "offer_id": offer.id}


@pytest.mark.postgres
def test_a_volunteers_hours_add_up_from_sessions_that_took_place(app, people, amals_record) -> None:
    with app.app_context():
        amal = db.session.get(User, people["amal"].id)
        rows = volunteering.given(amal)
        hours = {(row.offer.title, row.role): row.hours for row in rows}
        night = db.session.get(OfferSession, amals_record["night"])
        assert volunteering.hours_of(night) == 9.0
        assert sorted(row.hours for row in rows) == [1.5, 2.0, 9.0]
        assert hours[("Walking group", volunteering.ORGANISED)] == 1.5
        statement = volunteering.statement_for(amal)
        assert statement.hours == 12.5
        assert statement.sessions == 3
        assert statement.name == "Amal Yusuf"
        assert statement.organisation == "Plan Einstein Utrecht"
        assert statement.first == night.starts_at.astimezone(TIMEZONE).date()
        assert statement.last == (days_ahead(-3)).astimezone(TIMEZONE).date()
        assert {(a.offer.title, a.sessions, a.hours) for a in statement.activities} == {
            ("Cooking evening", 2, 11.0),
            ("Walking group", 1, 1.5),
        }
        # Sara organised the cooking evenings that took place: three of them (the withdrawn one too)
        sara = db.session.get(User, people["sara"].id)
        assert volunteering.statement_for(sara).hours == 2 + 2 + 9


def test_my_volunteer_work_and_the_statement_in_two_languages(app, client, people, amals_record) -> None:
    _sign_in(client, people["amal"])
    page = main(client.get("/my/volunteering", headers=EN))
    assert "12.5" in page and "Walking group" in page and "Cooking evening" in page
    assert "My volunteer work" in _text(client.get("/my/volunteering", headers=EN))  # in the menu and the title

    own = client.get("/my/volunteering/statement", headers=EN)
    assert own.status_code == 200
    document = _text(own)
    assert 'lang="ar"' in document and 'dir="rtl"' in document
    assert 'href="/my/volunteering/statement?in=nl"' in document  # the switch to Dutch
    assert _said(app, "ar", "Statement of volunteer work") in document
    assert "Amal Yusuf" in document and "Plan Einstein Utrecht" in document
    dutch = _text(client.get("/my/volunteering/statement?in=nl", headers=EN))
    assert _said(app, "nl", "Statement of volunteer work") in dutch
    assert "12,5" in dutch  # Dutch writes decimals with a comma
    assert _said(app, "nl", "Date of issue:") in dutch
    assert "Walking group" in dutch and "{% block" not in dutch
    for wrong in ("xx", "../nl", "<script>", "nl" * 100):
        assert client.get("/my/volunteering/statement", query_string={"in": wrong}).status_code == 400

    # a volunteer without hours gets an honest, empty statement; a participant none at all
    _sign_in(client, people["chen"])
    assert "has no volunteer hours recorded yet." in _text(client.get("/my/volunteering/statement?in=en"))
    _sign_in(client, people["pia"])
    assert client.get("/my/volunteering").status_code == 403
    assert client.get("/my/volunteering/statement").status_code == 403


def test_the_organisation_on_the_statement_is_a_setting(app, client, people, amals_record) -> None:
    app.config["VOLUNTEER_ORGANISATION"] = "Gemeente Utrecht"
    _sign_in(client, people["amal"])
    assert "Gemeente Utrecht" in _text(client.get("/my/volunteering/statement?in=nl"))


@pytest.mark.postgres
def test_coordinators_see_the_volunteers_hours_and_export_them(app, client, people, amals_record) -> None:
    client.sign_in(people["noor"])
    start = (local_today() - timedelta(days=30)).isoformat()
    end = local_today().isoformat()
    page = main(client.get("/dashboard/volunteers", query_string={"start": start, "end": end}, headers=EN))
    # the clock-change night was last year: outside this period
    assert "Amal Yusuf" in page and "3.5" in page
    assert "Sara Jansen" in page
    assert "Noor Coordinator" not in page
    assert client.get("/dashboard/volunteers", query_string={"start": "yesterday"}).status_code == 400

    # exports are in the coordinator's language: in Dutch, hours with a decimal comma
    with app.app_context():
        db.session.get(User, people["noor"].id).locale = "nl"
        db.session.commit()
    csv_response = client.get("/exports/volunteer-hours.csv", query_string={"start": start, "end": end})
    assert csv_response.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    amal = [row for row in rows[1:] if row[0] == "Amal Yusuf"]
    assert sorted(row[-1] for row in amal) == ["1,5", "2"]
    xlsx = client.get("/exports/volunteer-hours.xlsx", query_string={"start": start, "end": end}, headers=EN)
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][-1] == _said(app, "nl", "Hours")
    assert sorted(row[-1] for row in values[1:] if row[0] == "Amal Yusuf") == [1.5, 2]

    _sign_in(client, people["sara"])
    assert client.get("/dashboard/volunteers").status_code == 403
