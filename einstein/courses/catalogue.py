"""Reading the catalogue: what is on, an offer's page, and the lists organisers see."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.auth.models import User
from einstein.bounds import FIRST_DAY, LAST_DAY, as_id, in_window
from einstein.courses.models import (
    Category,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    SessionLanguage,
    SessionStatus,
    places_column,
)
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE

PAGE_SIZE = 20


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """Where a page of the listing starts: after this session (keyset pagination)."""

    starts_at: datetime
    session_id: int

    def encode(self) -> str:
        # Exact to the microsecond: a rounded time would repeat or skip a session at a page edge.
        micros = (self.starts_at - EPOCH) // timedelta(microseconds=1)
        return base64.urlsafe_b64encode(f"{micros}.{self.session_id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """Read a cursor from a URL; anything malformed or out of range means "from the start"."""
        if not token or len(token) > 64:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            micros, raw_id = raw.split(".")
            starts_at, session_id = EPOCH + timedelta(microseconds=int(micros)), as_id(raw_id)
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
            return None
        if session_id is None or not in_window(starts_at.date()):
            return None
        return cls(starts_at, session_id)


class FilterArgs(TypedDict, total=False):
    """The filters that are set, as query-string arguments."""

    q: str
    kind: str
    category: str
    language: str
    date_from: str
    date_to: str
    free: str


@dataclass(frozen=True)
class Filters:
    """What a person looks for in the catalogue."""

    q: str | None = None
    kind: OfferKind | None = None
    category: Category | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    free: bool = False

    def as_args(self) -> FilterArgs:
        """The filters as query-string arguments, to keep them across pages (those not set left out)."""
        args = FilterArgs()
        if self.q:
            args["q"] = self.q
        if self.kind:
            args["kind"] = self.kind.value
        if self.category:
            args["category"] = self.category.value
        if self.language:
            args["language"] = self.language
        if self.date_from:
            args["date_from"] = self.date_from.isoformat()
        if self.date_to:
            args["date_to"] = self.date_to.isoformat()
        if self.free:
            args["free"] = "y"
        return args

    @property
    def active(self) -> bool:
        return bool(self.as_args())


@dataclass
class SessionPage:
    """One page of sessions and the cursor of the next page, if any."""

    sessions: list[OfferSession]
    next_cursor: Cursor | None


def _local_midnight(day: date, days_later: int = 0) -> datetime:
    """Midnight in Utrecht, ``days_later`` after ``day``, in UTC; days beyond einstein's window never overflow."""
    day = min(max(day, FIRST_DAY), LAST_DAY) + timedelta(days=days_later)
    return datetime.combine(day, time(0, 0), tzinfo=TIMEZONE).astimezone(UTC)


def has_free_places() -> sa.ColumnElement[bool]:
    """SQL for "a place is free"."""
    return places_column("confirmed_count") < places_column("capacity")


def upcoming_sessions(
    filters: Filters | None = None, after: Cursor | None = None, limit: int = PAGE_SIZE
) -> SessionPage:
    """List published, scheduled sessions still to come, soonest first, narrowed by ``filters``.

    Three queries whatever the size of the catalogue: the sessions with their offers and places,
    then the offers' translations and the sessions' languages.
    """
    filters = filters or Filters()
    start = utcnow()
    if filters.date_from is not None:
        start = max(start, _local_midnight(filters.date_from))
    query = (
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.starts_at >= start,
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
    if filters.date_to is not None:
        query = query.where(OfferSession.starts_at < _local_midnight(filters.date_to, days_later=1))
    if filters.kind is not None:
        query = query.where(Offer.kind == filters.kind)
    if filters.category is not None:
        query = query.where(Offer.category == filters.category)
    if filters.language:
        query = query.where(
            sa.exists().where(
                SessionLanguage.session_id == OfferSession.id, SessionLanguage.language == filters.language
            )
        )
    if filters.free:
        query = query.where(has_free_places())
    if filters.q:
        query = query.where(Offer.search_text.contains(filters.q.lower(), autoescape=True))
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


def load_offer(offer_id: int, *, texts: bool = True) -> Offer | None:
    """Load an offer with what its page shows, in a fixed number of queries (``texts=False``: its
    translations only when asked for, as the offer page does when its shared part is not cached)."""
    return db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id)
        .options(
            joinedload(Offer.location),
            joinedload(Offer.organiser),
            joinedload(Offer.organisation),
            *([selectinload(Offer.translations)] if texts else []),
        )
    )


