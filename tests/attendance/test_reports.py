"""The coordinator dashboard and exports (the newcomer / neighbour mix: test_mix.py)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from einstein.attendance import reports
from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.auth.models import Audience
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import OfferSession, User
from tests import factories
from tests.support.html import main
from tests.support.queries import count_queries


@pytest.fixture
def held(app, make_user, volunteer):
    """A session that took place yesterday: 8 booked (6 newcomers, 2 neighbours), marked."""
    people = [make_user(name=f"P{i}", audience=Audience.NEWCOMER if i < 6 else Audience.NEIGHBOUR) for i in range(8)]
    with app.app_context():
        session = factories.SessionFactory(
            offer__capacity=10, offer__title="Samen koken", offer__organiser=db.session.get(User, volunteer.id)
        )
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(session.offer, session)) for p in people]
        session.starts_at, session.ends_at = utcnow() - timedelta(days=1), utcnow() - timedelta(days=1, hours=-2)
        db.session.flush()
        by = db.session.get(User, volunteer.id)
        for index, booking in enumerate(booked):
            status = (
                AttendanceStatus.PRESENT
                if index < 5
                else AttendanceStatus.ABSENT
                if index < 7
                else AttendanceStatus.EXCUSED
            )
            mark(session, booking, status, by)
        db.session.commit()
        return {"session_id": session.id, "offer_id": session.offer_id, "people": people}


def test_the_dashboard_is_cached_for_a_minute(app, client, coordinator, held) -> None:
    client.sign_in(coordinator)
    client.get("/dashboard")
    with count_queries(app) as statements:
        assert client.get("/dashboard").status_code == 200
    assert len(statements) == 1  # only the sign-in check: the figures come from the cache


def test_the_dashboard_figures(app, client, coordinator, held) -> None:
    client.sign_in(coordinator)
    page = main(client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True))
    with app.app_context():
        totals = reports.totals(reports.Period.default())
    assert (totals.sessions, totals.places, totals.booked, totals.present, totals.absent, totals.excused) == (
        1,
        10,
        8,
        5,
        2,
        1,
    )
    assert totals.fill_rate == 80 and totals.no_show_rate == 25
    assert "Samen koken" in page and "80%" in page and "25%" in page
    assert "<svg" in page and "Places booked and people present per week" in page


def test_the_follow_up_list(app, client, coordinator, make_user) -> None:
    person = make_user(name="Yonas Tesfay", phone="+31612345678")
    with app.app_context():
        me = db.session.get(User, person.id)
        by = db.session.get(User, coordinator.id)
        for days in (3, 10):
            session = factories.SessionFactory(starts_at=utcnow() + timedelta(days=1))
            booking = bookings.book(me, bookings.Target(session.offer, session))
            session.starts_at, session.ends_at = (
                utcnow() - timedelta(days=days),
                utcnow() - timedelta(days=days, hours=-2),
            )
            db.session.flush()
            mark(session, booking, AttendanceStatus.ABSENT, by)
        db.session.commit()
    client.sign_in(coordinator)
    page = main(client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True))
    section = page.split('id="follow-heading"')[1]
    assert "Yonas Tesfay" in section and "2 sessions missed" in section and "06 12345678" in section


def test_participants_and_volunteers_cannot_see_reports(client, participant, volunteer, held) -> None:
    for person in (participant, volunteer):
        client.sign_in(person)
        for url in ("/dashboard", "/exports", "/exports/bookings.csv", "/exports/attendance.xlsx"):
            assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "start=yesterday",
        "start=2026-02-30",
        "end=2020-01-01&start=2026-01-01",
        "category=king",
        "start=2000-01-01&end=2026-01-01",
    ],
)
def test_bad_report_filters_are_a_clear_400(client, coordinator, query) -> None:
    client.sign_in(coordinator)
    assert client.get("/dashboard?" + query).status_code == 400
    assert client.get("/exports?" + query).status_code == 400
    assert client.get("/exports/sessions.csv?" + query).status_code == 400


def test_unknown_exports_are_404(client, coordinator) -> None:
    client.sign_in(coordinator)
    assert client.get("/exports/passwords.csv").status_code == 404
    assert client.get("/exports/bookings.pdf").status_code == 404


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_exports_name_people_but_never_their_audience(app, client, coordinator, held) -> None:
    client.sign_in(coordinator)
    for name in ("sessions", "bookings", "attendance"):
        response = client.get(f"/exports/{name}.csv", headers={"Accept-Language": "en"})
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = _csv(response)
        text = response.get_data(as_text=True).lower()
        assert "newcomer" not in text and "neighbour" not in text and "audience" not in text
        assert len(rows) > 1
    bookings_rows = _csv(client.get("/exports/bookings.csv", headers={"Accept-Language": "en"}))
    assert bookings_rows[0][:5] == ["Reference", "Offer", "Kind", "Session", "Name"]
    assert {row[4] for row in bookings_rows[1:]} == {f"P{i}" for i in range(8)}
    attendance_rows = _csv(client.get("/exports/attendance.csv", headers={"Accept-Language": "en"}))
    assert sorted(row[4] for row in attendance_rows[1:]) == ["Absent", "Absent", "Excused"] + ["Present"] * 5


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+31 call me", "-1+1", "@SUM(A1)"])
def test_a_name_that_starts_a_formula_is_neutralised(app, client, coordinator, make_user, name) -> None:
    person = make_user()
    with app.app_context():
        db.session.get(User, person.id).name = name  # as if typed before validation existed
        session = factories.SessionFactory()
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    client.sign_in(coordinator)
    rows = _csv(client.get("/exports/bookings.csv"))
    assert rows[1][4] == "'" + name
    workbook = zipfile.ZipFile(io.BytesIO(client.get("/exports/bookings.xlsx").data))
    sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere: the name is a text cell
    # the name is a cell of type "s" (shared string, i.e. text) whose string is the name
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    strings = [
        "".join(item.itertext())
        for item in ElementTree.fromstring(workbook.read("xl/sharedStrings.xml")).iter(f"{main}si")  # noqa: S314
    ]
    cells = ElementTree.fromstring(sheet).iter(f"{main}c")  # noqa: S314 (our own export)
    assert name in {strings[int(cell.findtext(f"{main}v"))] for cell in cells if cell.get("t") == "s"}


def test_an_xlsx_export_is_a_real_workbook(client, coordinator, held) -> None:
    client.sign_in(coordinator)
    response = client.get("/exports/sessions.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "xl/workbook.xml" in names and "xl/worksheets/sheet1.xml" in names


@pytest.mark.postgres
@pytest.mark.parametrize("app_config", [{"CACHE_TYPE": "NullCache"}])  # count the real queries, not the cache
def test_the_dashboard_makes_a_fixed_number_of_queries(app, client, coordinator, app_config) -> None:
    from tests.support.bulk import course_with_bookings

    client.sign_in(coordinator)
    client.get("/dashboard")  # the first look freezes the mix of the months that are over
    counts = []
    for size in (10, 10_000):
        course_with_bookings(app, size, marked=size // 2)
        with count_queries(app) as statements:
            assert client.get("/dashboard").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_my_attendance_is_on_my_bookings(app, client, held) -> None:
    person = held["people"][0]
    client.sign_in(person)
    page = client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your attendance: Present" in page
    with app.app_context():
        assert db.session.get(OfferSession, held["session_id"]).present_count == 5
