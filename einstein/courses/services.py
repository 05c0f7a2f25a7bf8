"""The rules of the catalogue: what is listed, and for whom."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.bounds import FIRST_DAY, LAST_DAY, as_id, in_window
from einstein.courses.models import (
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferRevision,
    OfferSession,
    OfferStatus,
    OfferTranslation,
    Organisation,
    RevisionStatus,
    SessionLanguage,
    SessionStatus,
)
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE, language_name

if TYPE_CHECKING:
    from einstein.auth.models import User
    from einstein.bookings.models import Booking

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

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, to keep them across pages."""
        args = {
            "q": self.q or "",
            "kind": self.kind.value if self.kind else "",
            "category": self.category.value if self.category else "",
            "language": self.language or "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "free": "y" if self.free else "",
        }
        return {key: value for key, value in args.items() if value}

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


def places_column(name: str) -> sa.ColumnElement[int]:
    """SQL for one of the place counters (``capacity``, ``confirmed_count``, ``waitlist_count``)
    where they live: on the course for a course, on each session for an activity."""
    return sa.case((Offer.kind == OfferKind.COURSE, getattr(Offer, name)), else_=getattr(OfferSession, name))


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


def session_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a session on ``day`` from ``start`` to ``end``, Utrecht time.

    An end earlier than the start is on the next day (an Eid evening from 20:00 to 01:00): a
    session lasts less than a day. Both keep their wall-clock time across daylight-saving changes.
    """
    end_day = day + timedelta(days=1) if end < start else day
    starts = datetime.combine(day, start, tzinfo=TIMEZONE).astimezone(UTC)
    ends = datetime.combine(end_day, end, tzinfo=TIMEZONE).astimezone(UTC)
    if ends <= starts:
        # only in the hour the clocks skip in spring: 02:30 that night is read as 03:30, so
        # 02:30-03:30 is no time at all
        raise CatalogueError(str(_l("The end must be after the start.")), field="end_time")
    return starts, ends


def series_times(
    first_day: date, start: time, end: time, count: int, every_weeks: int = 1
) -> list[tuple[datetime, datetime]]:
    """Return the UTC start and end of ``count`` sessions, ``every_weeks`` apart, in Utrecht time.

    Each session keeps its wall-clock time across daylight-saving changes: 19:00 stays 19:00.
    """
    return [session_times(first_day + timedelta(weeks=index * every_weeks), start, end) for index in range(count)]


# --- who may see and change an offer -----------------------------------------------------------


def can_manage(user: User | Any, offer: Offer) -> bool:
    """The organiser, coordinators and admins may change an offer."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_coordinator or (offer.organiser_id is not None and offer.organiser_id == user.id))


def can_view(user: User | Any, offer: Offer) -> bool:
    """Published and cancelled offers are public; others only for those who may change them."""
    return offer.status in {OfferStatus.PUBLISHED, OfferStatus.CANCELLED} or can_manage(user, offer)


