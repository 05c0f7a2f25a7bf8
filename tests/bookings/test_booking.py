"""Booking, the waiting list, cancelling: fair, clear, and never half-done."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from einstein.db import db, utcnow
from einstein.models import (
    Booking,
    BookingStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Offer,
    OfferSession,
    OfferStatus,
    SessionStatus,
    User,
)
from tests.support.booking import book
from tests.support.outbox import deliver, queued


def _bookings(app) -> list[Booking]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).order_by(Booking.id)))
        db.session.expunge_all()
        return rows


def _unit(app, model, unit_id):
    with app.app_context():
        row = db.session.get(model, unit_id)
        db.session.expunge(row)
        return row


def test_booking_a_session(app, client, participant, activity) -> None:
    client.sign_in(participant)
    response = book(client, activity)
    assert response.status_code == 303
    [booking] = _bookings(app)
    assert (booking.user_id, booking.session_id, booking.status) == (
        participant.id,
        activity["session_id"],
        BookingStatus.CONFIRMED,
    )
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", booking.reference)
    assert _unit(app, OfferSession, activity["session_id"]).confirmed_count == 1
    assert len(queued(app, NotificationKind.BOOKING_CONFIRMED)) == 1
    assert {n.reminder_offset for n in queued(app, NotificationKind.REMINDER)} >= {"24h"}
    page = client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Bike repair café" in page and booking.reference in page


def test_booking_a_whole_course(app, client, participant, course) -> None:
    client.sign_in(participant)
    assert book(client, course).status_code == 303
    [booking] = _bookings(app)
    assert booking.session_id is None and booking.offer_id == course["offer_id"]
    assert _unit(app, Offer, course["offer_id"]).confirmed_count == 1
    # a reminder for every session of the course
    assert len({n.session_id for n in queued(app, NotificationKind.REMINDER)}) == 3


def test_full_means_the_waiting_list_in_order(app, client, make_user, activity) -> None:
    people = [make_user() for _ in range(4)]
    for person in people[:2]:
        client.sign_in(person)
        assert book(client, activity).status_code == 303
    client.sign_in(people[2])
    refused = book(client, activity)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "It just got full" in page and "you would be number 1" in page
    assert book(client, activity, waitlist=True).status_code == 303
    client.sign_in(people[3])
    book(client, activity, waitlist=True)
    rows = _bookings(app)
    assert [b.status for b in rows] == [BookingStatus.CONFIRMED] * 2 + [BookingStatus.WAITLISTED] * 2
    assert [b.waitlist_position for b in rows[2:]] == [1, 2]
    page = client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "On the waiting list, number 2" in page


def test_full_without_a_waiting_list(app, client, make_user) -> None:
    from tests import factories

    people = [make_user(), make_user()]
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=1, offer__waitlist_enabled=False)
        target = {"session_id": session.id}
    client.sign_in(people[0])
    book(client, target)
    client.sign_in(people[1])
    response = book(client, target, waitlist=True)
    assert response.status_code == 409
    assert "this is full and there is no waiting list" in response.get_data(as_text=True)
    assert len(_bookings(app)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"starts_at": "past"}, "already started"),
        ({"status": SessionStatus.CANCELLED}, "has been cancelled"),
    ],
)
def test_what_cannot_be_booked(app, client, participant, activity, change, message) -> None:
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        if change.get("starts_at") == "past":
            session.starts_at, session.ends_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
        else:
            session.status = change["status"]
        db.session.commit()
    client.sign_in(participant)
    response = book(client, activity)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert _bookings(app) == []


def test_an_unpublished_offer_cannot_be_booked(app, client, participant, activity) -> None:
    with app.app_context():
        db.session.get(Offer, activity["offer_id"]).status = OfferStatus.PENDING
        db.session.commit()
    client.sign_in(participant)
    assert book(client, activity).status_code == 404
    assert _bookings(app) == []


def test_booking_twice_or_double_submitting_changes_nothing(app, client, participant, activity) -> None:
    client.sign_in(participant)
    assert book(client, activity).status_code == 303
    again = book(client, activity)
    assert again.status_code == 409
    assert "You already have a place." in again.get_data(as_text=True)
    assert len(_bookings(app)) == 1
    assert _unit(app, OfferSession, activity["session_id"]).confirmed_count == 1


def test_a_tampered_form_books_only_the_person_signed_in(app, client, participant, other_participant, activity) -> None:
    client.sign_in(participant)
    assert book(client, activity, user_id=str(other_participant.id), user=str(other_participant.id)).status_code == 303
    assert [b.user_id for b in _bookings(app)] == [participant.id]


@pytest.mark.parametrize("url", ["/sessions/999999/book", "/offers/999999/book", "/sessions/abc/book"])
def test_booking_something_that_does_not_exist(client, participant, url) -> None:
    client.sign_in(participant)
    assert client.post(url, data={}).status_code == 404


def test_a_course_is_not_booked_per_session_and_an_activity_not_as_a_whole(
    app, client, participant, activity, course
) -> None:
    client.sign_in(participant)
    with app.app_context():
        course_session = db.session.scalar(
            sa.select(OfferSession.id).where(OfferSession.offer_id == course["offer_id"])
        )
    assert client.post(f"/sessions/{course_session}/book", data={}).status_code == 404
    assert client.post(f"/offers/{activity['offer_id']}/book", data={}).status_code == 404
    assert _bookings(app) == []


def test_booking_needs_a_signed_in_person_and_a_csrf_token(app, client, participant, activity) -> None:
    response = book(client, activity)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    client.sign_in(participant)
    assert client.post(f"/sessions/{activity['session_id']}/book", data={}, csrf=False).status_code == 400
    assert _bookings(app) == []


def test_cancelling_gives_the_place_to_the_next_in_line(app, client, make_user, activity, smtp) -> None:
    people = [make_user(locale="ti" if i == 2 else "en") for i in range(4)]
    for index, person in enumerate(people):
        client.sign_in(person)
        book(client, activity, waitlist=index >= 2)
    first = _bookings(app)[0]
    client.sign_in(people[0])
    page = client.get(f"/bookings/{first.reference}/cancel", headers={"Accept-Language": "en"})
    assert "Your place goes to the next person on the waiting list." in page.get_data(as_text=True)
    assert client.post(f"/bookings/{first.reference}/cancel").status_code == 303
    rows = _bookings(app)
    assert [b.status for b in rows] == [
        BookingStatus.CANCELLED,
        BookingStatus.CONFIRMED,
        BookingStatus.CONFIRMED,
        BookingStatus.WAITLISTED,
    ]
    assert rows[3].waitlist_position == 2  # order is kept; place 1 on the list now
    session = _unit(app, OfferSession, activity["session_id"])
    assert (session.confirmed_count, session.waitlist_count) == (2, 1)
    [promoted] = queued(app, NotificationKind.BOOKING_PROMOTED)
    assert promoted.user_id == people[2].id
    with app.app_context():
        # the cancelled booking's reminders are cancelled, the promoted person's are planned
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Notification.booking_id == first.id,
                    Notification.kind == NotificationKind.REMINDER,
                    Notification.status == NotificationStatus.PENDING,
                )
            )
            == 0
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Notification.booking_id == rows[2].id, Notification.kind == NotificationKind.REMINDER
                )
            )
            > 0
        )
    smtp.reset()
    deliver(app)
    [message] = [
        m for m in smtp.to(people[2].email) if "text/calendar" in [p.get_content_type() for p in m.iter_attachments()]
    ]
    assert message["Content-Language"] == "ti"


def test_leaving_the_waiting_list_is_one_tap(app, client, make_user, activity) -> None:
    people = [make_user() for _ in range(4)]
    for index, person in enumerate(people):
        client.sign_in(person)
        book(client, activity, waitlist=index >= 2)
    waiting = _bookings(app)[2]
    client.sign_in(people[2])
    assert client.post(f"/bookings/{waiting.reference}/cancel").status_code == 303
    rows = _bookings(app)
    assert rows[2].status == BookingStatus.CANCELLED
    assert rows[0].status == rows[1].status == BookingStatus.CONFIRMED
    client.sign_in(people[3])
    assert "On the waiting list, number 1" in client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert _unit(app, OfferSession, activity["session_id"]).waitlist_count == 1


@pytest.mark.postgres
def test_a_tap_to_leave_the_waiting_list_does_not_give_up_a_place_that_came_free_meanwhile(
    app, client, make_user, activity
) -> None:
    """Seen from outside in a rush: promoted, then 116 ms later "leave the waiting list" arrives.
    The tap was meant for the waiting list: the place stays, and the page asks again."""
    people = [make_user() for _ in range(3)]
    for index, person in enumerate(people):
        client.sign_in(person)
        book(client, activity, waitlist=index >= 2)
    first, _second, waiting = _bookings(app)
    client.sign_in(people[2])
    my_page = client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="seen" value="waitlisted"' in my_page  # the one tap says what the person saw
    # meanwhile the first person cancels: the waiting person is promoted
    client.sign_in(people[0])
    assert client.post(f"/bookings/{first.reference}/cancel", data={"seen": "confirmed"}).status_code == 303
    assert _bookings(app)[2].status == BookingStatus.CONFIRMED
    # the tap arrives: nothing is cancelled, the page says the place is theirs and asks
    client.sign_in(people[2])
    tap = client.post(
        f"/bookings/{waiting.reference}/cancel", data={"seen": "waitlisted"}, headers={"Accept-Language": "en"}
    )
    assert tap.status_code == 409
    assert "a place came free and it is yours now" in tap.get_data(as_text=True)
    assert 'name="seen" value="confirmed"' in tap.get_data(as_text=True)
    assert _bookings(app)[2].status == BookingStatus.CONFIRMED
    # saying yes on that page, knowing it is a place now, cancels it
    assert client.post(f"/bookings/{waiting.reference}/cancel", data={"seen": "confirmed"}).status_code == 303
    assert _bookings(app)[2].status == BookingStatus.CANCELLED


@pytest.mark.parametrize("seen", ["cancelled", "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000, "وَ"])
def test_a_forged_seen_state_cancels_nothing(app, client, participant, activity, seen) -> None:
    client.sign_in(participant)
    book(client, activity)
    [booking] = _bookings(app)
    answer = client.post(f"/bookings/{booking.reference}/cancel", data={"seen": seen})
    assert answer.status_code < 500 and "<script>alert(1)</script>" not in answer.get_data(as_text=True)
    assert _bookings(app)[0].status == BookingStatus.CONFIRMED


def test_booking_again_after_cancelling_reuses_the_booking(app, client, participant, activity) -> None:
    client.sign_in(participant)
    book(client, activity)
    reference = _bookings(app)[0].reference
    client.post(f"/bookings/{reference}/cancel")
    assert book(client, activity).status_code == 303
    [booking] = _bookings(app)
    assert booking.status == BookingStatus.CONFIRMED and booking.reference == reference
    # the reminders come back, still one per session and offset
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.reminder_offset, Notification.status).where(
                Notification.kind == NotificationKind.REMINDER
            )
        ).all()
    assert rows, "the reminders are back"
    assert sorted(rows) == sorted({(offset, NotificationStatus.PENDING) for offset, _ in rows})


def test_nobody_cancels_someone_elses_booking(app, client, participant, other_participant, volunteer, activity) -> None:
    client.sign_in(participant)
    book(client, activity)
    reference = _bookings(app)[0].reference
    for person in (other_participant, volunteer):
        client.sign_in(person)
        assert client.post(f"/bookings/{reference}/cancel").status_code == 404
        assert client.get(f"/bookings/{reference}/card").status_code == 404
    assert _bookings(app)[0].status == BookingStatus.CONFIRMED


def test_no_cancelling_after_the_start(app, client, participant, activity) -> None:
    client.sign_in(participant)
    book(client, activity)
    with app.app_context():
        session = db.session.get(OfferSession, activity["session_id"])
        session.starts_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    reference = _bookings(app)[0].reference
    response = client.post(f"/bookings/{reference}/cancel", follow_redirects=True, headers={"Accept-Language": "en"})
    assert "can no longer be cancelled" in response.get_data(as_text=True)
    assert _bookings(app)[0].status == BookingStatus.CONFIRMED


def test_cancelling_from_the_email_link(app, client, participant, activity) -> None:
    from einstein.bookings.links import cancel_token

    client.sign_in(participant)
    book(client, activity)
    with app.app_context():
        token = cancel_token(db.session.scalar(sa.select(Booking)))
    stranger = app.test_client()
    assert stranger.get(f"/cancel/{token}").status_code == 200
    assert _bookings(app)[0].status == BookingStatus.CONFIRMED  # a mail scanner opening the link cancels nothing
    assert stranger.post(f"/cancel/{token}").status_code == 200
    assert _bookings(app)[0].status == BookingStatus.CANCELLED
    # again: the booking has changed since, so the link has done its work; it says so
    again = stranger.post(f"/cancel/{token}", headers={"Accept-Language": "en"})
    assert again.status_code == 400 and "The booking has changed" in again.get_data(as_text=True)
    assert stranger.get(f"/cancel/{token[:-3]}abc").status_code == 400
    assert stranger.get("/cancel/x").status_code == 400


def test_the_personal_calendar_feed(app, client, participant, activity, course) -> None:
    from icalendar import Calendar

    client.sign_in(participant)
    book(client, activity)
    book(client, course)
    with app.app_context():
        token = db.session.get(User, participant.id).calendar_token
    feed = app.test_client().get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert len(Calendar.from_ical(feed.data).walk("VEVENT")) == 4  # one session plus three of the course
    assert client.post("/my/calendar/reset").status_code == 303
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
    with app.app_context():
        new = db.session.get(User, participant.id).calendar_token
    assert new != token and app.test_client().get(f"/calendar/{new}.ics").status_code == 200
    assert app.test_client().get("/calendar/short.ics").status_code == 404


def test_my_bookings_makes_a_fixed_number_of_queries(app, client, participant, make_user) -> None:
    from einstein.bookings import services as bookings
    from tests import factories
    from tests.support.queries import count_queries

    client.sign_in(participant)
    counts = []
    for extra in (2, 20):
        with app.app_context():
            me = db.session.get(User, participant.id)
            for _ in range(extra):
                session = factories.SessionFactory()
                bookings.book(me, bookings.Target(session.offer, session))
            db.session.commit()
        with count_queries(app) as statements:
            assert client.get("/my/bookings").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_booking_e_mail_arrives_in_the_persons_language_with_a_calendar_file(
    app, client, make_user, activity, smtp
) -> None:
    person = make_user(locale="ar")
    client.sign_in(person)
    book(client, activity)
    deliver(app)
    [message] = smtp.to(person.email)
    assert message["Content-Language"] == "ar"
    assert [p.get_content_type() for p in message.iter_attachments()] == ["text/calendar"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'dir="rtl"' in html


def test_no_booking_e_mail_to_an_unconfirmed_address_or_when_switched_off(
    app, client, make_user, activity, smtp
) -> None:
    unconfirmed = make_user(email_verified_at=None)
    switched_off = make_user(email_notifications=False)
    for person in (unconfirmed, switched_off):
        client.sign_in(person)
        book(client, activity)
    report = deliver(app)
    assert report.sent == [] and len(report.skipped) == 2
    assert smtp.messages == []


@pytest.mark.postgres
def test_a_booking_makes_a_fixed_small_number_of_queries(app, client, participant, activity) -> None:
    """The rush path: sign-in, the lock with the session and the check, the insert, and one
    statement for the e-mail and all the reminders."""
    from tests.support.queries import count_queries

    client.sign_in(participant)
    with count_queries(app) as statements:
        assert book(client, activity).status_code == 303
    # load the sign-in; lock the session, with its offer and any earlier booking, in one;
    # UPDATE the counter; INSERT the booking; INSERT the confirmation and the reminders together;
    # INSERT the note that the dashboard's figures of this session changed (einstein.attendance.summary)
    assert len(statements) == 6, "\n".join(statements)
    assert sum("INTO dashboard_changes" in s for s in statements) == 1, "\n".join(statements)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]
    assert len(inserts) == 1, "\n".join(statements)
    assert not any("FROM notifications" in s for s in statements), "a new booking has no reminders to look up"


@pytest.mark.postgres
def test_my_bookings_shows_the_latest_past_bookings_and_all_on_request(app, client, participant, course) -> None:
    """A long history: the coming bookings, the latest 20 of the rest, and a link to all of them."""
    from einstein.bookings.queries import PAST_SHOWN
    from tests import factories
    from tests.support.queries import count_queries

    client.sign_in(participant)
    assert book(client, course).status_code == 303  # coming: the course's sessions are ahead
    with app.app_context():
        start = utcnow() - timedelta(days=400)
        rows = []
        for week in range(PAST_SHOWN + 5):  # a weekly activity over half a year, all over now
            session = factories.SessionFactory(starts_at=start + timedelta(days=7 * week), offer__title=f"Week {week}")
            rows.append(
                Booking(
                    reference=f"PAST-{week:04d}",
                    user_id=participant.id,
                    offer_id=session.offer_id,
                    session_id=session.id,
                    status=BookingStatus.CANCELLED if week % 5 == 0 else BookingStatus.CONFIRMED,
                    created_at=start + timedelta(days=7 * week - 1),
                    updated_at=start,
                )
            )
        db.session.add_all(rows)
        db.session.commit()
    with count_queries(app) as few:
        page = client.get("/my/bookings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    past = page.split("Past and cancelled")[1]
    assert f"({PAST_SHOWN + 5})" in past[:20]
    shown = [f"PAST-{week:04d}" for week in range(PAST_SHOWN + 5) if f"PAST-{week:04d}" in past]
    assert shown == [f"PAST-{week:04d}" for week in range(5, PAST_SHOWN + 5)]  # the latest 20
    assert f"Show all {PAST_SHOWN + 5} past and cancelled bookings" in past
    assert "Business English" in page.split("Past and cancelled")[0] and "Business English" not in past
    everything = client.get("/my/bookings?past=all", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(f"PAST-{week:04d}" in everything for week in range(PAST_SHOWN + 5))
    assert "Show all" not in everything and 'id="past" open' in everything
    # hostile or odd values of "past" are just the usual page
    for odd in ("ALL", "<script>", "%00", "1" * 500):
        response = client.get(f"/my/bookings?past={odd}")
        assert response.status_code == 200 and "Show all" in response.get_data(as_text=True)
    with count_queries(app) as many:
        client.get("/my/bookings?past=all")
    assert len(few) <= len(many) + 1 and len(many) <= 12, [len(few), len(many)]


def test_the_cancel_page_promises_no_waiting_list_that_is_not_there(app, client, participant, activity) -> None:
    client.sign_in(participant)
    book(client, activity)
    [booking] = _bookings(app)
    page = client.get(f"/bookings/{booking.reference}/cancel", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "waiting list" not in page
    assert "Your place becomes free for someone else." in page
