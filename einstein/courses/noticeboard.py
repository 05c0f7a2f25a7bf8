"""The notice board: a week's programme at one place, printed on A4 in two languages, with a QR
code to each offer's page (for the AZC's and the neighbourhood centre's boards)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import segno
import sqlalchemy as sa
from babel.dates import format_interval
from flask_babel import get_locale
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.bounds import FIRST_DAY, LAST_DAY
from einstein.courses.models import Location, Offer, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, utcnow
from einstein.i18n import DEFAULT_LANGUAGE, LANGUAGES, TIMEZONE
from einstein.urls import external_url

#: A week as ISO 8601 writes it: 2026-W49.
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
#: How many weeks, from this one, a coordinator can choose in the form.
WEEKS_AHEAD = 8
#: Languages on one board: the first is printed larger.
MAX_LANGUAGES = 2


def week_start(value: str) -> date | None:
    """The Monday of an ISO week (``2026-W49``), or None for anything else."""
    match = _WEEK.fullmatch(value or "")
    if match is None:
        return None
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:  # week 54, week 0
        return None
    return monday if FIRST_DAY <= monday <= LAST_DAY - timedelta(days=6) else None


def week_name(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def this_monday() -> date:
    today = utcnow().astimezone(TIMEZONE).date()
    return today - timedelta(days=today.weekday())


def weeks_to_choose() -> list[date]:
    """This week's Monday and the next ones, for the form."""
    first = this_monday()
    return [first + timedelta(weeks=n) for n in range(WEEKS_AHEAD)]


def board_languages(codes: list[str]) -> list[str] | None:
    """The languages asked for, in order, one or two of einstein's; None when anything else is asked."""
    if not codes or len(codes) > MAX_LANGUAGES or len(set(codes)) != len(codes):
        return None
    if any(code not in LANGUAGES for code in codes):
        return None
    return codes


def default_languages(reader: str) -> list[str]:
    """Dutch and the coordinator's page language (or English, for a Dutch reader)."""
    second = reader if reader in LANGUAGES and reader != DEFAULT_LANGUAGE else "en"
    return [DEFAULT_LANGUAGE, second]


def places() -> list[Location]:
    """The places a board can be printed for: those approved for the catalogue."""
    return list(
        db.session.scalars(sa.select(Location).where(Location.approved_at.is_not(None)).order_by(Location.name))
    )


@dataclass
class Day:
    """One day of the week at the place, with its sessions in time order (maybe none)."""

    day: date
    sessions: list[OfferSession] = field(default_factory=list)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=TIMEZONE).astimezone(UTC)


def programme(location: Location, monday: date) -> list[Day]:
    """The week's published, scheduled sessions held at ``location`` (a session's own place, else
    its offer's), day by day from Monday, in two queries."""
    query = (
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            OfferSession.status == SessionStatus.SCHEDULED,
            Offer.status == OfferStatus.PUBLISHED,
            OfferSession.starts_at >= _midnight(monday),
            OfferSession.starts_at < _midnight(monday + timedelta(days=7)),
            sa.or_(
                OfferSession.location_id == location.id,
                sa.and_(OfferSession.location_id.is_(None), Offer.location_id == location.id),
            ),
        )
        .options(
            contains_eager(OfferSession.offer).options(selectinload(Offer.translations), joinedload(Offer.location)),
            selectinload(OfferSession.languages),
        )
        .order_by(OfferSession.starts_at, OfferSession.id)
    )
    days = [Day(monday + timedelta(days=n)) for n in range(7)]
    for session in db.session.scalars(query).unique():
        days[(session.starts_at.astimezone(TIMEZONE).date() - monday).days].sessions.append(session)
    return days


def qr_codes(days: list[Day]) -> dict[int, str]:
    """An SVG QR code to each offer's page (one per offer, however many sessions it has)."""
    codes: dict[int, str] = {}
    for day in days:
        for session in day.sessions:
            if session.offer_id not in codes:
                link = external_url("courses.offer_detail", offer_id=session.offer_id)
                qr = segno.make(link, error="m")
                codes[session.offer_id] = qr.svg_inline(omitsize=True, border=2, title=link)
    return codes


def clock(session: OfferSession) -> str:
    """A session's hours in the language being written (``10:00–12:00``), on the 24-hour clock."""
    start, end = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
    locale = str(get_locale() or DEFAULT_LANGUAGE)
    return str(format_interval(start, end, "Hm", tzinfo=TIMEZONE, locale=locale))