def load_offer(offer_id: int) -> Offer | None:
    """Load an offer with what its page shows, in a fixed number of queries."""
    return db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id)
        .options(
            joinedload(Offer.location),
            joinedload(Offer.organiser),
            joinedload(Offer.organisation),
            selectinload(Offer.translations),
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


# --- making and changing offers ------------------------------------------------------------------


class CatalogueError(Exception):
    """A change to the catalogue that cannot be made, with a message for the person."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class OfferData:
    """What an offer says, as the offer form gives it."""

    title: str
    description: str
    language: str
    category: Category
    dutch_level: DutchLevel
    languages: list[str]
    location: Location
    organisation: Organisation | None
    contact: str
    capacity: int
    waitlist_enabled: bool
    reminder_offsets: list[str]
    completion_threshold: int


@dataclass
class Schedule:
    """When new sessions are: the first day, the time, how many, and how many weeks apart."""

    first_date: date
    start: time
    end: time
    count: int = 1
    every_weeks: int = 1

    def times(self) -> list[tuple[datetime, datetime]]:
        return series_times(self.first_date, self.start, self.end, self.count, max(self.every_weeks, 1))


def find_or_add_place(
    location_id: str | None, name: str | None, address: str | None, postcode: str | None, step_free: bool
) -> Location:
    """Return the chosen place, or the new place described (reusing one with the same name and street).

    A new place is not approved: it reaches participants once someone who may publish uses it.
    """
    if name and address:
        place = db.session.scalar(sa.select(Location).where(Location.name == name, Location.address == address))
        if place is None:
            place = Location(name=name, address=address, postcode=postcode or None, step_free=step_free)
            db.session.add(place)
            db.session.flush()
        return place
    place_id = as_id(location_id)
    place = db.session.get(Location, place_id) if place_id is not None else None
    if place is None:
        raise CatalogueError(str(_l("Please choose a place, or fill in a new one.")), field="location_id")
    return place


def find_or_add_organisation(organisation_id: str | None, new_name: str | None) -> Organisation | None:
    """Return the chosen partner organisation, the new one named, or None."""
    if new_name:
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == new_name))
        if organisation is None:
            organisation = Organisation(name=new_name)
            db.session.add(organisation)
            db.session.flush()
        return organisation
    if organisation_id:
        chosen = as_id(organisation_id)
        organisation = db.session.get(Organisation, chosen) if chosen is not None else None
        if organisation is None:
            raise CatalogueError(
                str(_l("Please choose a partner organisation from the list.")), field="organisation_id"
            )
        return organisation
    return None


def refresh_search_text(offer: Offer) -> None:
    """Keep the text the catalogue search looks in up to date."""
    parts = [offer.title, offer.description[:1000]]
    for translation in offer.translations:
        parts += [translation.title, translation.description[:1000]]
    offer.search_text = " ".join(part for part in parts if part).lower()


# --- who may put words in front of participants ----------------------------------------------------

#: The parts of an offer that are words or a place: a volunteer who is not trusted cannot change
#: them on a public offer without a coordinator seeing the change first.
REVIEWED_FIELDS = ("title", "description", "language", "contact", "location_id")
#: Offers that participants can read.
PUBLIC = frozenset({OfferStatus.PUBLISHED, OfferStatus.CANCELLED})
#: How the review page names each reviewed part.
FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "language": _l("Written in"),
    "contact": _l("Contact"),
    "location_id": _l("Place"),
}


def publishes_directly(user: User) -> bool:
    """Coordinators and trusted volunteers publish; what others write waits for a coordinator."""
    return bool(user.is_coordinator or user.trusted)


def held_for_review(offer: Offer, editor: User) -> bool:
    """Whether ``editor``'s new words for ``offer`` must wait for a coordinator."""
    return offer.status in PUBLIC and not publishes_directly(editor)


def approve_place(place: Location | None) -> None:
    """Someone who may publish uses this place: it may now reach participants."""
    if place is not None and place.approved_at is None:
        place.approved_at = utcnow()


def _words(data: OfferData) -> dict[str, Any]:
    return {
        "title": data.title,
        "description": data.description,
        "language": data.language,
        "contact": data.contact,
        "location_id": data.location.id,
    }


def _apply_words(offer: Offer, words: dict[str, Any]) -> None:
    for name, value in words.items():
        if name == "location_id":
            offer.location = db.session.get(Location, value)
            approve_place(offer.location)
        elif name in REVIEWED_FIELDS:
            setattr(offer, name, value)
    refresh_search_text(offer)


def _apply_settings(offer: Offer, data: OfferData) -> None:
    offer.category = data.category
    offer.dutch_level = data.dutch_level
    offer.organisation = data.organisation
    offer.waitlist_enabled = data.waitlist_enabled
    offer.reminder_offsets = list(data.reminder_offsets)
    offer.completion_threshold = data.completion_threshold


def _apply(offer: Offer, data: OfferData) -> None:
    _apply_settings(offer, data)
    _apply_words(offer, _words(data))


def _new_sessions(offer: Offer, schedule: Schedule, languages: list[str]) -> list[OfferSession]:
    sessions = []
    for starts_at, ends_at in schedule.times():
        session = OfferSession(starts_at=starts_at, ends_at=ends_at, location=offer.location, capacity=offer.capacity)
        session.languages = [SessionLanguage(language=code) for code in languages]
        offer.sessions.append(session)
        sessions.append(session)
    return sessions


def create_offer(creator: User, kind: OfferKind, data: OfferData, schedule: Schedule) -> Offer:
    """Add a course or an activity with its sessions.

    Coordinators publish at once; a volunteer's activity waits for approval unless the volunteer
    is trusted.
    """
    if kind == OfferKind.COURSE and not creator.is_coordinator:
        raise CatalogueError(str(_l("Only coordinators can publish courses.")))
    publish = creator.is_coordinator or creator.trusted
    offer = Offer(
        kind=kind,
        status=OfferStatus.PUBLISHED if publish else OfferStatus.PENDING,
        organiser=creator,
        capacity=data.capacity,
    )
    _apply_settings(offer, data)
    offer.title, offer.description, offer.language = data.title, data.description, data.language
    offer.contact, offer.location = data.contact, data.location
    refresh_search_text(offer)
    if publish:
        offer.approved_by_id = creator.id
        offer.approved_at = utcnow()
        approve_place(offer.location)
    _new_sessions(offer, schedule, data.languages)
    db.session.add(offer)
    db.session.flush()
    return offer


def update_offer(offer: Offer, data: OfferData, editor: User) -> bool:
    """Change an offer; return True when its new words wait for a coordinator.

    Places, the waiting list, reminders and languages change at once (new places go to the
    waiting list, fewer than booked are refused). The words and the place change at once only
    for those who may publish: for others the approved version stays online and the change
    waits as a revision.
    """
    from einstein.bookings import services as bookings
    from einstein.notifications import reminders

    offsets_before = list(offer.reminder_offsets or [])
    _apply_settings(offer, data)
    held = held_for_review(offer, editor)
    if held:
        held = propose(offer, editor, _words(data))
    else:
        _apply_words(offer, _words(data))
    now = utcnow()
    future = [s for s in offer.sessions if s.starts_at > now and s.status == SessionStatus.SCHEDULED]
    for session in future:
        if sorted(session.language_codes) != sorted(data.languages):
            session.languages = [SessionLanguage(language=code) for code in data.languages]
    try:
        if offer.is_course:
            bookings.change_capacity(bookings.Target(offer, None), data.capacity)
        else:
            offer.capacity = data.capacity
            for session in future:
                bookings.change_capacity(bookings.Target(offer, session), data.capacity)
    except bookings.BookingError as error:
        raise CatalogueError(error.message, field="capacity") from error
    db.session.flush()
    if list(offer.reminder_offsets) != offsets_before:
        reminders.replan_offer(offer)
    return held


# --- revisions held for review -----------------------------------------------------------------------


def pending_revision(offer: Offer) -> OfferRevision | None:
    """The change to ``offer`` that waits for a coordinator, if any."""
    return db.session.scalar(
        sa.select(OfferRevision).where(
            OfferRevision.offer_id == offer.id, OfferRevision.status == RevisionStatus.PENDING
        )
    )


def propose(
    offer: Offer, author: User, words: dict[str, Any] | None = None, translations: dict[str, Any] | None = None
) -> bool:
    """Hold new words (and translations) for ``offer`` until a coordinator decides; return whether
    anything differs from what is online. A second edit adds to the waiting revision."""
    revision = pending_revision(offer)
    changes = dict(revision.changes) if revision is not None else {}
    for name, value in (words or {}).items():
        live = offer.location_id if name == "location_id" else getattr(offer, name)
        if value == live:
            changes.pop(name, None)
        else:
            changes[name] = value
    if translations:
        held = dict(changes.get("translations") or {})
        held.update(translations)
        changes["translations"] = held
    if not changes:
        if revision is not None:
            db.session.delete(revision)
        return False
    if revision is None:
        revision = OfferRevision(offer=offer, author=author)
        db.session.add(revision)
    revision.author = author
    revision.changes = changes
    return True


@dataclass
class Difference:
    """One part of an offer as it is online and as the revision would make it."""

    label: str
    before: str
    after: str
    #: the language of the text, for reading it (a translation)
    lang: str | None = None


def differences(revision: OfferRevision) -> list[Difference]:
    """What the revision changes, side by side, for the coordinator who decides."""
    offer, result = revision.offer, []
    for name in REVIEWED_FIELDS:
        if name not in revision.changes:
            continue
        after = revision.changes[name]
        if name == "location_id":
            place = db.session.get(Location, after)
            before = offer.location.one_line if offer.location else ""
            result.append(Difference(str(FIELD_LABELS[name]), before, place.one_line if place else ""))
        elif name == "language":
            result.append(Difference(str(FIELD_LABELS[name]), language_name(offer.language), language_name(after)))
        else:
            label, before = str(FIELD_LABELS[name]), str(getattr(offer, name) or "")
            result.append(Difference(label, before, str(after or ""), offer.language))
    for locale, text in sorted((revision.changes.get("translations") or {}).items()):
        live = next((t for t in offer.translations if t.locale == locale), None)
        label = str(_l("Translation: %(language)s", language=language_name(locale)))
        before = f"{live.title}\n\n{live.description}".strip() if live else ""
        after = f"{text['title']}\n\n{text['description']}".strip() if text else ""
        result.append(Difference(label, before, after, locale))
    return result


def approve_revision(revision: OfferRevision, coordinator: User) -> None:
    """Put the held words online."""
    if revision.status != RevisionStatus.PENDING:
        raise CatalogueError(str(_l("This change was already decided.")))
    offer = revision.offer
    _apply_words(offer, {k: v for k, v in revision.changes.items() if k in REVIEWED_FIELDS})
    for locale, text in (revision.changes.get("translations") or {}).items():
        if text is None:
            _remove_translation(offer, locale)
        else:
            _set_translation(offer, locale, text["title"], text["description"])
    revision.status = RevisionStatus.APPROVED
    revision.decided_by_id, revision.decided_at = coordinator.id, utcnow()


def reject_revision(revision: OfferRevision, coordinator: User, reason: str = "") -> None:
    """Keep the approved words online; the volunteer sees why."""
    if revision.status != RevisionStatus.PENDING:
        raise CatalogueError(str(_l("This change was already decided.")))
    revision.status = RevisionStatus.REJECTED
    revision.decided_by_id, revision.decided_at = coordinator.id, utcnow()
    revision.reason = reason


def revisions_waiting() -> list[OfferRevision]:
    """Changes waiting for a coordinator, oldest first."""
    return list(
        db.session.scalars(
            sa.select(OfferRevision)
            .where(OfferRevision.status == RevisionStatus.PENDING)
            .options(joinedload(OfferRevision.offer).selectinload(Offer.translations), joinedload(OfferRevision.author))
            .order_by(OfferRevision.created_at)
        )
    )


def add_sessions(offer: Offer, schedule: Schedule) -> list[OfferSession]:
    """Add more sessions to an offer, with the offer's place, places and languages."""
    languages = next((s.language_codes for s in reversed(offer.sessions) if s.languages), ["nl"])
    sessions = _new_sessions(offer, schedule, languages)
    db.session.flush()
    if offer.is_course:
        from einstein.notifications import reminders

        for session in sessions:
            reminders.plan_for_session(session)
    return sessions


def booked_on(session: OfferSession) -> list[Booking]:
    """The confirmed and waitlisted bookings a change to this session concerns."""
    from einstein.bookings import services as bookings
    from einstein.bookings.models import Booking, BookingStatus

    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                bookings.Target.of_session(session).booking_filter(),
                Booking.status != BookingStatus.CANCELLED,
                Booking.user_id.is_not(None),
            )
            .options(joinedload(Booking.user))
        )
    )


