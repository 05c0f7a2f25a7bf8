"""The page language, a person's message language and a printed document's language, kept apart.

The page language belongs to the device (the switcher, or the language of a followed e-mail
link); the language einstein writes to a person in is theirs, chosen on their profile; a booking
card printed for someone is in their language while the page around it stays in the reader's.
And inside right-to-left pages, times and references read the way they are written.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from einstein.db import db, utcnow
from einstein.i18n import format_when
from einstein.models import Booking, User
from tests.support.booking import book
from tests.support.clock import days_ahead
from tests.support.outbox import deliver

DUTCH_BROWSER = {"Accept-Language": "nl"}
#: an opening tag naming the page's language and direction
PAGE = re.compile(r'<html lang="([a-z]+)" dir="(ltr|rtl)"')


def _page_language(response: Any) -> str:
    found = PAGE.search(response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _words(app: Any, language: str, text: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(text)


def _locale_of(app: Any, person: Any) -> str:
    with app.app_context():
        return str(db.session.get(User, person.id).locale)


def _reference(app: Any, person: Any) -> str:
    with app.app_context():
        return str(db.session.scalar(sa.select(Booking.reference).where(Booking.user_id == person.id)))


def _link_in(message: Any, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    links = [link for link in re.findall(r"https?://\S+", text) if path in link]
    assert links, text
    return str(links[0])


def test_a_link_in_an_e_mail_opens_in_the_language_of_the_e_mail(app, client, make_user, activity, smtp) -> None:
    """Semhar reads Tigrinya; the phone she opens her e-mail on asks for Dutch."""
    semhar = make_user(name="Semhar", locale="ti", email="semhar@example.org", email_verified_at=utcnow())
    client.sign_in(semhar)
    assert book(client, activity).status_code in (302, 303)
    deliver(app)
    (confirmation,) = [m for m in smtp.messages if m["To"] == "semhar@example.org"]
    assert confirmation["Content-Language"] == "ti"
    link = _link_in(confirmation, "/cancel/")  # "cannot come? cancel with one click"
    assert link.endswith("?lang=ti")

    phone = app.test_client()  # not signed in, a browser that prefers Dutch
    address = urlsplit(link)
    page = phone.get(f"{address.path}?{address.query}", headers=DUTCH_BROWSER)
    assert _page_language(page) == "ti"
    # and she reads on in Tigrinya, on pages the link did not name
    assert _page_language(phone.get("/", headers=DUTCH_BROWSER)) == "ti"
    # a language einstein does not speak is left alone: the browser's counts
    other = app.test_client()
    assert _page_language(other.get(f"/offers/{activity['offer_id']}?lang=xx", headers=DUTCH_BROWSER)) == "nl"


def test_switching_the_page_language_leaves_the_persons_messages_alone(app, client, make_user, activity, smtp) -> None:
    """A volunteer helps Semhar on her phone and switches the pages to Arabic, which they read."""
    semhar = make_user(name="Semhar", locale="ti", email="semhar@example.org", email_verified_at=utcnow())
    client.sign_in(semhar)
    client.post("/language", data={"lang": "ar"})
    assert _page_language(client.get("/", headers=DUTCH_BROWSER)) == "ar"
    assert _locale_of(app, semhar) == "ti"  # her messages stay in Tigrinya
    # the language page says so, naming the message language in its own script
    choice = client.get("/language").get_data(as_text=True)
    assert '<bdi lang="ti">ትግርኛ</bdi>' in choice
    # what they book for her is confirmed to her in Tigrinya
    book(client, activity)
    deliver(app)
    (confirmation,) = [m for m in smtp.messages if m["To"] == "semhar@example.org"]
    assert confirmation["Content-Language"] == "ti"
    # on her own phone, signed in, the pages are in her language again
    own = app.test_client()
    own.sign_in(semhar)
    assert _page_language(own.get("/", headers=DUTCH_BROWSER)) == "ti"


def test_the_message_language_is_changed_on_the_profile_only(app, client, make_user) -> None:
    semhar = make_user(name="Semhar", locale="ti", email="semhar@example.org", email_verified_at=utcnow())
    client.sign_in(semhar)
    profile = client.get("/account").get_data(as_text=True)
    assert _words(app, "ti", "Language of your e-mails and text messages") in profile
    form = {
        "name": "Semhar",
        "email": "semhar@example.org",
        "locale": "so",
        "audience": "newcomer",
        "email_notifications": "y",
        "notify_by": "email",
    }
    response = client.post("/account", data=form)
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    assert _locale_of(app, semhar) == "so"
    # the pages on this device did not jump: they follow what the device chose, or the profile
    assert _page_language(client.get("/", headers=DUTCH_BROWSER)) == "so"
    client.post("/language", data={"lang": "ar"})
    client.post("/account", data={**form, "locale": "uk"})
    assert _page_language(client.get("/", headers=DUTCH_BROWSER)) == "ar"
    assert _locale_of(app, semhar) == "uk"


def test_a_coordinator_printing_a_booking_card_keeps_their_own_page_language(
    app, client, other_client, make_user, coordinator, activity
) -> None:
    """Noor works in Dutch; Amal reads Arabic and gets her card printed at the desk."""
    amal = make_user(name="Amal", locale="ar")
    other_client.sign_in(amal)
    book(other_client, activity)
    client.sign_in(coordinator)
    client.post("/language", data={"lang": "nl"})
    response = client.get(f"/bookings/{_reference(app, amal)}/card", headers=DUTCH_BROWSER)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _page_language(response) == "nl"  # the menu, the buttons: Noor's language
    assert f"<span>{_words(app, 'nl', 'Print')}</span>" in page
    card = page[page.index('<article class="booking-card"') :]
    assert card.startswith('<article class="booking-card" lang="ar" dir="rtl">')  # the card: Amal's
    assert _words(app, "ar", "Booking reference") in card
    assert _words(app, "nl", "Booking reference") not in card
    assert _locale_of(app, coordinator) == coordinator.locale  # and nobody's messages changed
    assert _locale_of(app, amal) == "ar"


def test_arabic_pages_keep_times_and_references_whole(app, client, make_user, activity) -> None:
    """'10:00–12:00' and 'K7MQ-4X9A', never '12:00–10:00' or a reference over two lines."""
    amal = make_user(name="Amal", locale="ar")
    client.sign_in(amal)
    book(client, activity)
    reference = _reference(app, amal)
    arabic = client.get("/my/bookings").get_data(as_text=True)
    assert f'<bdi dir="ltr" class="nowrap">{reference}</bdi>' in arabic
    # the range of times is isolated (U+2068 ... U+2069), so the dash does not turn it around
    assert re.search("\u2068\\d\\d:\\d\\d–\\d\\d:\\d\\d\u2069", arabic)
    client.post("/language", data={"lang": "nl"})
    dutch = client.get("/my/bookings").get_data(as_text=True)
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", dutch) and "\u2068" not in dutch
    assert f'<bdi dir="ltr" class="nowrap">{reference}</bdi>' in dutch


def test_a_farsi_range_keeps_its_word_between_the_times(app) -> None:
    """Farsi writes '10:00 تا 12:00': isolated by its first letter, the word keeps it right to left."""
    start = days_ahead(3)
    with app.test_request_context(), force_locale("fa"):
        written = format_when(start, start + timedelta(hours=2))
    assert re.search("\u2068\\d\\d:\\d\\d تا \\d\\d:\\d\\d\u2069$", written)
