"""A certificate of participation is earned: the whole course is over and the person came often enough.

The story: a coordinator puts a six-evening course online ("Starting a business in Utrecht",
80 % needed) with what it covers. Amal (who reads Arabic) and Bram come. After the first evening
nobody can print a certificate; after the last one Amal, who came to five of six, prints hers in
Arabic and, for the municipality, in Dutch; Bram, who came to four, gets none.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext, ngettext
from markupsafe import escape

from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.bookings import operations
from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import Booking, Offer, Role, SessionStatus, User
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT
from tests.support.html import main

COVERS = "Writing a business plan\nTalking to a bank\nTax basics for starters"
EN = {"Accept-Language": "en"}


def _said(app, locale: str, text: str, **values: Any) -> str:
    """``text`` as the pages say it in ``locale``."""
    with app.test_request_context(), force_locale(locale):
        return gettext(text, **values)


def _said_n(app, locale: str, singular: str, plural: str, num: int, **values: Any) -> str:
    with app.test_request_context(), force_locale(locale):
        return ngettext(singular, plural, num, **values)


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {
        "coordinator": make_user(role=Role.COORDINATOR, name="Noor Coordinator", locale="en"),
        "amal": make_user(name="Amal Yusuf", locale="ar"),
        "bram": make_user(name="Bram de Vries", locale="nl"),
    }


@pytest.fixture
def course(app, client, people, offer_form_data) -> dict[str, Any]:
    """The six-evening course, put online through the offer form, with Amal and Bram booked."""
    client.sign_in(people["coordinator"])
    response = client.post("/offers/new/course", data=offer_form_data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        offer = db.session.scalar(sa.select(Offer).where(Offer.title == "Starting a business in Utrecht"))
        assert offer.covers == COVERS.replace("\n", "\r\n") or offer.covers == COVERS
        references = {
            name: bookings.book(db.session.get(User, people[name].id), bookings.Target(offer, None)).reference
            for name in ("amal", "bram")
        }
        db.session.commit()
        return {"offer_id": offer.id, "session_ids": [s.id for s in offer.sessions], **references}


@pytest.fixture
def offer_form_data() -> dict[str, Any]:
    return {
        "title": "Starting a business in Utrecht",
        "description": "Six evenings with Utrecht entrepreneurs.",
        "covers": COVERS,
        "language": "en",
        "category": "work",
        "languages": ["en"],
        "dutch_level": "none",
        "new_place_name": "Ondernemershuis",
        "new_place_address": "Catharijnesingel 47",
        "capacity": "12",
        "waitlist_enabled": "y",
        "reminder_offsets": ["24h"],
        "completion_threshold": "80",
        "first_date": (days_ahead(7).date()).isoformat(),
        "start_time": "19:00",
        "end_time": "21:00",
        "repeat": "weekly",
        "count": "6",
    }


def _evenings(app, course, people, held: int, came: dict[str, int], cancelled: tuple[int, ...] = ()) -> None:
    """Move the course so that its first ``held`` evenings are over (weekly, the last one
    yesterday) and the others still to come; mark who came; cancel the ``cancelled`` evenings."""
    with app.app_context():
        offer = db.session.get(Offer, course["offer_id"])
        by = db.session.get(User, people["coordinator"].id)
        for number, session in enumerate(offer.sessions):
            # evening number held - 1 was yesterday, evening number held is in six days
            starts = days_ahead(7 * (number - held) + 6, time(19))
            session.starts_at, session.ends_at = starts, starts + timedelta(hours=2)
        db.session.flush()
        sessions = sorted(offer.sessions, key=lambda s: s.starts_at)
        for number in cancelled:
            operations.cancel_session(sessions[number])
        for name, times in came.items():
            booking = db.session.scalar(sa.select(Booking).where(Booking.reference == course[name]))
            evenings = [s for s in sessions[:held] if s.status == SessionStatus.SCHEDULED]
            for index, session in enumerate(evenings):
                mark(session, booking, AttendanceStatus.PRESENT if index < times else AttendanceStatus.ABSENT, by)
        db.session.commit()


def test_the_evenings_are_where_the_story_says(app, course, people) -> None:
    _evenings(app, course, people, held=1, came={})
    with app.app_context():
        starts = sorted(s.starts_at for s in db.session.get(Offer, course["offer_id"]).sessions)
    assert starts[0] == days_ahead(-1, time(19))  # the first evening was yesterday
    assert starts[1] == days_ahead(6, time(19))


@pytest.mark.parametrize(("held", "left"), [(1, 5), (3, 3)])
def test_no_certificate_before_the_course_is_over(app, client, course, people, held, left) -> None:
    _evenings(app, course, people, held=held, came={"amal": held})
    client.sign_in(people["amal"])
    # "my bookings" shows how it goes, and no certificate link
    page = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert _said(app, "ar", "You came to %(attended)d of %(held)d sessions so far.", attended=held, held=held) in page
    assert '/certificate"' not in page
    # the address typed by hand: a friendly refusal that says what is left
    response = client.get(f"/bookings/{course['amal']}/certificate")
    assert response.status_code == 409
    refusal = main(response.get_data(as_text=True))
    assert (
        _said_n(
            app,
            "ar",
            "The course is not over: %(num)d of %(total)d session still to come.",
            "The course is not over: %(num)d of %(total)d sessions still to come.",
            left,
            total=6,
        )
        in refusal
    )
    # the coordinator sees the same on the completion page: nobody has a certificate yet
    client.sign_in(people["coordinator"])
    completion = client.get(f"/offers/{course['offer_id']}/completion", headers=EN).get_data(as_text=True)
    assert '/certificate"' not in completion and "not yet" in completion
    response = client.get(f"/bookings/{course['amal']}/certificate", headers=EN)
    assert response.status_code == 409
    assert f"The course is not over: {left} of 6 sessions still to come." in response.get_data(as_text=True)


def test_after_the_last_evening_amal_prints_hers_in_arabic_and_in_dutch(app, client, course, people) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5, "bram": 4})
    client.sign_in(people["amal"])
    page = client.get("/my/bookings").get_data(as_text=True)
    assert f"/bookings/{course['amal']}/certificate" in page

    response = client.get(f"/bookings/{course['amal']}/certificate")
    assert response.status_code == 200
    document = response.get_data(as_text=True).split('<article class="certificate"', 1)[1]
    assert document.startswith(' lang="ar" dir="rtl"')
    assert _said(app, "ar", "Certificate of participation") in document
    assert _said(app, "ar", "and came to %(attended)d of the %(held)d sessions.", attended=5, held=6) in document
    assert "Amal Yusuf" in document and "Starting a business in Utrecht" in document
    # what the course covered, in the language it was written in, marked as such
    assert '<ul class="covers" lang="en" dir="auto">' in document
    for line in COVERS.splitlines():
        assert f"<li>{line}</li>" in document

    # for the municipality: the same certificate in Dutch; the page around it stays Amal's
    response = client.get(f"/bookings/{course['amal']}/certificate?in=nl")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
    document = text.split('<article class="certificate"', 1)[1]
    assert document.startswith(' lang="nl" dir="ltr"')
    assert "Certificaat van deelname" in document
    assert _said(app, "nl", "and came to %(attended)d of the %(held)d sessions.", attended=5, held=6) in document
    assert all(f"<li>{line}</li>" in document for line in COVERS.splitlines())
    # ... and neither the site's language nor Amal's own language changed
    assert '<html lang="ar" dir="rtl">' in client.get("/my/bookings").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people["amal"].id).locale == "ar"


def test_a_coordinator_prints_amals_certificate_without_the_menu_changing_language(app, client, course, people) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5})
    client.sign_in(people["coordinator"])
    completion = client.get(f"/offers/{course['offer_id']}/completion", headers=EN).get_data(as_text=True)
    assert completion.count('/certificate"') == 1  # Amal's; Bram came to none
    text = client.get(f"/bookings/{course['amal']}/certificate", headers=EN).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in text  # the coordinator's page
    assert '<article class="certificate" lang="ar" dir="rtl">' in text  # Amal's document
    assert f"/bookings/{course['amal']}/certificate?in=nl" in text  # the switch to Dutch


def test_below_the_threshold_there_is_no_certificate(app, client, course, people) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5, "bram": 4})
    client.sign_in(people["bram"])
    assert '/certificate"' not in client.get("/my/bookings").get_data(as_text=True)
    response = client.get(f"/bookings/{course['bram']}/certificate", headers=EN)
    assert response.status_code == 409
    page = main(response.get_data(as_text=True))
    came = _said_n(
        app,
        "nl",
        "Came to %(attended)d of the %(num)d session held so far.",
        "Came to %(attended)d of the %(num)d sessions held so far.",
        6,
        attended=4,
    )
    assert came in page
    assert "still to come" not in page
    client.sign_in(people["coordinator"])
    page = main(client.get(f"/bookings/{course['bram']}/certificate", headers=EN).get_data(as_text=True))
    assert "A certificate needed 5 sessions of the 6." in page
    completion = client.get(f"/offers/{course['offer_id']}/completion", headers=EN).get_data(as_text=True)
    assert "4 / 6 (67%)" in completion and "not reached" in completion


def test_a_cancelled_evening_does_not_count(app, client, course, people) -> None:
    """The last evening is cancelled: the course is over after five, and 4 of 5 is 80 %."""
    _evenings(app, course, people, held=5, came={"amal": 4}, cancelled=(5,))
    client.sign_in(people["amal"])
    response = client.get(f"/bookings/{course['amal']}/certificate")
    assert response.status_code == 200
    assert _said(app, "ar", "and came to %(attended)d of the %(held)d sessions.", attended=4, held=5) in (
        response.get_data(as_text=True)
    )


def test_a_cancelled_evening_in_the_middle_does_not_count_either(app, client, course, people) -> None:
    """Six evenings planned, the third cancelled, five held: 4 of 5 earns it, 4 of 6 would not."""
    _evenings(app, course, people, held=6, came={"amal": 4}, cancelled=(2,))
    client.sign_in(people["amal"])
    assert client.get(f"/bookings/{course['amal']}/certificate").status_code == 200


def test_the_certificate_is_for_the_person_and_the_course_team_only(
    app, client, course, people, other_participant, other_volunteer
) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5})
    url = f"/bookings/{course['amal']}/certificate"
    for stranger in (other_participant, other_volunteer, people["bram"]):
        client.sign_in(stranger)
        assert client.get(url).status_code == 404
        assert client.get(url + "?in=nl").status_code == 404
    client.get("/logout")
    anonymous = app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "asked",
    ["xx", "<script>", "nl%00", "' OR 1=1 --", "NL", "nl-BE", "a" * 500, "%E2%80%AEnl"],
)
def test_a_language_that_is_not_one_of_ours_is_a_clear_400(app, client, course, people, asked) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5})
    client.sign_in(people["amal"])
    response = client.get(f"/bookings/{course['amal']}/certificate?in={asked}", headers=EN)
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("reference", ["ZZZZ-ZZZZ", "<script>", "' OR 1=1 --", "x" * 300, "..%2F..%2Fetc"])
def test_an_unknown_reference_is_404(client, people, reference) -> None:
    client.sign_in(people["coordinator"])
    assert client.get(f"/bookings/{reference}/certificate").status_code == 404


def test_a_cancelled_booking_has_no_certificate(app, client, course, people) -> None:
    _evenings(app, course, people, held=6, came={"amal": 5})
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.reference == course["amal"]))
        bookings.cancel(booking, reason=bookings.CancelReason.ORGANISER)
        db.session.commit()
    client.sign_in(people["amal"])
    assert client.get(f"/bookings/{course['amal']}/certificate").status_code == 404


@pytest.mark.parametrize("hostile", list(HOSTILE_IN_TEXT.values()))
def test_what_the_course_covers_refuses_hidden_characters(app, client, people, offer_form_data, hostile) -> None:
    client.sign_in(people["coordinator"])
    response = client.post("/offers/new/course", data={**offer_form_data, "covers": hostile}, headers=EN)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0


def test_what_the_course_covers_has_a_length_limit(app, client, people, offer_form_data) -> None:
    client.sign_in(people["coordinator"])
    response = client.post("/offers/new/course", data={**offer_form_data, "covers": "x" * 1001}, headers=EN)
    assert response.status_code == 422
    assert "Please keep this under 1000 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize("text", list(HOSTILE_TEXT.values()))
def test_what_the_course_covers_is_printed_as_text(app, client, people, offer_form_data, text) -> None:
    client.sign_in(people["coordinator"])
    assert client.post("/offers/new/course", data={**offer_form_data, "covers": text}).status_code == 302
    with app.app_context():
        offer = db.session.scalar(sa.select(Offer))
        booking = bookings.book(db.session.get(User, people["amal"].id), bookings.Target(offer, None))
        course = {"offer_id": offer.id, "amal": booking.reference}
        db.session.commit()
    _evenings(app, course, people, held=6, came={"amal": 6})
    client.sign_in(people["amal"])
    page = client.get(f"/bookings/{course['amal']}/certificate").get_data(as_text=True)
    assert f"<li>{escape(text)}</li>" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_an_activity_has_nothing_to_cover(app, client, people, offer_form_data) -> None:
    client.sign_in(people["coordinator"])
    data = {**offer_form_data, "title": "Walking group", "repeat": "once", "count": "1"}
    assert client.post("/offers/new/activity", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Offer.covers).where(Offer.title == "Walking group")) == ""
    form = client.get("/offers/new/activity", headers=EN).get_data(as_text=True)
    assert 'name="covers"' not in form
    assert 'name="covers"' in client.get("/offers/new/course", headers=EN).get_data(as_text=True)