def people_booked(offer: Offer) -> int:
    """How many people hold a place or wait on this offer (whom a cancellation would tell)."""
    from einstein.bookings.models import Booking, BookingStatus

    return int(
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Booking.user_id))).where(
                Booking.offer_id == offer.id, Booking.status != BookingStatus.CANCELLED
            )
        )
        or 0
    )


def update_session(
    session: OfferSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    location: Location,
    capacity: int | None,
    languages: list[str],
    editor: User,
) -> bool:
    """Move a session, change its place, places or languages; tell the people booked.

    Returns True when the people booked were told about a new time or place.

    A new time takes effect at once, from anyone who manages the offer: it is no text that could
    mislead, and people booked must hear of it now, not after a review. A place is words (a name
    and an address): someone whose words wait for review may only move a session of a public
    offer to a place a coordinator has already let through.
    """
    from einstein.bookings import services as bookings
    from einstein.notifications import reminders
    from einstein.notifications import services as outbox
    from einstein.notifications.models import NotificationKind

    if session.is_cancelled:
        raise CatalogueError(str(_l("This session is cancelled and cannot be changed.")))
    if location.id != session.location_id and not location.is_approved:
        if held_for_review(session.offer, editor):
            message = _l("A new place needs a coordinator's approval first. Choose a place from the list, or ask one.")
            raise CatalogueError(str(message), field="location_id")
        approve_place(location)
    old = {
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "place": session.place.one_line if session.place else "",
    }
    moved = (starts_at, ends_at) != (session.starts_at, session.ends_at)
    relocated = location.id != session.location_id
    session.starts_at, session.ends_at, session.location = starts_at, ends_at, location
    if sorted(session.language_codes) != sorted(languages):
        session.languages = [SessionLanguage(language=code) for code in languages]
    if capacity is not None and not session.offer.is_course:
        try:
            bookings.change_capacity(bookings.Target(session.offer, session), capacity)
        except bookings.BookingError as error:
            raise CatalogueError(error.message, field="capacity") from error
    db.session.flush()
    if not (moved or relocated):
        return False
    if moved:
        reminders.reschedule_session(session)
    outbox.add(
        [
            outbox.row(NotificationKind.SESSION_CHANGED, b.user_id, booking=b, session=session, payload=old)
            for b in booked_on(session)
            if b.user_id is not None
        ]
    )
    return True


