"""schema.org ``Event`` data for a public offer page (JSON-LD), so that search engines show its
dates, place and whether places are free.

One Event per session on the page (a course's sessions share the course's places). The data is
written into the page by Jinja's ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``: a title
holding ``</script>`` stays inside its string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from einstein.courses.models import Location, Offer, OfferSession
from einstein.i18n import local
from einstein.urls import external_url

SCHEMA = "https://schema.org/"


def _place(location: Location) -> dict[str, Any]:
    address = {"@type": "PostalAddress", "streetAddress": location.address, "addressLocality": location.city}
    if location.postcode:
        address["postalCode"] = location.postcode
    address["addressCountry"] = "NL"
    return {"@type": "Place", "name": location.name, "address": address}


def _organizer(offer: Offer) -> dict[str, Any]:
    """Who runs it, named as the page names them (``Offer.organised_by``)."""
    if offer.organisation is not None:
        organizer: dict[str, Any] = {"@type": "Organization", "name": offer.organisation.name}
        if offer.organisation.website:
            organizer["url"] = offer.organisation.website
        return organizer
    if offer.organiser is not None:
        return {"@type": "Person", "name": offer.organiser.name}
    return {"@type": "Organization", "name": "einstein", "url": external_url("courses.index")}


def _availability(unit: Offer | OfferSession, cancelled: bool) -> str:
    return SCHEMA + ("InStock" if not unit.is_full and not cancelled else "SoldOut")


def event(offer: Offer, session: OfferSession, locale: str) -> dict[str, Any]:
    """One session as a schema.org Event, in the reader's language."""
    text = offer.text_for(locale)
    url = external_url("courses.offer_detail", offer_id=offer.id)
    unit = session.unit
    cancelled = session.is_cancelled
    data: dict[str, Any] = {
        "@type": "Event",
        "@id": f"{url}#session-{session.id}",
        "name": text.title,
        "startDate": local(session.starts_at).isoformat(),
        "endDate": local(session.ends_at).isoformat(),
        "eventStatus": SCHEMA + ("EventCancelled" if cancelled else "EventScheduled"),
        "eventAttendanceMode": SCHEMA + "OfflineEventAttendanceMode",
        "organizer": _organizer(offer),
        "isAccessibleForFree": True,
        "inLanguage": session.language_codes or [offer.language],
        "url": url,
        "offers": {
            "@type": "Offer",
            "price": "0",
            "priceCurrency": "EUR",
            "availability": _availability(unit, cancelled),
            "url": url,
        },
        "maximumAttendeeCapacity": unit.capacity,
        "remainingAttendeeCapacity": unit.free_places,
    }
    if text.description:
        data["description"] = text.description
    if session.place is not None:
        data["location"] = _place(session.place)
    return data


def offer_events(offer: Offer, sessions: Iterable[OfferSession], locale: str) -> dict[str, Any] | None:
    """The JSON-LD of a public offer's page: its sessions as Events (None if it is not public or has none)."""
    events = [event(offer, session, locale) for session in sessions]
    if not offer.is_public or not events:
        return None
    return {"@context": "https://schema.org", "@graph": events}


def with_places(
    data: dict[str, Any] | None, offer: Offer, sessions: Mapping[int, OfferSession]
) -> dict[str, Any] | None:
    """``offer_events``' data, kept with a page, with the places as they are now: each event's
    availability and capacity from ``offer`` (a course: one booking takes a place in every
    session) or from its session in ``sessions`` (an activity), read in this request. The data
    kept is not changed (a cache in the process may hand out the same object again)."""
    if data is None:
        return None
    events = []
    for kept in data["@graph"]:
        session_id = int(kept["@id"].rsplit("#session-", 1)[1])
        unit = offer if offer.is_course else sessions[session_id]
        cancelled = kept["eventStatus"] == SCHEMA + "EventCancelled"
        events.append(
            {
                **kept,
                "offers": {**kept["offers"], "availability": _availability(unit, cancelled)},
                "maximumAttendeeCapacity": unit.capacity,
                "remainingAttendeeCapacity": unit.free_places,
            }
        )
    return {**data, "@graph": events}
