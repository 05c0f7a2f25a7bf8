"""The offer page in two parts: what every reader of a language sees, rendered once and kept, and
what belongs to one person, filled in on every request.

The shared part (the offer's words and facts, its sessions with dates, places and labels, the
structured data for search engines) is the same for everyone who reads the page in one language
and may not manage the offer: it is rendered once per version of the offer and kept in the cache
(``caching.fragment``'s store, stale at once when a booking, a cancellation or an edit changes
the offer). Where a person's booking controls go (the course's panel, each session's panel) it
holds a placeholder, an HTML comment no reader's text can make (their words are escaped), and it
keeps what those controls need to know of each session (``Seat``). Each request renders only the
controls, with the person's bookings and form token, into the placeholders (``fill``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from einstein.courses.models import Offer, OfferSession

#: Where one person's controls go: the course's panel ("course") or a session's (its id).
_PERSONAL = re.compile(r"<!--personal:(course|\d+)-->")


def personal_slot(key: str | int) -> Markup:
    """The placeholder for one person's controls of the course (``"course"``) or a session (its id)."""
    return Markup("<!--personal:{}-->").format(key)


@dataclass(frozen=True)
class Seat:
    """What a person's booking controls need to know of one session: kept with the shared part."""

    id: int
    starts_at: datetime
    is_full: bool
    waitlist_count: int


@dataclass(frozen=True)
class Unit:
    """A session as one request's booking controls see it: its ``Seat`` and the offer loaded now."""

    id: int
    starts_at: datetime
    is_full: bool
    waitlist_count: int
    offer: Offer


@dataclass(frozen=True)
class SharedPage:
    """The part of an offer page every reader of one language sees (kept in the cache)."""

    title: str
    #: schema.org events for search engines (JSON data, rendered into the head per request).
    structured_data: Any
    #: The page's main content, with a placeholder where each person's controls go.
    content: str
    #: The sessions whose controls are filled in, by id.
    seats: dict[int, Seat]
    #: When the course's first scheduled session starts (None for an activity, or none planned).
    first_start: datetime | None


def seats_of(sessions: list[OfferSession]) -> dict[int, Seat]:
    """What the booking controls need to know of each session, to keep with the shared part."""
    return {s.id: Seat(s.id, s.starts_at, s.is_full, s.waitlist_count) for s in sessions}


def units(offer: Offer, seats: dict[int, Seat]) -> dict[int, Unit]:
    """The kept sessions as this request's controls see them, with the offer loaded now."""
    return {key: Unit(s.id, s.starts_at, s.is_full, s.waitlist_count, offer) for key, s in seats.items()}


def fill(content: str, render: Callable[[str], str]) -> Markup:
    """``content`` with each placeholder replaced by ``render(key)`` ("course" or a session id)."""
    return Markup(_PERSONAL.sub(lambda found: render(found.group(1)), content))  # noqa: S704 - our own templates
