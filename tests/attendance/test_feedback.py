"""Feedback in one tap: "How was it?" after a session, and organisers who see only aggregates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from einstein.attendance import feedback
from einstein.attendance.feedback import Face, Feedback
from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.attendance.reports import Period, month_start
from einstein.bookings import services as bookings
from einstein.courses.models import Category, OfferKind, SessionStatus
from einstein.db import db
from einstein.models import Booking, OfferSession, Role, User
from einstein.privacy import services as privacy
from tests import factories
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT

EN = {"Accept-Language": "en"}
FEWER = "Fewer than 5 answers so far"


def _book_and_hold(app, people, *, organiser=None, days=-2, course=False, sessions=1) -> dict:
    """An offer of ``organiser`` with ``people`` booked, whose sessions took place ``days`` ago
    (booked while it was still to come, then moved into the past, as time would have done)."""
    with app.app_context():
        extra = {"offer__organiser": db.session.get(User, organiser.id)} if organiser else {}
        if course:
            offer = factories.OfferFactory(kind=OfferKind.COURSE, organiser=db.session.get(User, organiser.id))
            held = [factories.SessionFactory(offer=offer, starts_at=days_ahead(3 + i)) for i in range(sessions)]
            target = bookings.Target(offer, None)
        else:
            held = [factories.SessionFactory(starts_at=days_ahead(3), **extra)]
            offer = held[0].offer
            target = bookings.Target(offer, held[0])
        booked = [bookings.book(db.session.get(User, person.id), target) for person in people]
        for i, session in enumerate(held):
            session.starts_at = days_ahead(days - i)
            session.ends_at = session.starts_at + timedelta(hours=2)
        for booking in booked:  # booked a week before, as people do
            booking.created_at = booking.confirmed_at = days_ahead(days - len(held) - 7)
        db.session.commit()
        return {"offer_id": offer.id, "session_ids": [s.id for s in held]}


def _token(app, person, session_id) -> str:
    with app.app_context(), app.test_request_context():
        return feedback.feedback_token(db.session.get(User, person.id), db.session.get(OfferSession, session_id))


def _answers(app, session_id) -> list[tuple[int | None, Face, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Feedback.user_id, Feedback.face, Feedback.sentence).where(Feedback.session_id == session_id)
        )
        return [tuple(row) for row in rows]


def _people(make_user, n: int, prefix: str = "Person") -> list:
    return [make_user(name=f"{prefix} {chr(65 + i)}") for i in range(n)]


@pytest.fixture
def held(app, participant, volunteer) -> dict:
    """An activity of "volunteer" that took place two days ago; "participant" had a place."""
    return _book_and_hold(app, [participant], organiser=volunteer)


# --- answering --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_participant_answers_from_my_bookings_with_one_tap(app, client, participant, held) -> None:
    session_id = held["session_ids"][0]
    client.sign_in(participant)
    page = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert "How was it?" in page
    action = re.search(r'<form method="post" action="(/feedback/[^"]+)" class="face-buttons"', page)
    assert action, "the question on my bookings is a plain form"
    assert all(f'name="face" value="{face.value}"' in page for face in Face)
    assert ">Good<" in page and ">Okay<" in page and ">Not good<" in page

    response = client.post(action.group(1), data={"face": "good"})
    assert response.status_code == 303
    assert _answers(app, session_id) == [(participant.id, Face.GOOD, None)]

    # then, if they like, a sentence
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Thank you! You said: Good." in page and 'id="sentence"' in page
    client.post(action.group(1), data={"face": "good", "sentence": "  Lovely  people,\nthank you!  "})
    assert _answers(app, session_id) == [(participant.id, Face.GOOD, "Lovely  people,\nthank you!")]

    # answering again changes the answer (one per person and session); the sentence stays
    client.post(action.group(1), data={"face": "not_good"})
    assert _answers(app, session_id) == [(participant.id, Face.NOT_GOOD, "Lovely  people,\nthank you!")]
    page = client.get("/my/bookings", headers=EN).get_data(as_text=True)
    assert 'value="not_good" class="face-button face-not_good" aria-pressed="true"' in page


def test_the_sessions_to_answer_are_read_together_with_their_titles_translated(app, participant) -> None:
    """Asked on its own (no offer loaded before it, as "my bookings" does): three sessions the
    person was at, one they were marked absent from; the titles in Arabic come in one statement."""
    from einstein.courses.models import OfferTranslation
    from tests.support.queries import count_queries

    there = [_book_and_hold(app, [participant], days=-2 - 3 * n)["session_ids"][0] for n in range(3)]
    missed = _book_and_hold(app, [participant], days=-1)["session_ids"][0]
    with app.app_context():
        for session_id in there:
            db.session.add(
                OfferTranslation(
                    offer_id=db.session.get(OfferSession, session_id).offer_id, locale="ar", title=f"عربي {session_id}"
                )
            )
        booking = db.session.scalar(sa.select(Booking).where(Booking.session_id == missed))
        db.session.add(Attendance(session_id=missed, booking_id=booking.id, status=AttendanceStatus.ABSENT))
        db.session.commit()
    with app.app_context():
        person = db.session.get(User, participant.id)
        with count_queries(app) as statements:
            found = feedback.to_answer(person)
            titles = [session.offer.text_for("ar").title for session, _given in found]
    assert [session.id for session, _given in found] == there  # newest first, not the one missed
    assert titles == [f"عربي {session_id}" for session_id in there]
    # the sessions (with their offers, who was there and the answers), the translations
    assert len(statements) == 2, "\n".join(statements)


def test_someone_without_a_password_answers_from_the_link_in_a_message(app, client, make_user) -> None:
    desk_person = make_user(role=Role.PARTICIPANT, password_hash=None, email=None, phone="+31612345678", locale="ar")
    held = _book_and_hold(app, [desk_person])
    token = _token(app, desk_person, held["session_ids"][0])
    page = client.get(f"/feedback/{token}?lang=ar")
    assert page.status_code == 200
    assert 'lang="ar"' in page.get_data(as_text=True) and 'dir="rtl"' in page.get_data(as_text=True)
    assert client.post(f"/feedback/{token}", data={"face": "okay"}).status_code == 303
    assert _answers(app, held["session_ids"][0]) == [(desk_person.id, Face.OKAY, None)]


def test_not_before_the_session_is_over(app, client, participant) -> None:
    # booked on a session in three days: no question, and the link refuses
    held = _book_and_hold(app, [participant], days=3)
    client.sign_in(participant)
    assert "How was it?" not in client.get("/my/bookings", headers=EN).get_data(as_text=True)
    token = _token(app, participant, held["session_ids"][0])
    response = client.post(f"/feedback/{token}", data={"face": "good"}, headers=EN)
    assert response.status_code == 409
    assert "once the session is over" in response.get_data(as_text=True)
    assert _answers(app, held["session_ids"][0]) == []


def test_not_for_a_session_one_had_no_place_in(app, client, other_participant, held) -> None:
    token = _token(app, other_participant, held["session_ids"][0])
    client.sign_in(other_participant)
    assert "How was it?" not in client.get("/my/bookings", headers=EN).get_data(as_text=True)
    response = client.post(f"/feedback/{token}", data={"face": "good"}, headers=EN)
    assert response.status_code == 409
    assert "You had no place in this session." in response.get_data(as_text=True)
    assert _answers(app, held["session_ids"][0]) == []


@pytest.mark.parametrize("mark", [AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED])
def test_not_after_being_marked_absent(app, client, participant, held, mark) -> None:
    session_id = held["session_ids"][0]
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.user_id == participant.id))
        db.session.add(Attendance(session_id=session_id, booking_id=booking.id, status=mark))
        db.session.commit()
    client.sign_in(participant)
    assert "How was it?" not in client.get("/my/bookings", headers=EN).get_data(as_text=True)
    response = client.post(f"/feedback/{_token(app, participant, session_id)}", data={"face": "good"}, headers=EN)
    assert response.status_code == 409
    assert "You were not at this session" in response.get_data(as_text=True)
    assert _answers(app, session_id) == []


def test_not_about_a_cancelled_session(app, client, participant, held) -> None:
    session_id = held["session_ids"][0]
    with app.app_context():
        db.session.get(OfferSession, session_id).status = SessionStatus.CANCELLED
        db.session.commit()
    response = client.post(f"/feedback/{_token(app, participant, session_id)}", data={"face": "good"})
    assert response.status_code == 409
    assert _answers(app, session_id) == []


@pytest.mark.parametrize("token", ["nonsense", "W1sxLDJdXQ", "x" * 300, "WzEsIDJd.forged"])
def test_a_forged_link_answers_nothing(app, client, participant, held, token) -> None:
    response = client.post(f"/feedback/{token}", data={"face": "good"})
    assert response.status_code == 404
    assert _answers(app, held["session_ids"][0]) == []


@pytest.mark.parametrize("face", ["", "great", "GOOD", "<script>", "good\u200b", "1"])
def test_a_bad_tap_changes_nothing(app, client, participant, held, face) -> None:
    token = _token(app, participant, held["session_ids"][0])
    response = client.post(f"/feedback/{token}", data={"face": face}, headers=EN)
    assert response.status_code == 422
    assert "Please check the form" in response.get_data(as_text=True)
    assert _answers(app, held["session_ids"][0]) == []


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXT))
def test_a_hostile_sentence_is_kept_as_text_and_shown_escaped(
    app, client, participant, volunteer, make_user, name
) -> None:
    others = _people(make_user, 4)
    held = _book_and_hold(app, [participant, *others], organiser=volunteer)
    session_id = held["session_ids"][0]
    for person in others:
        client.post(f"/feedback/{_token(app, person, session_id)}", data={"face": "okay"})
    token = _token(app, participant, session_id)
    response = client.post(f"/feedback/{token}", data={"face": "good", "sentence": HOSTILE_TEXT[name]})
    assert response.status_code == 303
    client.sign_in(volunteer)
    page = client.get(f"/offers/{held['offer_id']}/feedback", headers=EN).get_data(as_text=True)
    assert str(escape(HOSTILE_TEXT[name])) in page
    assert "<script>alert" not in page and "<img src=x" not in page


@pytest.mark.parametrize(
    "sentence",
    [*HOSTILE_IN_TEXT.values(), "A" * 501],
    ids=[*HOSTILE_IN_TEXT, "too-long"],
)
def test_a_bad_sentence_is_refused_in_the_readers_language(app, client, participant, held, sentence) -> None:
    session_id = held["session_ids"][0]
    token = _token(app, participant, session_id)
    client.post(f"/feedback/{token}", data={"face": "good"})
    response = client.post(f"/feedback/{token}", data={"face": "okay", "sentence": sentence}, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please check the form" in page
    assert _answers(app, session_id) == [(participant.id, Face.GOOD, None)]  # nothing changed


def test_a_sentence_of_500_characters_is_fine(app, client, participant, held) -> None:
    token = _token(app, participant, held["session_ids"][0])
    assert client.post(f"/feedback/{token}", data={"face": "good", "sentence": "ب" * 500}).status_code == 303
    assert _answers(app, held["session_ids"][0])[0][2] == "ب" * 500


# --- what organisers see -----------------------------------------------------------------------------


def test_the_organiser_sees_nothing_below_five_answers_and_the_counts_from_five(
    app, client, volunteer, make_user
) -> None:
    people = _people(make_user, 5, "Secret")
    held = _book_and_hold(app, people, organiser=volunteer)
    session_id = held["session_ids"][0]
    faces = ["good", "good", "okay", "not_good", "good"]
    client.sign_in(volunteer)
    url = f"/offers/{held['offer_id']}/feedback"
    for person, face in zip(people[:4], faces, strict=False):
        app.test_client().post(  # each person on their own phone
            f"/feedback/{_token(app, person, session_id)}", data={"face": face, "sentence": f"said {face}"}
        )
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert FEWER in page
    assert "said good" not in page and "said okay" not in page and "Secret" not in page
    assert "feedback-table" not in page

    app.test_client().post(f"/feedback/{_token(app, people[4], session_id)}", data={"face": faces[4]})
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert FEWER not in page
    assert "5 answers" in page
    counts = re.findall(r'<td class="num">(\d+)</td>', page)
    assert counts == ["3", "1", "1"]  # good, okay, not good
    assert "said good" in page and "said not_good" in page
    assert "Secret" not in page  # never a name


@pytest.mark.postgres
def test_a_session_with_one_answer_cannot_be_told_apart_from_the_course(app, client, volunteer, make_user) -> None:
    # a course of two sessions: five answered about the first, one about the second
    people = _people(make_user, 5)
    held = _book_and_hold(app, people, organiser=volunteer, course=True, sessions=2)
    first, second = held["session_ids"]
    for person in people:
        client.post(f"/feedback/{_token(app, person, first)}", data={"face": "good"})
    client.post(f"/feedback/{_token(app, people[0], second)}", data={"face": "not_good"})
    with app.app_context():
        result = feedback.of_offer(db.session.get(OfferSession, first).offer)
        assert result.total.answers == 6 and result.total.counts[Face.NOT_GOOD] == 1
        assert result.sessions is None  # not per session: the second's answer would be 6 - 5
    client.sign_in(volunteer)
    page = client.get(f"/offers/{held['offer_id']}/feedback", headers=EN).get_data(as_text=True)
    assert "6 answers" in page and "Shown once every session with answers has at least 5" in page

    # once the second session too has five answers, both are shown
    for person in people[1:]:
        client.post(f"/feedback/{_token(app, person, second)}", data={"face": "okay"})
    with app.app_context():
        result = feedback.of_offer(db.session.get(OfferSession, first).offer)
        assert [(s.id, summary.counts) for s, summary in result.sessions] == [  # oldest first
            (second, {Face.GOOD: 0, Face.OKAY: 4, Face.NOT_GOOD: 1}),
            (first, {Face.GOOD: 5, Face.OKAY: 0, Face.NOT_GOOD: 0}),
        ]


@pytest.mark.parametrize("who", ["other_volunteer", "participant"])
def test_the_wrong_person_sees_no_answers(app, client, request, volunteer, held, who) -> None:
    client.sign_in(request.getfixturevalue(who))
    assert client.get(f"/offers/{held['offer_id']}/feedback").status_code == 403


def test_a_coordinator_sees_any_offers_answers(app, client, coordinator, held) -> None:
    client.sign_in(coordinator)
    page = client.get(f"/offers/{held['offer_id']}/feedback", headers=EN)
    assert page.status_code == 200 and FEWER in page.get_data(as_text=True)


def test_the_offer_page_links_its_organiser_to_the_answers(app, client, volunteer, held) -> None:
    client.sign_in(volunteer)
    page = client.get(f"/offers/{held['offer_id']}", headers=EN).get_data(as_text=True)
    assert f"/offers/{held['offer_id']}/feedback" in page


@pytest.mark.postgres
def test_the_dashboard_shows_satisfaction_per_category_and_month_from_five_answers(
    app, client, coordinator, volunteer, make_user
) -> None:
    people = _people(make_user, 6)
    enough = _book_and_hold(app, people, organiser=volunteer)
    few = _book_and_hold(app, people[:2], organiser=volunteer)
    with app.app_context():
        offer = db.session.get(OfferSession, few["session_ids"][0]).offer
        offer.category = Category.WORK
        db.session.commit()
    for i, person in enumerate(people):
        client.post(
            f"/feedback/{_token(app, person, enough['session_ids'][0])}", data={"face": "good" if i else "okay"}
        )
    for person in people[:2]:
        client.post(f"/feedback/{_token(app, person, few['session_ids'][0])}", data={"face": "not_good"})
    with app.app_context(), app.test_request_context():
        start = days_ahead(-2).date()
        result = feedback.satisfaction(Period(start - timedelta(days=40), start + timedelta(days=1)))
        # the month the sessions took place in: on the 2nd of a month the period reaches into it
        month = month_start(start)
        assert month in result.months
        social = result.cell(month, result.categories[-1])
        work = result.cell(month, result.categories[0])
        assert [c.value for c in result.categories] == ["work", "social"]
        assert work.shown is None and work.share(Face.GOOD) is None  # two answers: nothing
        assert social.answers == 6 and social.shown == {Face.GOOD: 5, Face.OKAY: 0, Face.NOT_GOOD: 0}
        assert social.share(Face.GOOD) == 100  # of the rounded counts, like the mix
    client.sign_in(coordinator)
    page = client.get("/dashboard", headers=EN).get_data(as_text=True)
    assert "satisfaction-chart" in page and "Fewer than 5 answers" in page


# --- privacy -------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_deleted_accounts_answer_stays_a_count_and_the_export_holds_ones_own(app, client, participant, held) -> None:
    session_id = held["session_ids"][0]
    token = _token(app, participant, session_id)
    client.post(f"/feedback/{token}", data={"face": "good", "sentence": "My name is Amal"})
    with app.app_context():
        person = db.session.get(User, participant.id)
        exported = privacy.export_data(person)["feedback"]
        assert [(a["answer"], a["sentence"]) for a in exported] == [("good", "My name is Amal")]
        privacy.delete_account(person)
        db.session.commit()
    assert _answers(app, session_id) == [(None, Face.GOOD, None)]
    # the link of a deleted account answers nothing
    assert client.post(f"/feedback/{token}", data={"face": "okay"}).status_code == 404