def cancel_session(session: OfferSession, message: str = "") -> int:
    """Cancel one session: its bookings end (activities), everyone booked is told. Returns how many."""
    from einstein.bookings import services as bookings
    from einstein.bookings.models import CancelReason
    from einstein.notifications import reminders
    from einstein.notifications import services as outbox
    from einstein.notifications.models import NotificationKind

    if session.is_cancelled:
        raise CatalogueError(str(_l("This session was already cancelled.")))
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = utcnow()
    affected = booked_on(session)
    if not session.offer.is_course:
        bookings.end_all(bookings.Target(session.offer, session), CancelReason.SESSION_CANCELLED)
    reminders.cancel_for_session(session)
    outbox.add(
        [
            outbox.row(
                NotificationKind.SESSION_CANCELLED, b.user_id, booking=b, session=session, payload={"message": message}
            )
            for b in affected
            if b.user_id is not None
        ]
    )
    db.session.flush()
    return len(affected)


def cancel_offer(offer: Offer, message: str = "") -> int:
    """Cancel a whole offer: every session, every booking; each person booked is told once."""
    from einstein.bookings import services as bookings
    from einstein.bookings.models import Booking, BookingStatus, CancelReason
    from einstein.notifications import reminders
    from einstein.notifications import services as outbox
    from einstein.notifications.models import NotificationKind

    if offer.status == OfferStatus.CANCELLED:
        raise CatalogueError(str(_l("This was already cancelled.")))
    active = list(
        db.session.scalars(
            sa.select(Booking).where(Booking.offer_id == offer.id, Booking.status != BookingStatus.CANCELLED)
        )
    )
    now = utcnow()
    offer.status = OfferStatus.CANCELLED
    offer.cancelled_at = now
    targets = [bookings.Target(offer, None)] if offer.is_course else []
    for session in offer.sessions:
        if session.status == SessionStatus.SCHEDULED and session.ends_at > now:
            session.status = SessionStatus.CANCELLED
            session.cancelled_at = now
            reminders.cancel_for_session(session)
            if not offer.is_course:
                targets.append(bookings.Target(offer, session))
    for target in targets:
        bookings.end_all(target, CancelReason.OFFER_CANCELLED)
    first: dict[int, Booking] = {}  # each person is told once, about their first booking
    for booking in active:
        if booking.user_id is not None:
            first.setdefault(booking.user_id, booking)
    outbox.add(
        [
            outbox.row(NotificationKind.OFFER_CANCELLED, user_id, booking=booking, payload={"message": message})
            for user_id, booking in first.items()
        ]
    )
    db.session.flush()
    return len(first)


