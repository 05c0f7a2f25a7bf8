"""Anyone subscribes in a calendar app to what is on at a place or in a theme."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from tests.api.conftest import PARTICIPANT_NAME

pytestmark = pytest.mark.postgres


def _events(answer) -> dict[str, dict[str, str]]:
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    calendar = Calendar.from_ical(answer.data)
    return {str(e["UID"]): {k: str(v) for k, v in e.items()} for e in calendar.walk("VEVENT")}


def test_a_places_feed_holds_its_sessions_and_says_which_are_cancelled(client, programme) -> None:
    answer = client.get(f"/calendar/locations/{programme['centre']}.ics", headers={"Accept-Language": "en"})
    events = _events(answer)

    uids = {f"session-{programme[k]}@einstein.test" for k in ("walk_session", "cancelled_session", "cooking_session")}
    assert set(events) == uids  # nothing from the library, nothing waiting for approval
    assert events[f"session-{programme['cancelled_session']}@einstein.test"]["STATUS"] == "CANCELLED"
    assert events[f"session-{programme['walk_session']}@einstein.test"]["SUMMARY"] == "Samen wandelen"
    assert "Buurthuis De Pijp" in str(Calendar.from_ical(answer.data)["X-WR-CALNAME"])
    assert PARTICIPANT_NAME not in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers


def test_a_themes_feed_in_the_readers_language(client, programme) -> None:
    events = _events(client.get("/calendar/categories/language.ics", query_string={"lang": "ar"}))

    assert {e["SUMMARY"] for e in events.values()} == {"الإنجليزية للأعمال"}
    assert len(events) == 3


@pytest.mark.parametrize(
    "url", ["/calendar/categories/weapons.ics", "/calendar/locations/999999.ics", "/calendar/categories/%00.ics"]
)
def test_a_feed_that_does_not_exist_is_a_404(client, programme, url) -> None:
    assert client.get(url).status_code == 404


def test_a_place_not_yet_approved_has_no_feed(app, client, programme) -> None:
    from einstein.db import db
    from tests import factories

    with app.app_context():
        typed_in = factories.LocationFactory(approved_at=None)
        db.session.commit()
        place_id = typed_in.id

    assert client.get(f"/calendar/locations/{place_id}.ics").status_code == 404


def test_the_listing_links_to_the_feeds(client, programme) -> None:
    html = client.get("/", query_string={"category": "language"}, headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )

    assert 'href="/calendar/categories/language.ics"' in html
    assert 'href="/api/v1/#feeds"' in html and 'href="/embed"' in html
