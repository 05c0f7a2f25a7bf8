"""The offer page in two parts: what every reader of a language sees, rendered once and kept, and
what is read and rendered on every request: the free places, and what belongs to one person.

The shared part (the offer's words and facts, its sessions with dates and labels, the structured
data for search engines) is the same for everyone who reads the page in one language and may not
manage the offer: it is rendered once and kept in the cache (``caching.kept``) until the catalogue
is edited (``SHARED_SCOPES``), at most a minute. A booking, a cancellation or a promotion changes
only counters, so in a rush the shared part stays kept: where the free places of the course or of
a session go it holds a placeholder, and so where a person's booking controls go, HTML comments no
reader's text can make (their words are escaped). Each request reads the places as they are now
(the offer's row, and its sessions' rows for an activity: one statement) and renders the places
and the person's controls, with their bookings and form token, into the placeholders (``fill``);
the structured data gets the same places (``jsonld.with_places``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from einstein.caching import CATALOGUE

#: What the shared part depends on: edits of the catalogue, not bookings (their counts are read
#: and filled in per request). The page around it depends on the offer too (``offer_detail``).
SHARED_SCOPES = frozenset({CATALOGUE})

#: Badges of free places kept per process (languages x places x waiting list or not); more than
#: this many start again.
BADGES_KEPT = 1024

#: Booking panels kept per process (languages x courses and sessions x their states); more start again.
PANELS_KEPT = 4096

#: Where something read or rendered per request goes: a person's controls ("personal") or the free
#: places ("places"), of the course ("course") or of a session (its id).
_SLOT = re.compile(r"<!--(personal|places):(course|\d+)-->")


def personal_slot(key: str | int) -> Markup:
    """The placeholder for one person's controls of the course (``"course"``) or a session (its id)."""
    return Markup("<!--personal:{}-->").format(key)


def places_slot(key: str | int) -> Markup:
    """The placeholder for the free places of the course (``"course"``) or a session (its id)."""
    return Markup("<!--places:{}-->").format(key)


def panel_key(language: str, key: str, offer: Any, unit: Any, *, started: bool, signed_in: bool) -> tuple[object, ...]:
    """Everything the booking panel of the course (``key`` "course") or a session (its id) says to
    someone with no booking there and no household: ``bookings/_panels.html`` reads no more."""
    full = unit.is_full
    waiting = unit.waitlist_count if full and offer.waitlist_enabled else None
    return (language, offer.id, key, signed_in, started, offer.is_public, offer.is_course, full, waiting)


#: Stands for a booking's reference in a kept panel of someone's booking (``booked_panel_key``):
#: never a reference (no "0" or "$" in one), never in a form token (not base64), and left as it
#: is by escaping and by ``url_for``.
REFERENCE_SLOT = "0000$0000"


def booked_panel_key(language: str, status: str, position: int | None) -> tuple[object, ...]:
    """Everything the panel of a person's booking says, to someone with no household, but its
    reference (``REFERENCE_SLOT``) and form token: its state and, on the waiting list, its place.
    ``bookings/_panels.html`` reads no more there, not even the course or session."""
    return ("booked", language, status, position)


@dataclass(frozen=True)
class SharedPage:
    """The part of an offer page every reader of one language sees (kept in the cache)."""

    title: str
    #: schema.org events for search engines (JSON data, rendered into the head per request, with
    #: the places as they are then).
    structured_data: Any
    #: The page's main content, with a placeholder where the places and each person's controls go.
    content: str
    #: The upcoming sessions it shows, whose places are read per request.
    session_ids: tuple[int, ...]
    #: When the course's first scheduled session starts (None for an activity, or none planned).
    first_start: datetime | None


def fill(content: str, render: Callable[[str, str], str]) -> Markup:
    """``content`` with each placeholder replaced by ``render(kind, key)``: kind "personal" or
    "places", key "course" or a session id."""
    return Markup(_SLOT.sub(lambda found: render(found.group(1), found.group(2)), content))  # noqa: S704 - our own templates