def _decide(offer: Offer, coordinator: User, status: OfferStatus, refusal: Any) -> None:
    if offer.status != OfferStatus.PENDING:
        raise CatalogueError(str(refusal))
    offer.status = status
    offer.approved_by_id = coordinator.id
    offer.approved_at = utcnow()


def approve(offer: Offer, coordinator: User) -> None:
    """Publish a volunteer's activity, and the places it uses."""
    _decide(offer, coordinator, OfferStatus.PUBLISHED, _l("Only activities waiting for approval can be approved."))
    approve_place(offer.location)
    for session in offer.sessions:
        approve_place(session.location)


def reject(offer: Offer, coordinator: User) -> None:
    """Do not publish a volunteer's activity (it stays visible to its volunteer)."""
    _decide(offer, coordinator, OfferStatus.REJECTED, _l("Only activities waiting for approval can be declined."))


def set_translation(offer: Offer, locale: str, title: str, description: str, editor: User) -> bool:
    """Add or change the offer's text in another language; return True when it waits for review."""
    if held_for_review(offer, editor):
        return propose(offer, editor, translations={locale: {"title": title, "description": description}})
    _set_translation(offer, locale, title, description)
    return False


def remove_translation(offer: Offer, locale: str, editor: User) -> bool:
    """Remove the offer's text in one language; return True when that waits for review."""
    if held_for_review(offer, editor):
        return propose(offer, editor, translations={locale: None})
    _remove_translation(offer, locale)
    return False


def _set_translation(offer: Offer, locale: str, title: str, description: str) -> None:
    translation = next((t for t in offer.translations if t.locale == locale), None)
    if translation is None:
        translation = OfferTranslation(locale=locale, title=title, description=description)
        offer.translations.append(translation)
    translation.title, translation.description = title, description
    refresh_search_text(offer)


def _remove_translation(offer: Offer, locale: str) -> None:
    offer.translations = [t for t in offer.translations if t.locale != locale]
    refresh_search_text(offer)


def offers_of(user: User, everyone: bool = False) -> sa.Select[tuple[Offer]]:
    """The offers a person organises (or, for coordinators asking for it, all offers), newest first."""
    query = sa.select(Offer).options(joinedload(Offer.location)).order_by(Offer.created_at.desc(), Offer.id.desc())
    if not everyone:
        query = query.where(Offer.organiser_id == user.id)
    return query


def waiting_for_approval() -> list[Offer]:
    """Volunteers' activities waiting for a coordinator, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Offer)
            .where(Offer.status == OfferStatus.PENDING)
            .options(joinedload(Offer.organiser), joinedload(Offer.location), selectinload(Offer.sessions))
            .order_by(Offer.created_at)
        )
    )
