"""Exports a coordinator opens in Excel as they are: their language, the right columns, real dates.

The story: Noor, a coordinator who reads Dutch, downloads last week's attendance. Dutch Excel
opens the CSV in columns (a semicolon between fields, UTF-8 with a byte order mark), the headers
and values are Dutch ("Aanwezig", not "present"), and the XLSX has real dates, a frozen header,
a filter and columns wide enough to read.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.audit.models import AuditEvent
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.models import Role, User
from tests import factories
from tests.support.clock import days_ahead

NL = {"Accept-Language": "nl"}
EN = {"Accept-Language": "en"}


def _said(app, locale: str, text: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(text)


@pytest.fixture
def dutch_coordinator(make_user) -> Any:
    return make_user(role=Role.COORDINATOR, name="Noor de Jong", locale="nl")


@pytest.fixture
def english_coordinator(make_user) -> Any:
    return make_user(role=Role.COORDINATOR, name="Noor Smith", locale="en")


@pytest.fixture
def evening(app, make_user, volunteer) -> dict[str, Any]:
    """A cooking evening yesterday at 19:00: Amal came, Bram did not, Chiara said she could not."""
    people = [make_user(name=name) for name in ("Amal", "Bram", "Chiara")]
    with app.app_context():
        session = factories.SessionFactory(
            offer__title="Samen koken", offer__capacity=10, offer__organiser=db.session.get(User, volunteer.id)
        )
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(session.offer, session)) for p in people]
        session.starts_at = days_ahead(-1, time(19))
        session.ends_at = session.starts_at + timedelta(hours=2)
        db.session.flush()
        by = db.session.get(User, volunteer.id)
        for booking, status in zip(
            booked, (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED), strict=True
        ):
            mark(session, booking, status, by)
        db.session.commit()
        return {"starts": session.starts_at.astimezone(TIMEZONE), "references": [b.reference for b in booked]}


def _excel_reads(body: bytes) -> tuple[csv.Dialect, list[list[str]]]:
    """Read a CSV as a spreadsheet program does: find the encoding from the BOM, sniff the separator."""
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark: Excel would guess the encoding"
    text = body.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.split("\r\n", 2)[0] + "\r\n" + text.split("\r\n", 2)[1])
    return dialect, list(csv.reader(io.StringIO(text), dialect))


def test_a_dutch_coordinator_gets_a_csv_that_dutch_excel_opens_in_columns(
    app, client, dutch_coordinator, evening
) -> None:
    client.sign_in(dutch_coordinator)
    response = client.get("/exports/attendance.csv", headers=NL)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    dialect, rows = _excel_reads(response.get_data())
    assert dialect.delimiter == ";"
    header = rows[0]
    english = ["Reference", "Name", "Offer", "Session", "Attendance", "Beyond the places", "Marked at"]
    assert header == [_said(app, "nl", title) for title in english]
    assert header[1] == "Naam" and header[4] == "Aanwezigheid"
    assert all(len(row) == len(header) for row in rows)
    statuses = sorted(row[4] for row in rows[1:])
    assert statuses == sorted(_said(app, "nl", label) for label in ("Present", "Absent", "Excused"))
    assert "present" not in statuses and "Aanwezig" in statuses
    assert {row[3] for row in rows[1:]} == {evening["starts"].strftime("%Y-%m-%d 19:00")}


def test_an_english_coordinator_gets_commas_and_english_words(app, client, english_coordinator, evening) -> None:
    client.sign_in(english_coordinator)
    dialect, rows = _excel_reads(client.get("/exports/bookings.csv", headers=EN).get_data())
    assert dialect.delimiter == ","
    assert rows[0][:7] == ["Reference", "Offer", "Kind", "Session", "Name", "Status", "Beyond the places"]
    assert {row[5] for row in rows[1:]} == {"Booked"} and {row[2] for row in rows[1:]} == {"Activity"}
    assert {row[7] for row in rows[1:]} == {"Online"}
    assert "confirmed" not in {cell for row in rows for cell in row}


def test_the_sessions_csv_has_words_and_numbers(app, client, dutch_coordinator, evening) -> None:
    client.sign_in(dutch_coordinator)
    _, rows = _excel_reads(client.get("/exports/sessions.csv", headers=NL).get_data())
    header, [line] = rows[0], rows[1:]
    assert line[header.index(_said(app, "nl", "Kind"))] == _said(app, "nl", "Activity")
    assert line[header.index(_said(app, "nl", "Places"))] == "10"
    assert line[header.index(_said(app, "nl", "Present"))] == "1"
    assert "scheduled" not in line and "activity" not in line


def test_the_xlsx_has_real_dates_a_frozen_header_a_filter_and_widths(app, client, dutch_coordinator, evening) -> None:
    client.sign_in(dutch_coordinator)
    response = client.get("/exports/attendance.xlsx", headers=NL)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[0] == _said(app, "nl", "Reference") and header[4] == _said(app, "nl", "Attendance")
    assert all(cell.font.b for cell in sheet[1])
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3
    # the session's start is a date-and-time cell with a number format, in Utrecht's time
    starts = sheet.cell(row=2, column=4)
    assert starts.is_date and isinstance(starts.value, datetime)
    assert starts.value == evening["starts"].replace(tzinfo=None)
    assert starts.number_format == "yyyy-mm-dd hh:mm"
    marked = sheet.cell(row=2, column=7)
    assert marked.is_date and abs(marked.value - utcnow().astimezone(TIMEZONE).replace(tzinfo=None)) < timedelta(
        minutes=10
    )
    assert sorted(row[4] for row in rows) == sorted(_said(app, "nl", s) for s in ("Present", "Absent", "Excused"))
    # what Excel shows around the data
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert all(widths.get(letter, 0) >= 8 for letter in "ABCDEFG")
    assert widths["D"] >= len("yyyy-mm-dd hh:mm")


def test_counts_are_numbers_in_the_xlsx(app, client, dutch_coordinator, evening) -> None:
    client.sign_in(dutch_coordinator)
    sheet = load_workbook(io.BytesIO(client.get("/exports/sessions.xlsx", headers=NL).data)).active
    header = [cell.value for cell in sheet[1]]
    line = [cell.value for cell in sheet[2]]
    assert line[header.index(_said(app, "nl", "Places"))] == 10
    assert line[header.index(_said(app, "nl", "Present"))] == 1
    assert isinstance(line[header.index(_said(app, "nl", "Starts"))], datetime)
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(header)).column_letter}2"


def test_an_empty_period_is_a_header_with_a_filter(app, client, dutch_coordinator) -> None:
    client.sign_in(dutch_coordinator)
    sheet = load_workbook(io.BytesIO(client.get("/exports/bookings.xlsx", headers=NL).data)).active
    assert sheet.max_row == 1 and sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    body = client.get("/exports/bookings.csv", headers=NL).get_data()
    assert body.startswith(b"\xef\xbb\xbf") and body.decode("utf-8-sig").count("\r\n") == 1
    assert len(body.decode("utf-8-sig").strip().split(";")) == 11


@pytest.mark.parametrize(
    ("name", "in_csv"),
    [
        ('=HYPERLINK("http://evil.example","x")', "'"),
        ("+31 call me", "'"),
        ("-1+1", "'"),
        ("@SUM(A1)", "'"),
        ('=cmd|" /C calc";A1', "'"),
        ('"; =cmd|"/c calc"!A1', ""),  # text that starts with a quote: no formula, and no new column
    ],
)
def test_a_hostile_name_stays_text_in_both_files(app, client, dutch_coordinator, make_user, name, in_csv) -> None:
    person = make_user()
    with app.app_context():
        db.session.get(User, person.id).name = name  # as if typed before validation existed
        session = factories.SessionFactory()
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
    client.sign_in(dutch_coordinator)
    _, rows = _excel_reads(client.get("/exports/bookings.csv", headers=NL).get_data())
    assert rows[1][4] == in_csv + name
    assert len(rows[1]) == len(rows[0])  # a ; in the name does not make a new column
    sheet = load_workbook(io.BytesIO(client.get("/exports/bookings.xlsx", headers=NL).data)).active
    cell = sheet.cell(row=2, column=5)
    assert cell.value == name and cell.data_type == "s"  # text, not a formula


def test_exports_are_still_recorded_and_still_for_coordinators_only(
    app, client, dutch_coordinator, participant, volunteer, evening
) -> None:
    client.sign_in(dutch_coordinator)
    assert client.get("/exports/attendance.xlsx").status_code == 200
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.exported")).all()
        assert [(e.actor_id, e.details["export"], e.details["format"]) for e in events] == [
            (dutch_coordinator.id, "attendance", "xlsx")
        ]
    for person in (participant, volunteer):
        client.sign_in(person)
        assert client.get("/exports/attendance.csv").status_code == 403


@pytest.mark.parametrize("path", ["/exports/attendance.xls", "/exports/..%2Fattendance.csv", "/exports/<script>.csv"])
def test_made_up_exports_are_404(client, dutch_coordinator, path) -> None:
    client.sign_in(dutch_coordinator)
    assert client.get(path).status_code == 404
