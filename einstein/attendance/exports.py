"""Exports of sessions, bookings and attendance (CSV, and XLSX with XlsxWriter).

Exports name people (coordinators need that to plan and call) but never say who is a newcomer:
the audience answer is only ever shown in aggregate. Text that a spreadsheet would read as a
formula (=, +, -, @ and control characters at the start) is neutralised.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa
import xlsxwriter
from flask_babel import lazy_gettext as _l

from einstein.attendance.models import Attendance
from einstein.attendance.reports import Period
from einstein.auth.models import User
from einstein.bookings.models import FORMER_PARTICIPANT, Booking
from einstein.courses.models import Location, Offer, OfferSession, places_column
from einstein.db import db
from einstein.i18n import TIMEZONE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: A CSV export larger than this is written to a temporary file rather than kept in memory.
CSV_IN_MEMORY = 8 * 1024 * 1024


def neutralise(value: Any) -> Any:
    """Make text safe to open in a spreadsheet: never let it start a formula (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _when(value: Any) -> str:
    return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if value is not None else ""


@dataclass(frozen=True)
class Export:
    """One kind of export: its columns and the query that fills them."""

    name: str
    label: Any
    columns: tuple[Any, ...]

    def rows(self, period: Period) -> Iterator[list[Any]]:
        raise NotImplementedError


class SessionsExport(Export):
    def rows(self, period: Period) -> Iterator[list[Any]]:
        booked, waiting = places_column("confirmed_count"), places_column("waitlist_count")
        query = (
            sa.select(
                Offer.title,
                Offer.kind,
                Offer.category,
                OfferSession.starts_at,
                OfferSession.ends_at,
                Location.name,
                OfferSession.status,
                OfferSession.capacity,
                booked,
                waiting,
                OfferSession.present_count,
                OfferSession.absent_count,
                OfferSession.excused_count,
            )
            .select_from(OfferSession)
            .join(Offer, Offer.id == OfferSession.offer_id)
            .outerjoin(Location, Location.id == OfferSession.location_id)
            .where(OfferSession.starts_at >= period.starts_at, OfferSession.starts_at < period.ends_before)
            .order_by(OfferSession.starts_at, OfferSession.id)
        )
        for row in db.session.execute(query.execution_options(yield_per=1000)):
            title, kind, category, starts, ends, place, status, *numbers = row
            yield [title, kind.value, category.value, _when(starts), _when(ends), place or "", status.value, *numbers]


class BookingsExport(Export):
    def rows(self, period: Period) -> Iterator[list[Any]]:
        in_period = sa.exists().where(
            OfferSession.offer_id == Booking.offer_id,
            sa.or_(OfferSession.id == Booking.session_id, Booking.session_id.is_(None)),
            OfferSession.starts_at >= period.starts_at,
            OfferSession.starts_at < period.ends_before,
        )
        session = sa.orm.aliased(OfferSession)
        query = (
            sa.select(
                Booking.reference,
                Offer.title,
                Offer.kind,
                session.starts_at,
                User.name,
                Booking.status,
                Booking.source,
                Booking.waitlist_position,
                Booking.created_at,
                Booking.cancelled_at,
            )
            .select_from(Booking)
            .join(Offer, Offer.id == Booking.offer_id)
            .outerjoin(session, session.id == Booking.session_id)
            .outerjoin(User, User.id == Booking.user_id)
            .where(in_period)
            .order_by(Booking.created_at, Booking.id)
        )
        for reference, title, kind, starts, name, status, source, position, created, cancelled in db.session.execute(
            query.execution_options(yield_per=1000)
        ):
            yield [
                reference,
                title,
                kind.value,
                _when(starts) if starts else str(_l("whole course")),
                name or str(FORMER_PARTICIPANT),
                status.value,
                source.value,
                position or "",
                _when(created),
                _when(cancelled),
            ]


class AttendanceExport(Export):
    def rows(self, period: Period) -> Iterator[list[Any]]:
        query = (
            sa.select(
                Booking.reference,
                User.name,
                Offer.title,
                OfferSession.starts_at,
                Attendance.status,
                Attendance.marked_at,
            )
            .select_from(Attendance)
            .join(Booking, Booking.id == Attendance.booking_id)
            .join(OfferSession, OfferSession.id == Attendance.session_id)
            .join(Offer, Offer.id == OfferSession.offer_id)
            .outerjoin(User, User.id == Booking.user_id)
            .where(OfferSession.starts_at >= period.starts_at, OfferSession.starts_at < period.ends_before)
            .order_by(OfferSession.starts_at, Booking.id)
        )
        for reference, name, title, starts, status, marked in db.session.execute(
            query.execution_options(yield_per=1000)
        ):
            yield [reference, name or str(FORMER_PARTICIPANT), title, _when(starts), status.value, _when(marked)]


EXPORTS: dict[str, Export] = {
    export.name: export
    for export in (
        SessionsExport(
            "sessions",
            _l("Sessions"),
            (
                _l("Offer"),
                _l("Kind"),
                _l("Category"),
                _l("Starts"),
                _l("Ends"),
                _l("Place"),
                _l("Status"),
                _l("Places"),
                _l("Booked"),
                _l("Waiting"),
                _l("Present"),
                _l("Absent"),
                _l("Excused"),
            ),
        ),
        BookingsExport(
            "bookings",
            _l("Bookings"),
            (
                _l("Reference"),
                _l("Offer"),
                _l("Kind"),
                _l("Session"),
                _l("Name"),
                _l("Status"),
                _l("Booked via"),
                _l("Waiting-list order"),
                _l("Booked at"),
                _l("Cancelled at"),
            ),
        ),
        AttendanceExport(
            "attendance",
            _l("Attendance"),
            (_l("Reference"), _l("Name"), _l("Offer"), _l("Session"), _l("Attendance"), _l("Marked at")),
        ),
    )
}


def csv_file(export: Export, period: Period) -> tuple[Iterator[bytes], int]:
    """The export as CSV: its bytes, a piece at a time, and its size; written whole before a byte is sent.

    A query that fails half-way is then an error page, never a download that looks complete but
    stops half-way. The file stays in memory up to ``CSV_IN_MEMORY`` bytes, then moves to disk.
    """
    output = tempfile.SpooledTemporaryFile(max_size=CSV_IN_MEMORY)  # noqa: SIM115 (_pieces closes it)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> None:
        output.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()

    buffer.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
    writer.writerow([neutralise(str(column)) for column in export.columns])
    try:
        for row in export.rows(period):
            writer.writerow([neutralise(value) for value in row])
            if buffer.tell() > 64 * 1024:
                flush()
        flush()
    except BaseException:
        output.close()
        raise
    size = output.tell()
    output.seek(0)
    return _pieces(output), size


def _pieces(file: IO[bytes]) -> Iterator[bytes]:
    """Read a file out in pieces and close it, also when the download is broken off."""
    with file:
        while piece := file.read(64 * 1024):
            yield piece


def xlsx_bytes(export: Export, period: Period) -> bytes:
    """The export as an XLSX workbook; text cells are typed as text, so never read as formulas."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(str(export.label)[:31])
    bold = workbook.add_format({"bold": True})
    for column, title in enumerate(export.columns):
        sheet.write_string(0, column, str(title), bold)
    for row_number, row in enumerate(export.rows(period), start=1):
        for column, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row_number, column, value)
            else:
                # write_string stores text as text: a spreadsheet never runs it as a formula
                sheet.write_string(row_number, column, str(value))
    workbook.close()
    return output.getvalue()
