"""Search engines read an offer page's sessions as schema.org Events: the data is checked here
against the Event type's properties, and a hostile title cannot break out of its script block."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import html5lib
import pytest

from einstein.db import db
from einstein.models import Offer, OfferStatus
from tests.api.conftest import BREAKOUT

pytestmark = pytest.mark.postgres

#: schema.org/Event's properties (its own and those it inherits from Thing), as schema.org
#: lists them (version 29). Anything else in an Event is a misspelling search engines ignore.
EVENT_PROPERTIES = frozenset(
    {
        # Event
        "about", "actor", "aggregateRating", "attendee", "attendees", "audience", "composer",
        "contributor", "director", "doorTime", "duration", "endDate", "eventAttendanceMode",
        "eventSchedule", "eventStatus", "funder", "funding", "inLanguage", "isAccessibleForFree",
        "keywords", "location", "maximumAttendeeCapacity", "maximumPhysicalAttendeeCapacity",
        "maximumVirtualAttendeeCapacity", "offers", "organizer", "performer", "performers",
        "previousStartDate", "recordedIn", "remainingAttendeeCapacity", "review", "sponsor",
        "startDate", "subEvent", "subEvents", "superEvent", "translator", "typicalAgeRange",
        "workFeatured", "workPerformed",
        # Thing
        "additionalType", "alternateName", "description", "disambiguatingDescription", "identifier",
        "image", "mainEntityOfPage", "name", "potentialAction", "sameAs", "subjectOf", "url",
    }
)  # fmt: skip
#: JSON-LD's own keywords, allowed beside the properties.
KEYWORDS = frozenset({"@type", "@id", "@context"})
#: What an Event must have for a search engine to show it, and what einstein always says.
REQUIRED = {"name", "startDate", "endDate", "location", "eventStatus", "eventAttendanceMode", "offers", "url"}
OFFER_PROPERTIES = frozenset({"@type", "price", "priceCurrency", "availability", "url", "validFrom"})
PLACE_PROPERTIES = frozenset({"@type", "name", "address"})
ADDRESS_PROPERTIES = frozenset(
    {"@type", "streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry"}
)
STATUSES = {
    f"https://schema.org/{s}" for s in ("EventScheduled", "EventCancelled", "EventPostponed", "EventMovedOnline")
}
AVAILABILITY = {"https://schema.org/InStock", "https://schema.org/SoldOut"}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def structured_data(html: str) -> list[dict[str, Any]]:
    """The JSON-LD blocks of a page, found by a real HTML parser (as a crawler finds them)."""
    document = html5lib.parse(html, namespaceHTMLElements=False)
    blocks = [s.text or "" for s in document.iter("script") if s.get("type") == "application/ld+json"]
    return [json.loads(block) for block in blocks]


def check_event(event: dict[str, Any]) -> None:
    """An honest check of one Event against schema.org's vocabulary and Google's required fields."""
    assert event["@type"] == "Event"
    unknown = set(event) - EVENT_PROPERTIES - KEYWORDS
    assert not unknown, f"not properties of schema.org/Event: {unknown}"
    assert set(event) >= REQUIRED, REQUIRED - set(event)
    assert isinstance(event["name"], str) and event["name"]
    for key in ("startDate", "endDate"):
        assert ISO_WITH_OFFSET.match(event[key]), event[key]
    assert datetime.fromisoformat(event["startDate"]) < datetime.fromisoformat(event["endDate"])
    assert event["eventStatus"] in STATUSES
    assert event["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert event["url"].startswith("http://einstein.test/offers/")
    assert isinstance(event["inLanguage"], list) and all(isinstance(code, str) for code in event["inLanguage"])
    assert event["organizer"]["@type"] in {"Organization", "Person"} and event["organizer"]["name"]
    place = event["location"]
    assert place["@type"] == "Place" and not set(place) - PLACE_PROPERTIES
    assert place["address"]["@type"] == "PostalAddress" and not set(place["address"]) - ADDRESS_PROPERTIES
    offer = event["offers"]
    assert offer["@type"] == "Offer" and not set(offer) - OFFER_PROPERTIES
    assert offer["price"] == "0" and offer["priceCurrency"] == "EUR"
    assert offer["availability"] in AVAILABILITY
    for key in ("maximumAttendeeCapacity", "remainingAttendeeCapacity"):
        assert isinstance(event.get(key, 0), int)


def events_of(client: Any, offer_id: int, **query: str) -> list[dict[str, Any]]:
    answer = client.get(f"/offers/{offer_id}", query_string=query)
    assert answer.status_code == 200
    (data,) = structured_data(answer.get_data(as_text=True))
    assert data["@context"] == "https://schema.org"
    return data["@graph"]  # type: ignore[no-any-return]


def test_every_session_of_an_offer_is_an_event_search_engines_read(client, programme) -> None:
    events = events_of(client, programme["course"])

    assert len(events) == 3
    for event in events:
        check_event(event)
    first = events[0]
    assert first["name"] == "Zakelijk Engels"
    assert first["description"] == "Acht weken Engels voor je werk."
    assert first["organizer"] == {
        "@type": "Organization",
        "name": "Taalschool Utrecht",
        "url": "https://taalschool.example",
    }
    assert first["location"]["name"] == "Bibliotheek Kanaleneiland"
    assert first["location"]["address"]["streetAddress"] == "Bisschopsweg 1"
    # 10:00 in Utrecht, with Utrecht's offset that day
    assert first["startDate"][11:16] == "10:00" and first["startDate"][-6:] in {"+01:00", "+02:00"}
    assert first["offers"]["availability"] == "https://schema.org/InStock"


def test_a_full_session_is_sold_out_and_a_cancelled_one_cancelled(client, programme) -> None:
    events = {event["@id"].rpartition("-")[2]: event for event in events_of(client, programme["walk"])}

    for event in events.values():
        check_event(event)
    full = events[str(programme["walk_session"])]
    assert full["offers"]["availability"] == "https://schema.org/SoldOut"
    assert full["remainingAttendeeCapacity"] == 0 and full["inLanguage"] == ["ar", "nl"]
    cancelled = events[str(programme["cancelled_session"])]
    assert cancelled["eventStatus"] == "https://schema.org/EventCancelled"


def test_the_events_are_in_the_readers_language(client, programme) -> None:
    (event, *_) = events_of(client, programme["course"], lang="ar")

    assert event["name"] == "الإنجليزية للأعمال"


def test_a_title_with_a_closing_script_tag_stays_inside_its_string(client, programme) -> None:
    html = client.get(f"/offers/{programme['cooking']}").get_data(as_text=True)

    start = html.index('<script type="application/ld+json">')
    block = html[start : html.index("</script>", start)]
    assert "</script" not in block[10:] and "<script>alert" not in block
    (event,) = structured_data(html)[0]["@graph"]
    check_event(event)
    assert event["name"] == BREAKOUT
    # the parser saw one data block and no script that runs
    document = html5lib.parse(html, namespaceHTMLElements=False)
    assert not [s for s in document.iter("script") if (s.text or "").strip().startswith("alert")]


def test_the_content_security_policy_runs_no_inline_script_and_the_data_is_no_script(client, programme) -> None:
    answer = client.get(f"/offers/{programme['course']}")

    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # a JSON-LD block is a data block (HTML: a script whose type is not JavaScript is never run),
    # so the policy has nothing to refuse, and needs no hash or nonce
    assert '<script type="application/ld+json">' in answer.get_data(as_text=True)


def test_an_offer_that_is_not_public_has_no_events(app, client, coordinator, programme) -> None:
    with app.app_context():
        db.session.get(Offer, programme["walk"]).status = OfferStatus.CANCELLED
        db.session.commit()
    client.sign_in(coordinator)

    html = client.get(f"/offers/{programme['walk']}").get_data(as_text=True)

    assert structured_data(html) == []
