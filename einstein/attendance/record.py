"""The learning record: every course a person completed (with its certificate) and every volunteer
statement they were given, with the codes anyone can check, as a page and as one PDF.

Showing the record shows its certificates, so a course completed whose certificate was never
opened gets it now (issued once, like from the certificate's page). The PDF is drawn by fpdf2
with HarfBuzz shaping (uharfbuzz) in Noto fonts that hold whole scripts (``static/fonts/pdf/``):
Latin and Cyrillic, every Arabic-script letter, and Ge'ez; an Arabic or Farsi record runs right
to left, and a name or title in another script inside it keeps its own direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from einstein.attendance import credentials, services
from einstein.attendance.models import Credential, CredentialKind
from einstein.auth.models import User
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Offer, OfferKind
from einstein.db import db
from einstein.i18n import Language, format_day_year, local_today

if TYPE_CHECKING:
    from collections.abc import Callable

    from fpdf import FPDF

#: The PDF's fonts: the first is the main one, the others are used for the letters it lacks.
FONTS = {
    "sans": "noto-sans.ttf",
    "arabic": "noto-sans-arabic.ttf",
    "ethiopic": "noto-sans-ethiopic.ttf",
}


@dataclass(frozen=True)
class Record:
    """What the learning record lists, oldest first."""

    name: str
    certificates: list[Credential]
    statements: list[Credential]
    made_on: date

    @property
    def empty(self) -> bool:
        return not self.certificates and not self.statements


def _issue_earned(user: User) -> None:
    """Issue the certificate of every course the person completed that has none yet."""
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .join(Offer, Offer.id == Booking.offer_id)
            .where(
                Booking.user_id == user.id,
                Booking.session_id.is_(None),
                Booking.status == BookingStatus.CONFIRMED,
                Offer.kind == OfferKind.COURSE,
            )
            .options(joinedload(Booking.offer).selectinload(Offer.sessions), selectinload(Booking.user))
        ).unique()
    )
    if not bookings:
        return
    marks = services.attendance_of(user, [booking.id for booking in bookings])
    for booking in bookings:
        result = services.completion_from(booking, marks.get(booking.id, {}))
        if result.earned:
            credentials.certificate_for(booking, result)


def record_of(user: User) -> Record:
    """A person's learning record (issuing the certificates it shows for the first time)."""
    _issue_earned(user)
    held = credentials.held_by(user)
    return Record(
        name=user.name,
        certificates=[c for c in held if c.kind == CredentialKind.CERTIFICATE],
        statements=[c for c in held if c.kind == CredentialKind.VOLUNTEER_STATEMENT],
        made_on=local_today(),
    )


def as_data(record: Record) -> dict[str, object]:
    """The record for the data export: what each document says and the code that checks it."""

    def one(credential: Credential) -> dict[str, object]:
        return {
            "kind": credential.kind.value,
            "code": credentials.format_code(credential.code),
            "check_url": credentials.check_url(credential),
            "name": credential.holder_name,
            "title": credential.title,
            "first_day": credential.first_day.isoformat(),
            "last_day": credential.last_day.isoformat(),
            "hours": round(credential.minutes / 60, 2) if credential.minutes is not None else None,
            "issued_at": credential.issued_at.isoformat(),
            "revoked_at": credential.revoked_at.isoformat() if credential.revoked_at else None,
        }

    return {
        "certificates": [one(c) for c in record.certificates],
        "volunteer_statements": [one(c) for c in record.statements],
    }


# --- the PDF -------------------------------------------------------------------------------------


@cache
def _document_class() -> Callable[..., FPDF]:
    """The PDF's page, made on the first PDF: fpdf2 and the font tools it loads take half a second
    to import, which every process (each web worker, Celery, every command) would otherwise pay at
    its start for a page few ask for."""
    from fpdf import FPDF

    class Document(FPDF):
        """A page with ``footer_text`` and the page number at its foot."""

        def __init__(self, footer_text: str, **options: Any) -> None:
            super().__init__(**options)
            self.footer_text = footer_text

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("sans", size=8)
            self.set_text_color(90)
            self.multi_cell(0, 4, f"{self.footer_text}  ·  {self.page_no()}", align="C")

    return Document


def _fonts_folder() -> Path:
    return Path(current_app.static_folder or "static") / "fonts" / "pdf"


def pdf_bytes(record: Record, language: Language) -> bytes:
    """The learning record as a PDF in ``language`` (call inside ``force_locale``)."""
    footer = _("Anyone can check a code at %(url)s", url=credentials.check_form_url())
    pdf = _document_class()(footer, format="A4")
    folder = _fonts_folder()
    for family, filename in FONTS.items():
        pdf.add_font(family, fname=str(folder / filename))
    pdf.set_fallback_fonts([family for family in FONTS if family != "sans"], exact_match=False)
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if language.rtl else None)
    pdf.set_lang(language.code)
    pdf.set_title(_("Learning record"))
    pdf.set_author("einstein")
    pdf.set_creator("einstein")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    align = "R" if language.rtl else "L"

    def line(text: str, size: float = 11, gap: float = 1.5, grey: bool = False) -> None:
        pdf.set_font("sans", size=size)
        pdf.set_text_color(90 if grey else 0)
        pdf.multi_cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line("einstein · Utrecht", size=10, grey=True)
    line(_("Learning record"), size=22, gap=3)
    line(record.name, size=16)
    line(_("Made on %(day)s", day=format_day_year(record.made_on)), size=10, gap=6, grey=True)

    if record.empty:
        line(_("No course completed and no statement of volunteer work yet."))
    if record.certificates:
        line(_("Courses completed"), size=15, gap=3)
        for credential in record.certificates:
            line(credential.title, size=12, gap=0.5)
            line(_dated_code(credential, _("Certificate")), size=10)
            if credential.revoked_at is not None:
                line(_("Not valid: revoked on %(day)s.", day=format_day_year(credential.revoked_at)), size=10)
            pdf.ln(2)
    if record.statements:
        line(_("Volunteer work"), size=15, gap=3)
        for credential in record.statements:
            said = _(
                "%(hours)s hours of volunteer work with %(organisation)s",
                hours=credentials.hours(credential),
                organisation=credential.title,
            )
            line(said, size=12, gap=0.5)
            line(_dated_code(credential, _("Statement")), size=10)
            if credential.revoked_at is not None:
                line(_("Not valid: revoked on %(day)s.", day=format_day_year(credential.revoked_at)), size=10)
            pdf.ln(2)
    return bytes(pdf.output())


def _dated_code(credential: Credential, label: str) -> str:
    """When a certificate or statement was earned, and its code under its label. The label is
    translated by the caller, outside an f-string: Babel finds a call inside one only on Python
    3.12 and newer, so on 3.11 the word would have been left out of the catalogues."""
    return f"{credentials.days(credential)}  ·  {label} {credentials.format_code(credential.code)}"
