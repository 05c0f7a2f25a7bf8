"""Out-of-range input, as a stranger, a participant or a coordinator would send it: a 4xx, never a 500.

Dates far in the past or future, ids beyond what the database holds (PostgreSQL's ``integer``
ends at 2**31-1), crafted cursors and page numbers are refused where they enter, with a clear
message. An export is written whole before it is sent, so it never stops half-way. Then a sweep
sends hostile values to every route, every query argument the app reads and every form field.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from werkzeug.datastructures import ImmutableMultiDict
from wtforms.fields.core import UnboundField

from einstein.attendance import exports
from einstein.db import db, utcnow
from einstein.forms import BaseForm
from einstein.models import Role, User
from tests import factories
from tests.courses.conftest import local_date
from tests.support.html import main
from tests.test_access import TABLE, extra_world

pytestmark = pytest.mark.postgres

EN = {"Accept-Language": "en"}
DATE_MESSAGE = "Please choose a date between"
PAGE_MESSAGE = "There is no page with that number."
#: Just past PostgreSQL's ``integer``, past ``bigint``, and past anything.
HUGE_IDS = [2**31, 2**63, 10**30]


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _cursor(micros: int | str, session_id: int | str) -> str:
    """A listing cursor as a stranger would craft it (the format is plain base64 of "micros.id")."""
    return base64.urlsafe_b64encode(f"{micros}.{session_id}".encode()).decode().rstrip("=")


@pytest.fixture
def listed(app) -> dict[str, int]:
    """One published session next week, so "the first page" has something on it."""
    with app.app_context():
        session = factories.SessionFactory(offer__title="Samen wandelen")
        return {"offer_id": session.offer_id, "session_id": session.id}


# --- the catalogue, as anyone ------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "date_to=9999-12-31",
        "date_from=0001-01-01",
        "date_from=9999-12-31",
        "date_to=0001-01-01",
        "date_from=0001-01-01&date_to=9999-12-31",
    ],
)
def test_a_visitor_asking_for_dates_out_of_range_gets_a_clear_400(client, listed, query) -> None:
    response = client.get("/?" + query, headers=EN)
    assert response.status_code == 400
    page = _text(response)
    assert DATE_MESSAGE in page and "field-errors" in page
    assert "Samen wandelen" in page  # the listing still shows, without the refused date


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(0, 2**31),
        _cursor(0, 2**63),
        _cursor(0, 10**30),
        _cursor(253402300799000000, 1),  # 9999-12-31 23:59:59
        _cursor(-62135596800000000, 1),  # 0001-01-01
        _cursor(10**17, 1),
        _cursor("1", "-9223372036854775809"),
    ],
)
def test_a_crafted_listing_cursor_gives_the_first_page(client, listed, cursor) -> None:
    response = client.get(f"/?after={cursor}", headers=EN)
    assert response.status_code == 200
    assert "Samen wandelen" in _text(response)


@pytest.mark.parametrize("offer_id", [*HUGE_IDS, 2**31 - 1, 0])
def test_an_offer_id_beyond_the_database_is_a_404(client, offer_id) -> None:
    for url in (f"/offers/{offer_id}", f"/offers/{offer_id}.ics", f"/sessions/{offer_id}.ics"):
        response = client.get(url, headers=EN)
        assert response.status_code == 404, url
        assert "Page not found" in _text(response)


@pytest.mark.parametrize("after", [str(n) for n in HUGE_IDS])
def test_a_huge_session_cursor_on_an_offer_page_shows_the_first_sessions(client, listed, after) -> None:
    response = client.get(f"/offers/{listed['offer_id']}?after={after}", headers=EN)
    assert response.status_code == 200
    assert f"/sessions/{listed['session_id']}.ics" in _text(response)


# --- ids a signed-in person sends ---------------------------------------------------------------


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_huge_ids_in_a_coordinators_addresses_are_404(client, coordinator, huge) -> None:
    client.sign_in(coordinator)
    for url in (
        f"/offers/{huge}/edit",
        f"/offers/{huge}/people",
        f"/offers/{huge}/completion",
        f"/sessions/{huge}/edit",
        f"/sessions/{huge}/attendance",
        f"/desk/people/{huge}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/offers/{huge}/approve").status_code == 404
    assert client.post(f"/outbox/{huge}/retry").status_code == 404


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_id_in_a_desk_booking_is_refused(app, client, coordinator, participant, huge) -> None:
    client.sign_in(coordinator)
    for key in (f"session-{huge}", f"offer-{huge}", "session-²", "session-١٢"):
        response = client.post(f"/desk/people/{participant.id}", data={"target": key}, headers=EN)
        assert response.status_code == 422, key
        assert "Not a valid choice." in _text(response)
    with app.app_context():
        from einstein.bookings.desk import target_from_key
        from einstein.courses.errors import CatalogueError
        from einstein.courses.services import find_or_add_organisation, find_or_add_place

        assert target_from_key(f"session-{huge}") is None and target_from_key("session-²") is None
        with pytest.raises(CatalogueError):
            find_or_add_place(str(huge), None, None, None, False)
        with pytest.raises(CatalogueError):
            find_or_add_organisation(str(huge), None)


# --- dates and page numbers a coordinator sends ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["start=9999-12-01&end=9999-12-31", "start=0001-01-01&end=0001-01-31", "start=2024-01-01&end=9999-12-31"],
)
def test_a_dashboard_period_out_of_range_is_a_clear_400(client, coordinator, query) -> None:
    client.sign_in(coordinator)
    for url in ("/dashboard?", "/exports?"):
        response = client.get(url + query, headers=EN)
        assert response.status_code == 400, url
        assert DATE_MESSAGE in _text(response)
    assert client.get("/exports/bookings.csv?" + query).status_code == 400
    assert client.get("/exports/sessions.xlsx?" + query).status_code == 400


@pytest.mark.parametrize("page", ["100000000000000000000", "10001", str(2**63), "-5", "0"])
def test_a_page_number_out_of_range_is_a_clear_400(client, coordinator, page) -> None:
    client.sign_in(coordinator)
    for url in (
        f"/dashboard?page={page}",
        f"/dashboard?spage={page}",
        f"/people?page={page}",
        f"/my/offers?page={page}",
        f"/my/offers?all=1&page={page}",
    ):
        response = client.get(url, headers=EN)
        assert response.status_code == 400, url
        assert PAGE_MESSAGE in main(_text(response))


def test_the_last_page_number_allowed_is_just_an_empty_page(client, coordinator) -> None:
    client.sign_in(coordinator)
    for url in ("/dashboard?page=10000&spage=10000", "/people?page=10000", "/my/offers?page=10000"):
        assert client.get(url).status_code == 200, url


# --- schedules a volunteer sends ----------------------------------------------------------------------


def test_adding_sessions_past_the_window_is_refused(app, client, volunteer, activity) -> None:
    client.sign_in(volunteer)
    url = f"/offers/{activity['offer_id']}/sessions/new"
    schedule = {"start_time": "10:00", "end_time": "12:00", "repeat": "weekly", "count": "8"}
    response = client.post(url, data={**schedule, "first_date": "9999-12-30"}, headers=EN)
    assert response.status_code == 422 and DATE_MESSAGE in _text(response)
    response = client.post(url, data={**schedule, "first_date": "2100-12-20"}, headers=EN)
    assert response.status_code == 422 and "The last session would be after" in _text(response)
    assert client.post(url, data={**schedule, "first_date": local_date(7).isoformat()}).status_code == 302


def test_moving_a_session_to_the_year_9999_is_refused(app, client, volunteer, activity) -> None:
    client.sign_in(volunteer)
    with app.app_context():
        location_id = factories.LocationFactory().id
    response = client.post(
        f"/sessions/{activity['session_id']}/edit",
        data={
            "day": "9999-12-31",
            "start_time": "23:00",
            "end_time": "23:30",
            "location_id": str(location_id),
            "languages": ["nl"],
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert DATE_MESSAGE in _text(response)


# --- the export never stops half-way ------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}])
def test_an_export_that_fails_half_way_sends_an_error_not_half_a_file(
    app, client, coordinator, monkeypatch, app_config
) -> None:
    with app.app_context():
        for day in range(3):
            factories.SessionFactory(starts_at=utcnow() + timedelta(days=day + 1))

    def breaks_after_one_row(self: Any, period: Any) -> Any:
        yield ["first", "row"]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(exports.SessionsExport, "rows", breaks_after_one_row)
    client.sign_in(coordinator)
    response = client.get("/exports/sessions.csv", headers=EN)
    assert response.status_code == 500
    assert "text/csv" not in response.headers["Content-Type"]
    assert "first" not in _text(response)


def test_an_export_says_how_long_it_is(app, client, coordinator) -> None:
    with app.app_context():
        factories.SessionFactory(offer__title="Fietsles")
    client.sign_in(coordinator)
    response = client.get("/exports/sessions.csv", headers=EN)
    assert response.status_code == 200
    body = response.get_data()
    assert "Fietsles" in body.decode("utf-8-sig")
    assert int(response.headers["Content-Length"]) == len(body)


# --- the sweep: every route, hostile values everywhere -------------------------------------------------

#: Values for ids and other parts of a path: the first two on every route, the others in turn.
HOSTILE_PATH = [
    str(2**31),
    str(2**63),
    "0",
    "-1",
    str(10**30),
    "abc",
    "%00",
    "%D9%A1%D9%A2",  # Arabic-Indic digits
    "%C2%B2",  # a superscript two: a "digit" that int() refuses
    "%E2%80%AE" + "%D8%A3" * 300,  # an RTL override and long Arabic
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "'%20OR%201=1--",
]

#: Query-string arguments the app reads (grep request.args); the sweep finds the others itself.
QUERY_NAMES = [
    "date_from",
    "date_to",
    "start",
    "end",
    "after",
    "page",
    "spage",
    "q",
    "kind",
    "category",
    "language",
    "free",
    "past",
    "next",
    "lang",
    "all",
    "name",
    "role",
]
QUERY_VALUES = [
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    str(10**20),
    str(2**31),
    "-5",
    "0",
    "x" * 5000,
    "\u200f\u202e\x00",
    "²",
    "١٢",
    "<script>alert(1)</script>' OR 1=1--",
    "//evil.example/%2e%2e",
]


class _Recording(ImmutableMultiDict):
    """Query-string arguments that note every name a view asks for, there or not."""

    asked: ClassVar[set[str]] = set()

    def __getitem__(self, key: Any) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)

    def getlist(self, key: Any, type: Any = None) -> Any:
        self.asked.add(key)
        return super().getlist(key, type)


def _fill(rule: Any, values: dict[str, str]) -> str:
    """The path of ``rule`` with each of its variables replaced by text, as typed in an address bar."""
    return re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


def _sample(values: list[Any], always: int, turn: int, count: int) -> list[Any]:
    """The first ``always`` values, then ``count`` of the others, starting further on each ``turn``."""
    others = values[always:]
    return values[:always] + [others[(turn * count + k) % len(others)] for k in range(count)]


def _hostile_queries(names: list[str]) -> list[dict[str, str]]:
    """Every name with every hostile value, all names at once, the values turning round."""
    return [
        {name: QUERY_VALUES[(i + shift) % len(QUERY_VALUES)] for i, name in enumerate(names)}
        for shift in range(len(QUERY_VALUES))
    ]


def _form_field_names() -> list[str]:
    """The name of every field of every form in einstein."""
    names: set[str] = set()
    pending = [BaseForm]
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        for cls in form.__mro__:
            names.update(name for name, value in vars(cls).items() if isinstance(value, UnboundField))
    return sorted(names)


@pytest.fixture
def sweep(app, make_user, participant, volunteer, coordinator) -> dict[str, Any]:
    """The world of tests/test_access.py, a browser signed in as a coordinator and one signed in as no one."""
    from einstein.auth.tokens import make_reset_token, make_verify_token

    app.config.update(RATELIMIT_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    app.request_class = type("RecordingRequest", (app.request_class,), {"parameter_storage_class": _Recording})
    target = make_user(role=Role.PARTICIPANT, email_verified_at=None)
    desk_person = make_user(role=Role.PARTICIPANT, password_hash=None, email=None, phone="+31687654321")
    world = extra_world(app, {"participant": participant, "volunteer": volunteer})
    with app.app_context():
        from einstein.auth.sessions import start_login_session

        row = db.session.get(User, target.id)
        start_login_session(row)
        db.session.commit()
        world.update(
            target=target,
            desk_person=desk_person,
            target_session_id=row.login_sessions[0].id,
            verify_token=make_verify_token(row, row.email),
            reset_token=make_reset_token(row),
        )
    clients = {"anonymous": app.test_client(), "coordinator": app.test_client()}
    clients["coordinator"].sign_in(coordinator)
    adapter = app.url_map.bind("einstein.test")
    routes = []
    for (endpoint, method), rule in sorted(TABLE.items()):
        url = rule.url(world)
        werkzeug_rule, values = adapter.match(url.partition("?")[0], method=method, return_rule=True)
        assert werkzeug_rule.endpoint == endpoint
        routes.append((method, werkzeug_rule, url, {k: str(v) for k, v in values.items()}, rule.data(world)))
    return {"clients": clients, "routes": routes}


def _problems(responses: list[tuple[str, str, int]]) -> list[str]:
    return [f"{who}: {what} -> {status}" for who, what, status in responses if status >= 500]


def test_no_hostile_address_or_query_string_gets_a_5xx(app, sweep) -> None:
    answers: list[tuple[str, str, int]] = []
    asked_anywhere: set[str] = set()

    def get(who: str, url: str, query: dict[str, str] | None = None) -> None:
        response = sweep["clients"][who].get(url, query_string=query)
        answers.append((who, f"{url[:120]} {sorted(query.items()) if query else ''}"[:300], response.status_code))
        response.close()

    for turn, (method, rule, url, valid, _data) in enumerate(sweep["routes"]):
        if method != "GET":
            continue
        for who in sweep["clients"]:
            for name in rule.arguments:
                for value in _sample(HOSTILE_PATH, 2, turn, 3):
                    get(who, _fill(rule, {**valid, name: value}))
            # the names this route reads, asked for by the view whether they are there or not
            _Recording.asked.clear()
            get(who, url)
            asked = sorted(_Recording.asked)
            asked_anywhere.update(asked)
            for query in _hostile_queries(asked or QUERY_NAMES)[: None if asked else 1]:
                get(who, url.partition("?")[0], query)
    assert not _problems(answers), "\n".join(_problems(answers))
    # the sweep saw the arguments the app reads (if not, the recording no longer works)
    assert asked_anywhere >= {"date_from", "date_to", "start", "end", "after", "page", "spage", "q", "past", "next"}


def test_no_hostile_form_gets_a_5xx(app, sweep) -> None:
    names = _form_field_names()
    answers: list[tuple[str, str, int]] = []
    for turn, (method, rule, _url, valid, data) in enumerate(sweep["routes"]):
        if method != "POST" or rule.endpoint == "auth.logout":
            continue
        path = _fill(rule, valid)
        for shift in _sample(list(range(len(QUERY_VALUES))), 0, turn, 2):
            form = {name: QUERY_VALUES[(i + shift) % len(QUERY_VALUES)] for i, name in enumerate(names)}
            for who, client in sweep["clients"].items():
                response = client.post(path, data={**data, **form, "csrf_token": client.csrf_token()})
                answers.append((who, f"POST {path} ({shift})", response.status_code))
                response.close()
    assert not _problems(answers), "\n".join(_problems(answers))
    assert sweep["clients"]["coordinator"].get("/dashboard").status_code == 200  # signed in all along
