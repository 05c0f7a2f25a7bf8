"""The rules of the catalogue: what is listed, and for whom."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.courses.models import Offer, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE

PAGE_SIZE = 20


@dataclass(frozen=True)
class Cursor:
    """Where a page of the listing starts: after this session (keyset pagination)."""

    starts_at: datetime
    session_id: int

    def encode(self) -> str:
        raw = f"{self.starts_at.timestamp():.0f}.{self.session_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """Read a cursor from a URL; anything malformed means "from the start"."""
        if not token or len(token) > 64:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            seconds, session_id = raw.split(".")
            return cls(datetime.fromtimestamp(int(seconds), UTC), int(session_id))
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError, OSError):
            return None


@dataclass
class SessionPage:
    """One page of sessions and the cursor of the next page, if any."""

    sessions: list[OfferSession]
    next_cursor: Cursor | None


def upcoming_sessions(after: Cursor | None = None, limit: int = PAGE_SIZE) -> SessionPage:
    """List the published, not cancelled sessions still to come, soonest first."""
    query = (
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.starts_at >= utcnow(),
            Offer.status == OfferStatus.PUBLISHED,
        )
        .options(
            contains_eager(OfferSession.offer).options(selectinload(Offer.translations), joinedload(Offer.location)),
            joinedload(OfferSession.location),
            selectinload(OfferSession.languages),
        )
        .order_by(OfferSession.starts_at, OfferSession.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(
            sa.tuple_(OfferSession.starts_at, OfferSession.id) > sa.tuple_(after.starts_at, after.session_id)
        )
    sessions = list(db.session.scalars(query).unique())
    next_cursor = None
    if len(sessions) > limit:
        sessions = sessions[:limit]
        last = sessions[-1]
        next_cursor = Cursor(last.starts_at, last.id)
    return SessionPage(sessions, next_cursor)


def series_times(
    first_day: date, start: time, end: time, count: int, every_weeks: int = 1
) -> list[tuple[datetime, datetime]]:
    """Return the UTC start and end of ``count`` sessions, ``every_weeks`` apart, in Utrecht time.

    Each session keeps its wall-clock time across daylight-saving changes: 19:00 stays 19:00.
    """
    times = []
    for index in range(count):
        day = first_day + timedelta(weeks=index * every_weeks)
        starts = datetime.combine(day, start, tzinfo=TIMEZONE).astimezone(UTC)
        ends = datetime.combine(day, end, tzinfo=TIMEZONE).astimezone(UTC)
        times.append((starts, ends))
    return times
