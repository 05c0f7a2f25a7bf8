"""People using einstein in a real browser, the way they would on a phone."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from einstein.i18n import TIMEZONE
from tests.browser.conftest import query, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARABIC = re.compile("[\u0600-\u06ff]")


def test_a_participant_signs_up_in_arabic_books_and_cancels(live, open_browser) -> None:
    page, _traffic = open_browser()
    page.goto(live.url + "/language")
    page.click("button[value=ar]")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"

    page.goto(live.url + "/signup")
    page.fill("#name", "أمل يوسف")
    page.fill("#email", "amal.browser@example.org")
    page.fill("#password", "زيتون وخبز في الصباح")
    page.fill("#password_again", "زيتون وخبز في الصباح")
    assert page.locator("#locale").input_value() == "ar"
    page.check("#audience-0")
    page.check("#accept_privacy")
    page.click("main form button[type=submit]")
    # "we sent you an e-mail" (the same answer whether or not the address had an account), in Arabic
    assert ARABIC.search(page.locator("main h1").inner_text())
    assert "amal.browser@example.org" in page.locator("main").inner_text()
    # the password works already: she signs in and goes on
    page.goto(live.url + "/login")
    page.fill("#identifier", "amal.browser@example.org")
    page.fill("#password", "زيتون وخبز في الصباح")
    page.click("main form button[type=submit]")
    page.wait_for_url(live.url + "/")
    assert ARABIC.search(page.locator("h1").inner_text())

    # find an activity with free places
    page.goto(live.url + "/?kind=activity&free=y")
    page.locator("main .card h3 a").first.click()
    title = page.locator("main h1").inner_text()
    page.locator("main form[action$='/book'] button").first.click()
    page.wait_for_url(live.url + "/my/bookings")
    card = page.locator("main .card", has_text=title).first
    assert card.is_visible()

    # cancel it: the confirmation page first, then the button
    card.locator("a[href$='/cancel']").click()
    assert ARABIC.search(page.locator("main h1").inner_text())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(live.url + "/my/bookings")
    assert page.locator("main details .card", has_text=title).count() == 1
    assert page.locator("main > .cards .card", has_text=title).count() == 0


def test_from_a_volunteers_idea_to_attendance_and_the_export(live, open_browser) -> None:
    today = datetime.now(TIMEZONE).date().isoformat()
    volunteer, _ = open_browser()
    sign_in(volunteer, live.url, "volunteer2@demo.einstein.test")
    volunteer.goto(live.url + "/offers/new/activity")
    volunteer.fill("#title", "Koffie-ochtend")
    volunteer.fill("#description", "Koffie en een praatje, voor iedereen.")
    volunteer.select_option("#language", "nl")
    volunteer.select_option("#category", "social")
    volunteer.check("input[name=languages][value=nl]")
    volunteer.check("input[name=languages][value=ar]")
    volunteer.select_option("#location_id", index=1)
    volunteer.fill("#capacity", "10")
    volunteer.fill("#first_date", today)
    volunteer.fill("#start_time", "00:00")
    volunteer.fill("#end_time", "23:59")
    volunteer.check("#repeat-0")
    volunteer.click("main form button[type=submit]")
    volunteer.wait_for_url(re.compile(r"/offers/\d+$"))
    offer_url = volunteer.url
    assert volunteer.locator("main .flash").first.is_visible()  # waiting for approval

    coordinator, _ = open_browser()
    sign_in(coordinator, live.url, "coordinator@demo.einstein.test")
    coordinator.goto(live.url + "/review")
    coordinator.locator("main .card", has_text="Koffie-ochtend").locator("form[action$='/approve'] button").click()
    coordinator.wait_for_url(live.url + "/review")
    assert coordinator.locator("main .card", has_text="Koffie-ochtend").count() == 0

    # a walk-in at the desk: register, book, print the card
    coordinator.goto(live.url + "/desk")
    coordinator.click("main a[href*='/desk/people/new']")
    coordinator.fill("#name", "Dawit Walk-in")
    coordinator.fill("#phone", "06 1212 3434")
    coordinator.select_option("#locale", "ti")
    coordinator.check("#consent")
    coordinator.click("main form button[type=submit]")
    coordinator.wait_for_url(re.compile(r"/desk/people/\d+$"))
    # the list to book from: found by a word of the title, places in words, one button
    coordinator.fill("#q", "koffie")
    coordinator.locator("main form[role=search] button[type=submit]").click()
    found = coordinator.locator("main li.card", has_text="Koffie-ochtend").first
    assert re.search(r"\d+ (places? free|plekk?e?n? vrij)", found.inner_text())  # the coordinator reads Dutch
    found.locator("form button[type=submit]").click()
    coordinator.locator("main a[href$='/card']").first.click()
    # the card is in Dawit's language; the page around it stays in the coordinator's
    assert coordinator.locator(".booking-card").get_attribute("lang") == "ti"
    assert coordinator.locator("html").get_attribute("lang") != "ti"
    reference = coordinator.locator(".booking-card .reference").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert coordinator.locator(".booking-card .qr svg").count() == 1

    # attendance: one tap, saved without reloading, still there after a reload
    coordinator.goto(offer_url)
    coordinator.locator("main a[href$='/attendance']").first.click()
    row = coordinator.locator("main .attendee", has_text="Dawit Walk-in")
    row.locator("button[value=present]").click()
    row.locator("button[value=present][aria-pressed=true]").wait_for()
    coordinator.reload()
    assert (
        coordinator.locator("main .attendee", has_text="Dawit Walk-in")
        .locator("button[value=present]")
        .get_attribute("aria-pressed")
        == "true"
    )

    # the attendance export
    coordinator.goto(live.url + f"/exports?start={today}&end={today}")
    with coordinator.expect_download() as download:
        coordinator.click("main a[href*='/exports/attendance.csv']")
    text = download.value.path().read_text(encoding="utf-8-sig")
    # in the coordinator's language (Dutch), as the attendance list says it: not the code "present"
    assert "Dawit Walk-in" in text and "Koffie-ochtend" in text and _in("nl", "Present") in text


def _in(locale: str, text: str, **values: object) -> str:
    """``text`` as the pages in ``locale`` say it."""
    from flask_babel import force_locale, gettext

    from einstein import create_app
    from tests.support.i18n import compiled_translations

    app = create_app({"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations())})
    with app.test_request_context(), force_locale(locale):
        return gettext(text, **values)


def _arabic(text: str, **values: object) -> str:
    """``text`` as the Arabic pages say it."""
    return _in("ar", text, **values)


def test_a_phone_only_sign_up_in_arabic_is_told_the_truth(live, open_browser) -> None:
    """Someone with only a phone: every screen says text messages, never e-mail."""
    page, _traffic = open_browser()
    page.goto(live.url + "/language")
    page.click("button[value=ar]")
    page.goto(live.url + "/signup")
    page.fill("#name", "هدى عبدي")
    page.fill("#phone", "06 4444 5555")
    page.fill("#password", "شاي بالنعناع في المساء")
    page.fill("#password_again", "شاي بالنعناع في المساء")
    page.check("#audience-0")
    page.check("#accept_privacy")
    page.click("main form button[type=submit]")
    page.wait_for_url(live.url + "/signup/code")
    main = page.locator("main").inner_text()
    assert ARABIC.search(page.locator("main h1").inner_text())
    assert "e-mail" not in main.lower() and _arabic("Check your e-mail") not in main
    # the code, as the phone shows it (read here from the outbox), typed in Arabic digits
    payload = query(live, "SELECT payload FROM notifications WHERE kind = 'phone_code' ORDER BY id DESC")
    code = re.search(r'"code": "(\d{6})"', payload).group(1)
    page.fill("#code", "".join(chr(0x0660 + int(d)) for d in code))
    page.click("main form button[type=submit]")
    page.wait_for_url(live.url + "/")
    # she books: the page says she is told by text message
    page.goto(live.url + "/?kind=activity&free=y")
    page.locator("main .card h3 a").first.click()
    page.locator("main form[action$='/book'] button").first.click()
    page.wait_for_url(live.url + "/my/bookings")
    flash = page.locator(".flashes").inner_text()
    assert _arabic("We tell you by text message (SMS).") in flash
    assert _arabic("We tell you by e-mail.") not in flash
    page.goto(live.url + "/account")
    assert _arabic("We tell you by text message (SMS).") in page.locator("main").inner_text()
    assert query(live, "SELECT channel FROM notifications WHERE kind = 'booking_confirmed' ORDER BY id DESC") == "sms"
