"""A participant puts their bookings in their phone's calendar: one tap to subscribe (webcal://),
the link to copy by hand or with a button, and how to do it on an iPhone and on Android."""

from __future__ import annotations

import re
from html import unescape

from einstein.db import db
from einstein.models import Role, User
from tests.support.booking import book

EN = {"Accept-Language": "en"}


def _section(page: str) -> str:
    match = re.search(r'<section class="panel" id="calendar".*?</section>', page, re.S)
    assert match, "my bookings has no calendar section"
    return match.group(0)


def _token(app, person) -> str:
    with app.app_context():
        return db.session.get(User, person.id).calendar_token


def test_one_tap_subscribes_to_the_same_calendar_the_link_gives(app, client, participant, activity) -> None:
    client.sign_in(participant)
    book(client, activity)
    section = _section(client.get("/my/bookings", headers=EN).get_data(as_text=True))
    token = _token(app, participant)
    # the button opens the phone's calendar app with the private feed
    webcal = unescape(re.search(r'href="(webcal://[^"]+)" data-webcal', section).group(1))
    assert webcal == f"webcal://localhost/calendar/{token}.ics"
    # the field holds the same address for copying, readable left to right in any language
    field = re.search(r'<input id="feed-url"[^>]*>', section).group(0)
    assert f'value="http://localhost/calendar/{token}.ics"' in field
    assert "readonly" in field and 'dir="ltr"' in field
    # and the address the phone will fetch is the calendar with the booking in it
    feed = app.test_client().get(webcal.replace("webcal://localhost", ""))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar" and b"BEGIN:VEVENT" in feed.data


def test_without_script_the_copy_button_stays_hidden_and_the_field_is_there(client, participant) -> None:
    client.sign_in(participant)
    section = _section(client.get("/my/bookings", headers=EN).get_data(as_text=True))
    button = re.search(r"<button[^>]*data-copy=[^>]*>", section).group(0)
    assert 'data-copy="feed-url"' in button and re.search(r"\shidden>", button)  # the script shows it
    assert 'data-copied="Copied. Paste it into your calendar app."' in button
    assert 'role="status" data-copy-status="feed-url"' in section  # what happened is read out
    assert '<label for="feed-url">' in section


def test_the_how_to_covers_iphone_and_android(client, participant) -> None:
    client.sign_in(participant)
    section = _section(client.get("/my/bookings", headers=EN).get_data(as_text=True))
    iphone = section.split('id="how-to-iphone"', 1)[1].split("</details>", 1)[0]
    android = section.split('id="how-to-android"', 1)[1].split("</details>", 1)[0]
    assert "iPhone" in iphone and "Add Subscribed Calendar" in iphone
    assert "Android" in android and "From URL" in android and "ICSx⁵" in android


def test_a_new_link_changes_both_addresses_and_the_old_one_stops(app, client, participant) -> None:
    client.sign_in(participant)
    old = _token(app, participant)
    assert client.post("/my/calendar/reset").status_code == 303
    new = _token(app, participant)
    section = _section(client.get("/my/bookings", headers=EN).get_data(as_text=True))
    assert old not in section
    assert f"webcal://localhost/calendar/{new}.ics" in section and f"http://localhost/calendar/{new}.ics" in section
    assert app.test_client().get(f"/calendar/{old}.ics").status_code == 404


def test_in_arabic_the_link_stays_left_to_right(client, make_user) -> None:
    client.sign_in(make_user(role=Role.PARTICIPANT, locale="ar"))
    page = client.get("/my/bookings").get_data(as_text=True)
    assert 'dir="rtl"' in page
    field = re.search(r'<input id="feed-url"[^>]*>', _section(page)).group(0)
    assert 'dir="ltr"' in field


def test_signed_out_there_is_no_calendar_link(app) -> None:
    response = app.test_client().get("/my/bookings", headers=EN)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
