"""Course completion and the certificate of participation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.bookings import operations
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.models import OfferKind, User
from tests import factories


@pytest.fixture
def course_done(app, coordinator, make_user):
    """A five-session course, over: four held, the last one cancelled. Amal came to 4, Bram to 3, Chiara to 1."""
    people = [make_user(name="Amal", locale="ar"), make_user(name="Bram", locale="nl"), make_user(name="Chiara")]
    with app.app_context():
        course = factories.OfferFactory(
            kind=OfferKind.COURSE,
            capacity=10,
            title="Business English",
            organiser=db.session.get(User, coordinator.id),
            completion_threshold=80,
        )
        sessions = [
            factories.SessionFactory(offer=course, starts_at=utcnow() + timedelta(days=1 + i)) for i in range(5)
        ]
        booked = [bookings.book(db.session.get(User, p.id), bookings.Target(course, None)) for p in people]
        for week, session in enumerate(sessions[:4]):
            session.starts_at = utcnow() - timedelta(days=30 - 7 * week)
            session.ends_at = session.starts_at + timedelta(hours=2)
        db.session.flush()
        operations.cancel_session(sessions[4])
        by = db.session.get(User, coordinator.id)
        attended = {0: 4, 1: 3, 2: 1}
        for index, booking in enumerate(booked):
            for week, session in enumerate(sessions[:4]):
                mark(
                    session,
                    booking,
                    AttendanceStatus.PRESENT if week < attended[index] else AttendanceStatus.ABSENT,
                    by,
                )
        db.session.commit()
        return {"offer_id": course.id, "references": [b.reference for b in booked], "people": people}


def test_completion_per_participant(client, coordinator, course_done) -> None:
    client.sign_in(coordinator)
    page = client.get(f"/offers/{course_done['offer_id']}/completion", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "4 / 4 (100%)" in page and "3 / 4 (75%)" in page and "1 / 4 (25%)" in page
    assert page.count('/certificate"') == 1  # only Amal reached 80 %


def test_the_certificate_is_in_the_participants_language(client, coordinator, course_done) -> None:
    client.sign_in(coordinator)
    response = client.get(f"/bookings/{course_done['references'][0]}/certificate")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # the document is in Amal's language, the page around it in the coordinator's
    assert '<article class="certificate" lang="ar" dir="rtl">' in page and "Amal" in page and "Business English" in page
    assert '<html lang="ar"' not in page


def test_no_certificate_below_the_threshold_or_for_someone_else(
    client, coordinator, course_done, other_participant
) -> None:
    client.sign_in(coordinator)
    assert client.get(f"/bookings/{course_done['references'][1]}/certificate").status_code == 409
    client.sign_in(other_participant)
    assert client.get(f"/bookings/{course_done['references'][0]}/certificate").status_code == 404


def test_the_participant_sees_their_own_progress_and_certificate(app, client, course_done) -> None:
    from flask_babel import force_locale, gettext

    client.sign_in(course_done["people"][0])  # Amal reads Arabic
    page = client.get("/my/bookings").get_data(as_text=True)
    with app.test_request_context(), force_locale("ar"):
        expected = gettext("You came to %(attended)d of %(held)d sessions so far.", attended=4, held=4)
    assert expected in page and "You came" not in expected
    assert f"/bookings/{course_done['references'][0]}/certificate" in page
    assert client.get(f"/bookings/{course_done['references'][0]}/certificate").status_code == 200


def test_the_threshold_is_set_per_course(app, client, coordinator, course_done) -> None:
    from einstein.models import Offer

    with app.app_context():
        db.session.get(Offer, course_done["offer_id"]).completion_threshold = 70
        db.session.commit()
    client.sign_in(coordinator)
    page = client.get(f"/offers/{course_done['offer_id']}/completion").get_data(as_text=True)
    assert page.count('/certificate"') == 2
