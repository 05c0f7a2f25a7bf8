"""Exports of sessions, bookings and attendance (CSV, and XLSX with XlsxWriter).

Exports name people (coordinators need that to plan and call) but never say who is a newcomer:
the audience answer is only ever shown in aggregate. Headers and values are in the reader's
language (the labels the pages use, never codes such as ``present``). Text that a spreadsheet
would read as a formula (=, +, -, @ and control characters at the start) is neutralised.

The CSV opens in a spreadsheet program as it is: UTF-8 with a byte order mark, and a semicolon
between fields for languages whose decimal separator is a comma (Dutch, Turkish, Ukrainian),
because Excel set up for such a language splits on semicolons and would show everything in one
column. The XLSX has real date-and-time cells (Utrecht time), a frozen header row, a filter on
every column and column widths that fit.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
import xlsxwriter
from babel.numbers import format_decimal, get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from einstein.attendance import volunteering
from einstein.attendance.models import Attendance
from einstein.attendance.reports import Period, over_capacity_column
from einstein.auth.models import User
from einstein.bookings.models import FORMER_PARTICIPANT, Booking, BookingSource
from einstein.courses.models import Location, Offer, OfferSession, SessionStatus, places_column
from einstein.db import db
from einstein.i18n import DEFAULT_LANGUAGE, TIMEZONE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: A CSV export larger than this is written to a temporary file rather than kept in memory.
CSV_IN_MEMORY = 8 * 1024 * 1024
#: How a moment is written in a CSV (a spreadsheet reads it as a date and time in any language).
CSV_MOMENT = "%Y-%m-%d %H:%M"
#: The number format of date-and-time cells in an XLSX (unambiguous in every language).
XLSX_MOMENT = "yyyy-mm-dd hh:mm"
#: Column widths in an XLSX, in characters: at least, at most.
WIDTHS = (8, 50)

#: How bookings were made, in words (the codes are for the database).
SOURCE_LABELS = {
    BookingSource.SELF: _l("Online"),
    BookingSource.DESK: _l("At the desk"),
    BookingSource.WALK_IN: _l("At the door"),
}
SESSION_LABELS = {SessionStatus.SCHEDULED: _l("Takes place"), SessionStatus.CANCELLED: _l("Cancelled")}
#: A booking beyond the places (``Booking.over_capacity``), in a column of its own.
YES = _l("yes")


def neutralise(value: Any) -> Any:
    """Make text safe to open in a spreadsheet: never let it start a formula (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(value: datetime | None) -> datetime | None:
    """A moment in Utrecht time, or None."""
    return value.astimezone(TIMEZONE) if value is not None else None


def _text(value: Any) -> Any:
    """A label (lazy string) as text in the reader's language; anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, int | float | datetime) and not isinstance(value, bool):
        return value
    return str(value)


@dataclass(frozen=True)
class Export:
    """One kind of export: its columns and the query that fills them.

    ``rows`` yields plain values: text, numbers, and moments as aware datetimes in Utrecht time
    (or None); the writers turn them into CSV text or XLSX cells.
    """

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
                places_column("capacity"),
                booked,
                over_capacity_column(),
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
            yield [
                title,
                kind.label,
                category.label,
                _local(starts),
                _local(ends),
                place or "",
                SESSION_LABELS[status],
                *(int(number or 0) for number in numbers),
            ]


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
                Booking.over_capacity,
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
        for (
            reference,
            title,
            kind,
            starts,
            name,
            status,
            over,
            source,
            position,
            created,
            cancelled,
        ) in db.session.execute(query.execution_options(yield_per=1000)):
            yield [
                reference,
                title,
                kind.label,
                _local(starts) if starts else _l("whole course"),
                name or FORMER_PARTICIPANT,
                status.label,
                YES if over else "",
                SOURCE_LABELS[source],
                position,
                _local(created),
                _local(cancelled),
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
                Booking.over_capacity,
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
        for reference, name, title, starts, status, over, marked in db.session.execute(
            query.execution_options(yield_per=1000)
        ):
            yield [
                reference,
                name or FORMER_PARTICIPANT,
                title,
                _local(starts),
                status.label,
                YES if over else "",
                _local(marked),
            ]


class VolunteerHoursExport(Export):
    """One row per volunteer and session that took place: what they did and for how many hours."""

    def rows(self, period: Period) -> Iterator[list[Any]]:
        for name, title, kind, starts, ends, role, hours in volunteering.given_rows(
            period.starts_at, period.ends_before
        ):
            yield [name or FORMER_PARTICIPANT, title, kind.label, _local(starts), _local(ends), role, hours]


BEYOND = _l("Beyond the places")

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
                BEYOND,
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
                BEYOND,
                _l("Booked via"),
                _l("Waiting-list order"),
                _l("Booked at"),
                _l("Cancelled at"),
            ),
        ),
        AttendanceExport(
            "attendance",
            _l("Attendance"),
            (
                _l("Reference"),
                _l("Name"),
                _l("Offer"),
                _l("Session"),
                _l("Attendance"),
                BEYOND,
                _l("Marked at"),
            ),
        ),
        VolunteerHoursExport(
            "volunteer-hours",
            _l("Volunteer hours"),
            (_l("Name"), _l("Offer"), _l("Kind"), _l("Starts"), _l("Ends"), _l("Organised or helped"), _l("Hours")),
        ),
    )
}


def csv_delimiter(locale: str | None = None) -> str:
    """The field separator a spreadsheet set up for ``locale`` (the reader's) expects: a semicolon
    where the decimal separator is a comma (Dutch Excel), else a comma."""
    return ";" if get_decimal_symbol(locale or str(get_locale() or DEFAULT_LANGUAGE)) == "," else ","


def _csv_value(value: Any) -> Any:
    value = _text(value)
    if isinstance(value, datetime):
        return value.strftime(CSV_MOMENT)
    if isinstance(value, float):
        # "2,5" where the reader's spreadsheet writes decimals with a comma (hours)
        return format_decimal(value, format="0.##", locale=str(get_locale() or DEFAULT_LANGUAGE))
    return neutralise(value)


def csv_file(export: Export, period: Period) -> tuple[Iterator[bytes], int]:
    """The export as CSV: its bytes, a piece at a time, and its size; written whole before a byte is sent.

    A query that fails half-way is then an error page, never a download that looks complete but
    stops half-way. The file stays in memory up to ``CSV_IN_MEMORY`` bytes, then moves to disk.
    """
    output = tempfile.SpooledTemporaryFile(max_size=CSV_IN_MEMORY)  # noqa: SIM115 (_pieces closes it)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_delimiter())

    def flush() -> None:
        output.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()

    buffer.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
    writer.writerow([neutralise(str(column)) for column in export.columns])
    try:
        for row in export.rows(period):
            writer.writerow([_csv_value(value) for value in row])
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
    """The export as an XLSX workbook: a frozen header with a filter, widths that fit, real
    date-and-time cells, and text cells typed as text (so never read as formulas)."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(str(export.label)[:31])
    bold = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": XLSX_MOMENT})
    headers = [str(title) for title in export.columns]
    widths = [len(title) + 3 for title in headers]  # room for the filter's button
    for column, title in enumerate(headers):
        sheet.write_string(0, column, title, bold)
    last = 0
    for last, row in enumerate(export.rows(period), start=1):
        for column, raw in enumerate(row):
            value = _text(raw)
            if isinstance(value, datetime):
                # Excel has no time zones: the cell holds Utrecht's wall-clock time
                sheet.write_datetime(last, column, value.replace(tzinfo=None), moment)
                width = len(XLSX_MOMENT)
            elif isinstance(value, int | float):
                sheet.write_number(last, column, value)
                width = len(str(value))
            else:
                # write_string stores text as text: a spreadsheet never runs it as a formula
                sheet.write_string(last, column, value)
                width = len(value)
            widths[column] = max(widths[column], width)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, min(max(width + 1, WIDTHS[0]), WIDTHS[1]))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last, len(headers) - 1)
    workbook.close()
    return output.getvalue()
