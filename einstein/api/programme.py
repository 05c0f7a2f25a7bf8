"""The public programme as the API, the feeds and the widget read it: published offers only.

Every list is paged by keyset (after the last id, or after the last session's start and id), so
a page deep in the list costs what the first one costs. What a reader gets is built here as
plain data (``offer_data``, ``session_data``): the words in the reader's language through
``Offer.text_for``, as the listing shows them, and places as counts. Nothing here names a
participant; the organiser is named as the offer page names them (``Offer.organised_by``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from einstein.bounds import as_id
from einstein.courses.catalogue import Cursor
from einstein.courses.models import (
    Category,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    SessionStatus,
    holding_of,
)
from einstein.db import db, utcnow
from einstein.urls import external_url

#: Items on a page unless the reader asks for fewer or more (up to ``MAX_PAGE_SIZE``).
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: A calendar feed holds the sessions of the last week and the next three months, at most this many.
FEED_DAYS_BEFORE, FEED_DAYS_AHEAD, FEED_LIMIT = 7, 92, 500


class BadCursorError(ValueError):
    """A cursor that einstein did not make (or made for another list)."""


@dataclass(frozen=True)
class IdCursor:
    """Where a page of offers or places starts: after this id. Opaque to readers."""

    after_id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"id.{self.after_id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> IdCursor | None:
        """The cursor in ``token`` (None when there is none); ``BadCursorError`` when it is not ours."""
        if token is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise BadCursorError(token) from error
        prefix, _, number = raw.partition(".")
        after_id = as_id(number)
        if prefix != "id" or after_id is None or len(token) > 64:
            raise BadCursorError(token)
        return cls(after_id)


def session_cursor(token: str | None) -> Cursor | None:
    """The listing's cursor in ``token`` (None when there is none); ``BadCursorError`` when it is not ours."""
    if token is None:
        return None
    cursor = Cursor.decode(token)
    if cursor is None:
        raise BadCursorError(token)
    return cursor


@dataclass
class Page:
    """One page of a list and the cursor of the next page (None on the last)."""

    items: list[Any]
    next_cursor: str | None


def _published() -> sa.ColumnElement[bool]:
    return Offer.status == OfferStatus.PUBLISHED


def _place_id() -> sa.ColumnElement[int | None]:
    """SQL for where a session is held: its own place, else its offer's (``OfferSession.place``)."""
    return sa.func.coalesce(OfferSession.location_id, Offer.location_id)


def offers(
    *,
    after: IdCursor | None = None,
    limit: int = PAGE_SIZE,
    category: Category | None = None,
    kind: OfferKind | None = None,
    location_id: int | None = None,
) -> Page:
    """Published offers by id, narrowed to a theme, a kind or a place (theirs or a session's)."""
    query = (
        sa.select(Offer)
        .where(_published())
        .options(
            selectinload(Offer.translations),
            joinedload(Offer.location),
            joinedload(Offer.organiser),
            joinedload(Offer.organisation),
        )
        .order_by(Offer.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Offer.id > after.after_id)
    if category is not None:
        query = query.where(Offer.category == category)
    if kind is not None:
        query = query.where(Offer.kind == kind)
    if location_id is not None:
        query = query.where(
            sa.or_(
                Offer.location_id == location_id,
                sa.exists().where(OfferSession.offer_id == Offer.id, OfferSession.location_id == location_id),
            )
        )
    found = list(db.session.scalars(query).unique())
    if len(found) > limit:
        found = found[:limit]
        return Page(found, IdCursor(found[-1].id).encode())
    return Page(found, None)


def offer(offer_id: int) -> Offer | None:
    """A published offer with what its description needs, or None (unpublished ones are not there)."""
    return db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id, _published())
        .options(
            selectinload(Offer.translations),
            joinedload(Offer.location),
            joinedload(Offer.organiser),
            joinedload(Offer.organisation),
        )
    )


def _sessions_query() -> sa.Select[OfferSession]:
    return (
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(_published())
        .options(
            contains_eager(OfferSession.offer).options(
                selectinload(Offer.translations), joinedload(Offer.location), joinedload(Offer.organisation)
            ),
            joinedload(OfferSession.location),
            selectinload(OfferSession.languages),
        )
        .order_by(OfferSession.starts_at, OfferSession.id)
    )


def _paged(query: sa.Select[OfferSession], after: Cursor | None, limit: int) -> Page:
    if after is not None:
        query = query.where(
            sa.tuple_(OfferSession.starts_at, OfferSession.id) > sa.tuple_(after.starts_at, after.session_id)
        )
    found = list(db.session.scalars(query.limit(limit + 1)).unique())
    if len(found) > limit:
        found = found[:limit]
        return Page(found, Cursor(found[-1].starts_at, found[-1].id).encode())
    return Page(found, None)