@dataclass
class OfferSessions:
    """The sessions an offer page lists: one page of the upcoming ones, soonest first."""

    upcoming: list[OfferSession]
    #: How many upcoming sessions there are beyond ``upcoming``.
    more: int
    past: int
    #: The latest sessions that took place, newest first (for attendance taken afterwards).
    recent: list[OfferSession]
    #: The session this page continues after; None on the first page.
    after: OfferSession | None = None


#: Upcoming sessions on one page of an offer: enough for weeks of a weekly course, light on a phone.


SESSIONS_PER_PAGE = 20


def sessions_for_page(
    offer: Offer, after: int | None = None, limit: int = SESSIONS_PER_PAGE, *, recent: bool = True
) -> OfferSessions:
    """A page of upcoming sessions (cancelled ones too, marked), and how many are past or further on.

    Pages follow each other by the last session shown (``after``, a keyset: the page is as fast
    deep in a long course as at its start). An ``after`` that is not a session of this offer
    (it may have been deleted since, or is no id at all) gives the first page. The ``recent`` past sessions (for
    taking attendance afterwards) are looked up only if asked.
    """
    now = utcnow()
    cursor_id = as_id(after)
    cursor = db.session.get(OfferSession, cursor_id) if cursor_id is not None else None
    if cursor is not None and cursor.offer_id != offer.id:
        cursor = None
    query = sa.select(OfferSession).where(OfferSession.offer_id == offer.id, OfferSession.ends_at > now)
    if cursor is not None:
        query = query.where(_later_than(cursor))
    upcoming = list(
        db.session.scalars(
            query.options(selectinload(OfferSession.languages), joinedload(OfferSession.location))
            .order_by(OfferSession.starts_at, OfferSession.id)
            .limit(limit)
        )
    )
    beyond = _later_than(upcoming[-1]) if upcoming else sa.false()
    counts = db.session.execute(
        sa.select(
            sa.func.count().filter(OfferSession.ends_at <= now),
            sa.func.count().filter(OfferSession.ends_at > now, beyond),
        ).where(OfferSession.offer_id == offer.id)
    ).one()
    latest = (
        list(
            db.session.scalars(
                sa.select(OfferSession)
                .where(
                    OfferSession.offer_id == offer.id,
                    OfferSession.ends_at <= now,
                    OfferSession.status == SessionStatus.SCHEDULED,
                )
                .order_by(OfferSession.starts_at.desc())
                .limit(8)
            )
        )
        if recent
        else []
    )
    return OfferSessions(upcoming, int(counts[1]), int(counts[0]), latest, cursor)


def _later_than(session: OfferSession) -> sa.ColumnElement[bool]:
    """Sessions after ``session`` in the page's order (start, then id)."""
    return sa.or_(
        OfferSession.starts_at > session.starts_at,
        sa.and_(OfferSession.starts_at == session.starts_at, OfferSession.id > session.id),
    )


def offers_of(user: User, everyone: bool = False) -> sa.Select[Offer]:
    """The offers a person organises (or, for coordinators asking for it, all offers), newest first."""
    query = (
        sa.select(Offer)
        .options(joinedload(Offer.location), selectinload(Offer.translations))
        .order_by(Offer.created_at.desc(), Offer.id.desc())
    )
    if not everyone:
        query = query.where(Offer.organiser_id == user.id)
    return query


def waiting_for_approval() -> list[Offer]:
    """Volunteers' activities waiting for a coordinator, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Offer)
            .where(Offer.status == OfferStatus.PENDING)
            .options(
                joinedload(Offer.organiser),
                joinedload(Offer.location),
                # each session's card lists the languages spoken: read with the sessions, not one by one
                selectinload(Offer.sessions).selectinload(OfferSession.languages),
            )
            .order_by(Offer.created_at)
        )
    )