def offer_sessions(offer: Offer, *, after: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """An offer's sessions still to come (cancelled ones too, marked), soonest first."""
    query = _sessions_query().where(OfferSession.offer_id == offer.id, OfferSession.ends_at > utcnow())
    return _paged(query, after, limit)


def sessions(
    *,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
    category: Category | None = None,
    kind: OfferKind | None = None,
    location_id: int | None = None,
    scheduled_only: bool = False,
) -> Page:
    """The programme: sessions of published offers still to come, soonest first, narrowed."""
    query = _sessions_query().where(OfferSession.ends_at > utcnow())
    if scheduled_only:
        query = query.where(OfferSession.status == SessionStatus.SCHEDULED)
    if category is not None:
        query = query.where(Offer.category == category)
    if kind is not None:
        query = query.where(Offer.kind == kind)
    if location_id is not None:
        query = query.where(_place_id() == location_id)
    return _paged(query, after, limit)


def feed_sessions(*, category: Category | None = None, location_id: int | None = None) -> list[OfferSession]:
    """The sessions a calendar feed holds: of the last week and the next months, cancelled ones
    too (so a calendar that has one shows it cancelled), at one place or in one theme."""
    now = utcnow()
    query = _sessions_query().where(
        OfferSession.starts_at >= now - timedelta(days=FEED_DAYS_BEFORE),
        OfferSession.starts_at < now + timedelta(days=FEED_DAYS_AHEAD),
    )
    if category is not None:
        query = query.where(Offer.category == category)
    if location_id is not None:
        query = query.where(_place_id() == location_id)
    return list(db.session.scalars(query.limit(FEED_LIMIT)).unique())


def public_places() -> sa.Select[Location]:
    """Places a coordinator let through (a place typed into a waiting activity is not one yet)."""
    return sa.select(Location).where(Location.approved_at.is_not(None)).order_by(Location.id)


def places(*, after: IdCursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """The public places by id."""
    query = public_places().limit(limit + 1)
    if after is not None:
        query = query.where(Location.id > after.after_id)
    found = list(db.session.scalars(query))
    if len(found) > limit:
        found = found[:limit]
        return Page(found, IdCursor(found[-1].id).encode())
    return Page(found, None)


def place(location_id: int) -> Location | None:
    """A public place, or None."""
    return db.session.scalar(public_places().where(Location.id == location_id))


# --- what a reader gets --------------------------------------------------------------------------


def location_data(location: Location | None) -> dict[str, Any] | None:
    """A place as the offer page shows it."""
    if location is None:
        return None
    return {
        "id": location.id,
        "name": location.name,
        "address": location.address,
        "postcode": location.postcode,
        "city": location.city,
        "step_free": location.step_free,
        "calendar_url": external_url("opendata.location_feed", location_id=location.id),
    }


def offer_data(offer: Offer, locale: str) -> dict[str, Any]:
    """An offer in the reader's language (the original where there is no translation)."""
    text = offer.text_for(locale)
    return {
        "id": offer.id,
        "kind": offer.kind.value,
        "kind_label": str(offer.kind.label),
        "category": offer.category.value,
        "category_label": str(offer.category.label),
        "title": text.title,
        "title_language": text.title_lang,
        "description": text.description,
        "description_language": text.description_lang,
        "translation_outdated": text.outdated,
        "dutch_level": offer.dutch_level.value,
        "dutch_level_label": str(offer.dutch_level.label),
        "organised_by": offer.organised_by,
        "location": location_data(offer.location),
        "waiting_list_enabled": offer.waitlist_enabled,
        "url": external_url("courses.offer_detail", offer_id=offer.id, lang=locale),
        "calendar_url": external_url("courses.offer_ics", offer_id=offer.id, lang=locale),
    }


def availability(session: OfferSession) -> str:
    """``cancelled``, ``free`` (a place to book), ``waiting_list`` (full, the list is open) or ``full``."""
    unit = session.unit
    if session.is_cancelled:
        return "cancelled"
    if not unit.is_full:
        return "free"
    return "waiting_list" if session.offer.waitlist_enabled else "full"


def held_data(session: OfferSession) -> dict[str, Any] | None:
    """The places held for the mix, as the offer page shows them to everyone: how many, for whom,
    until when (never how many of them are taken: that would tell who said what)."""
    offer = session.offer
    holding = holding_of(offer, None if offer.is_course else session)
    if holding is None:
        return None
    return {"places": holding.places, "held_for": holding.held_for.value, "opens_at": holding.opens_at}


def session_data(session: OfferSession, locale: str, *, with_offer: bool = False) -> dict[str, Any]:
    """A session: when, where, which languages, and its places (a course's places are the course's)."""
    unit = session.unit
    state = availability(session)
    data: dict[str, Any] = {
        "id": session.id,
        "offer_id": session.offer_id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "status": session.status.value,
        "location": location_data(session.place),
        "languages": session.language_codes,
        "availability": state,
        "places": {"capacity": unit.capacity, "free": unit.free_places, "held": held_data(session)},
        "waiting_list": {
            "enabled": session.offer.waitlist_enabled,
            "open": state == "waiting_list",
            "waiting": unit.waitlist_count,
        },
        "calendar_url": external_url("courses.session_ics", session_id=session.id, lang=locale),
    }
    if with_offer:
        text = session.offer.text_for(locale)
        data["offer"] = {
            "id": session.offer_id,
            "kind": session.offer.kind.value,
            "category": session.offer.category.value,
            "title": text.title,
            "title_language": text.title_lang,
            "url": external_url("courses.offer_detail", offer_id=session.offer_id, lang=locale),
        }
    return data
