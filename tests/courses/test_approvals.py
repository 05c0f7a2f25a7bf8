"""Approvals are no longer silent: the coordinators' menu counts what waits, a "no" needs a reason,
and the volunteer is told either way, by e-mail or by text, and sees the reason on "my offers"."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from einstein.courses import revisions
from einstein.courses.messages import CourseMessage
from einstein.db import db, utcnow
from einstein.i18n import LANGUAGES
from einstein.models import Notification, Offer, OfferRevision, OfferStatus, Role, User
from einstein.notifications import registry
from einstein.notifications.segments import cost
from tests import factories
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT
from tests.support.outbox import deliver, queued

EN = {"Accept-Language": "en"}
REASON = "Please add where people meet: the building has two entrances."
QUIET_HOURS_OFF = {"SMS_QUIET_FROM": 24, "SMS_QUIET_UNTIL": 0}


@pytest.fixture
def app_config(tmp_path) -> dict[str, Any]:
    return {**QUIET_HOURS_OFF, "SMS_FILE_DIR": str(tmp_path / "sms")}


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _submit_activity(client, volunteer, offer_form, **change) -> int:
    """The volunteer puts an activity online; it waits for a coordinator."""
    client.sign_in(volunteer)
    response = client.post("/offers/new/activity", data=offer_form(**change), headers=EN)
    assert response.status_code == 302, _text(response)
    assert "waiting for a coordinator" in _text(client.get(response.headers["Location"], headers=EN))
    with client.application.app_context():
        offer = db.session.scalar(sa.select(Offer).order_by(Offer.id.desc()))
        assert offer.status == OfferStatus.PENDING
        return offer.id


def _badge(page: str) -> str | None:
    """The number on the menu's badge, if there is one."""
    if 'class="count-badge"' not in page:
        return None
    return page.split('class="count-badge">', 1)[1].split("<", 1)[0]


def _mail_to(smtp, address: str) -> list[Any]:
    return [message for message in smtp.messages if message["To"] == address]


def _plain(message: Any) -> str:
    return message.get_body(("plain",)).get_content()


# --- the count on the menu ------------------------------------------------------------------------


def test_a_submitted_activity_shows_as_one_on_the_coordinators_menu(
    app, client, other_client, volunteer, coordinator, offer_form
) -> None:
    other_client.sign_in(coordinator)
    assert _badge(_text(other_client.get("/", headers=EN))) is None  # nothing waits yet
    _submit_activity(client, volunteer, offer_form)
    page = _text(other_client.get("/", headers=EN))
    assert _badge(page) == "1"
    # it sits on the "Approvals" item, and says what it counts to a screen reader
    item = page.split('href="/review"', 1)[1].split("</a>", 1)[0]
    assert 'class="count-badge">1<span class="visually-hidden"> waiting</span>' in item
    # the volunteer who submitted it sees no badge, and no menu item for approvals
    own = _text(client.get("/my/offers", headers=EN))
    assert _badge(own) is None and 'href="/review"' not in own


def test_the_count_covers_changes_and_goes_down_when_decided(
    app, client, other_client, volunteer, coordinator, offer_form
) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    with app.app_context():  # and a change to another, public activity of theirs
        public = factories.SessionFactory(offer__organiser=db.session.get(User, volunteer.id)).offer
        db.session.add(OfferRevision(offer=public, author_id=volunteer.id, changes={"title": "Samen fietsen"}))
        db.session.commit()
        revision_id = db.session.scalar(sa.select(OfferRevision.id))
    other_client.sign_in(coordinator)
    assert _badge(_text(other_client.get("/review", headers=EN))) == "2"
    other_client.post(f"/offers/{offer_id}/approve")
    assert _badge(_text(other_client.get("/review", headers=EN))) == "1"
    other_client.post(f"/revisions/{revision_id}/reject", data={"reason": REASON})
    assert _badge(_text(other_client.get("/review", headers=EN))) is None


def test_the_count_is_one_query_kept_briefly_and_never_asked_for_others(
    app, client, other_client, monkeypatch, participant, volunteer, coordinator, offer_form
) -> None:
    _submit_activity(client, volunteer, offer_form)
    counted = []
    real = revisions._count_waiting
    monkeypatch.setattr(revisions, "_count_waiting", lambda: counted.append(1) or real())
    for person in (participant, volunteer):
        other_client.sign_in(person)
        for url in ("/", "/my/bookings", "/account"):
            assert _badge(_text(other_client.get(url, headers=EN))) is None
    assert counted == []  # not even asked of the database for them
    other_client.sign_in(coordinator)
    for url in ("/", "/review", "/my/offers"):
        assert _badge(_text(other_client.get(url, headers=EN))) == "1"
    assert counted == [1]  # one COUNT, then kept


def test_the_count_is_a_single_count_query(app, volunteer) -> None:
    with app.app_context():
        factories.OfferFactory(status=OfferStatus.PENDING)
        factories.OfferFactory(status=OfferStatus.PENDING)
        public = factories.OfferFactory()
        db.session.add(OfferRevision(offer=public, author_id=volunteer.id, changes={"title": "x"}))
        db.session.commit()
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert revisions._count_waiting() == 3
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1 and selects[0].lower().count("count(") == 2


# --- a "no" needs a reason ---------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "    ", "\n\n"])
def test_rejecting_without_a_reason_is_refused_with_a_message(
    app, client, volunteer, coordinator, offer_form, reason
) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/reject", data={"reason": reason}, headers=EN)
    assert response.status_code == 422
    page = _text(response)
    assert "Please tell the volunteer why" in page
    # the message sits at the card it is about, and the summary links to its field
    assert f'href="#reason-offer-{offer_id}"' in page
    card = page.split(f'id="offer-{offer_id}-no"', 1)[1].split("</form>", 1)[0]
    assert 'aria-invalid="true"' in card and "Please tell the volunteer why" in card
    with app.app_context():
        assert db.session.get(Offer, offer_id).status == OfferStatus.PENDING
    assert queued(app, CourseMessage.ACTIVITY_REJECTED) == []


@pytest.mark.parametrize("name", sorted(HOSTILE_IN_TEXT))
def test_a_reason_with_hidden_characters_is_refused(app, client, volunteer, coordinator, offer_form, name) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/reject", data={"reason": HOSTILE_IN_TEXT[name]}, headers=EN)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Offer, offer_id).status == OfferStatus.PENDING


def test_a_reason_too_long_is_refused(app, client, volunteer, coordinator, offer_form) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/reject", data={"reason": "x" * 1001}, headers=EN)
    assert response.status_code == 422 and "under 1000 characters" in _text(response)


def test_the_wrong_people_cannot_decide(app, client, volunteer, other_volunteer, participant, offer_form) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    for person in (volunteer, other_volunteer, participant):
        client.sign_in(person)
        assert client.post(f"/offers/{offer_id}/reject", data={"reason": REASON}).status_code == 403
        assert client.post(f"/offers/{offer_id}/approve").status_code == 403
    with app.app_context():
        assert db.session.get(Offer, offer_id).status == OfferStatus.PENDING
    assert queued(app) == []


# --- the volunteer is told -------------------------------------------------------------------------


def test_with_a_reason_the_volunteer_gets_an_email_with_it_and_sees_it_on_my_offers(
    app, client, volunteer, coordinator, offer_form, smtp
) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form, title="Samen koken")
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/reject", data={"reason": REASON}, headers=EN, follow_redirects=True)
    assert response.status_code == 200
    assert "is not published. The volunteer is told why by e-mail." in _text(response)
    deliver(app)
    [mail] = _mail_to(smtp, volunteer.email)
    assert mail["Subject"] == "Not published: Samen koken"
    body = _plain(mail)
    assert REASON in body and "http://einstein.test/my/offers" in body
    assert REASON in mail.get_body(("html",)).get_content()
    # and on "my offers", where they look
    client.sign_in(volunteer)
    mine = _text(client.get("/my/offers", headers=EN))
    assert "Not approved" in mine and "Why it was not published:" in mine and REASON in mine


def test_a_phone_only_volunteer_gets_the_reason_by_text(app, client, make_user, coordinator, offer_form, tmp_path):
    volunteer = make_user(
        role=Role.VOLUNTEER, email=None, email_verified_at=None, phone="+31612345678", phone_verified_at=utcnow()
    )
    offer_id = _submit_activity(client, volunteer, offer_form, title="Fietsles")
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/reject", data={"reason": REASON}, headers=EN, follow_redirects=True)
    assert "The volunteer is told why by text message." in _text(response)
    [row] = queued(app, CourseMessage.ACTIVITY_REJECTED)
    assert row.channel == "sms"
    deliver(app)
    [sent] = (tmp_path / "sms").glob("*.txt")
    content = sent.read_text("utf-8")
    assert "To: +31612345678" in content
    assert "Fietsles" in content and REASON in content and "einstein.test/my/offers" in content
    assert "Segments: 1" in content or "Segments: 2" in content


def test_approving_tells_the_volunteer_too(app, client, volunteer, coordinator, offer_form, smtp) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form, title="Samen koken")
    client.sign_in(coordinator)
    response = client.post(f"/offers/{offer_id}/approve", headers=EN, follow_redirects=True)
    assert "is published. The volunteer is told by e-mail." in _text(response)
    deliver(app)
    [mail] = _mail_to(smtp, volunteer.email)
    assert mail["Subject"] == "Published: Samen koken"
    assert f"http://einstein.test/offers/{offer_id}" in _plain(mail)
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer.status == OfferStatus.PUBLISHED and offer.rejection_reason == ""


def test_deciding_twice_tells_once(app, client, volunteer, coordinator, offer_form) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    client.post(f"/offers/{offer_id}/approve")
    again = client.post(f"/offers/{offer_id}/reject", data={"reason": REASON}, headers=EN, follow_redirects=True)
    assert "Only activities waiting for approval can be declined." in _text(again)
    assert len(queued(app)) == 1
    with app.app_context():
        assert db.session.get(Offer, offer_id).rejection_reason == ""


def test_a_message_about_a_decision_since_changed_is_not_sent(app, client, volunteer, coordinator, offer_form):
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    client.post(f"/offers/{offer_id}/approve")
    [row] = queued(app, CourseMessage.ACTIVITY_APPROVED)
    with app.app_context():
        db.session.get(Offer, offer_id).status = OfferStatus.REJECTED  # as if it changed before sending
        db.session.commit()
        assert registry.render(db.session.get(Notification, row.id)) is None


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXT))
def test_a_reason_is_shown_as_text_never_as_markup(app, client, volunteer, coordinator, offer_form, name) -> None:
    offer_id = _submit_activity(client, volunteer, offer_form)
    client.sign_in(coordinator)
    assert client.post(f"/offers/{offer_id}/reject", data={"reason": HOSTILE_TEXT[name]}).status_code == 303
    client.sign_in(volunteer)
    mine = _text(client.get("/my/offers"))
    assert str(escape(HOSTILE_TEXT[name])) in mine  # shown as the coordinator typed it, escaped
    assert "<script>alert" not in mine and "<img src=x" not in mine
    assert app.config["SECRET_KEY"] not in mine


# --- changes to a public activity ----------------------------------------------------------------------


def _held_change(app, client, volunteer, offer_form) -> tuple[int, int]:
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), offer__title="Samen koken", offer__language="nl"
        )
        offer_id, location_id = session.offer_id, session.location_id
    client.sign_in(volunteer)
    data = offer_form(
        title="Samen koken en eten", location_id=str(location_id), new_place_name="", new_place_address=""
    )
    assert client.post(f"/offers/{offer_id}/edit", data=data).status_code == 302
    with app.app_context():
        return offer_id, db.session.scalar(sa.select(OfferRevision.id).where(OfferRevision.offer_id == offer_id))


def test_rejected_changes_tell_the_volunteer_why(app, client, volunteer, coordinator, offer_form, smtp) -> None:
    offer_id, revision_id = _held_change(app, client, volunteer, offer_form)
    client.sign_in(volunteer)
    assert "Your changes wait for a coordinator" in _text(client.get("/my/offers", headers=EN))
    client.sign_in(coordinator)
    refused = client.post(f"/revisions/{revision_id}/reject", data={"reason": ""}, headers=EN)
    assert refused.status_code == 422 and "Please tell the volunteer why" in _text(refused)
    assert f'href="#reason-revision-{revision_id}"' in _text(refused)
    assert client.post(f"/revisions/{revision_id}/reject", data={"reason": REASON}).status_code == 303
    deliver(app)
    [mail] = _mail_to(smtp, volunteer.email)
    assert mail["Subject"] == "Changes not published: Samen koken"
    body = _plain(mail)
    assert REASON in body and f"http://einstein.test/offers/{offer_id}/edit" in body
    client.sign_in(volunteer)
    mine = _text(client.get("/my/offers", headers=EN))
    assert "were not published. Why:" in mine and REASON in mine


def test_approved_changes_tell_the_volunteer(app, client, volunteer, coordinator, offer_form, smtp) -> None:
    _offer_id, revision_id = _held_change(app, client, volunteer, offer_form)
    client.sign_in(coordinator)
    response = client.post(f"/revisions/{revision_id}/approve", headers=EN, follow_redirects=True)
    assert "are online. The volunteer is told by e-mail." in _text(response)
    deliver(app)
    [mail] = _mail_to(smtp, volunteer.email)
    assert mail["Subject"] == "Your changes are online: Samen koken en eten"
    client.sign_in(volunteer)
    mine = _text(client.get("/my/offers", headers=EN))
    assert "were not published" not in mine and "wait for a coordinator" not in mine


def test_a_trusted_volunteer_is_not_told_of_a_review_that_never_happened(
    app, client, trusted_volunteer, offer_form
) -> None:
    client.sign_in(trusted_volunteer)
    assert client.post("/offers/new/activity", data=offer_form()).status_code == 302
    assert queued(app) == []


# --- what the coordinator reads ---------------------------------------------------------------------


def test_the_review_list_says_what_the_activity_is(app, client, volunteer, coordinator, offer_form) -> None:
    description = "We cook a Syrian dish together and eat at one long table. Bring a container."
    offer_id = _submit_activity(client, volunteer, offer_form, description=description, contact="Samir, 06 1234")
    client.sign_in(coordinator)
    page = _text(client.get("/review", headers=EN))
    card = "".join(page.split(f'id="offer-{offer_id}"', 1)[1].split("</form>", 2)[:2])
    assert description in card
    assert "Social and sport" in card and "Samir Volunteer" in card and "Samir, 06 1234" in card
    assert "Arabic" in card  # the languages spoken
    assert "required" in card.split(f'id="reason-offer-{offer_id}"', 1)[1].split(">", 1)[0]


# --- texts fit ----------------------------------------------------------------------------------------


def test_a_long_reason_gives_way_in_a_text_but_the_link_never_does(app, make_user) -> None:
    volunteer = make_user(
        role=Role.VOLUNTEER, email=None, email_verified_at=None, phone="+31612345679", phone_verified_at=utcnow()
    )
    with app.app_context():
        offer = factories.OfferFactory(
            organiser=db.session.get(User, volunteer.id),
            status=OfferStatus.REJECTED,
            title="T" * 200,
            rejection_reason="Too vague. " * 90,
        )
        for locale in LANGUAGES:  # Latin ones in GSM-7, the others in UCS-2
            db.session.get(User, volunteer.id).locale = locale
            note = Notification(
                kind=str(CourseMessage.ACTIVITY_REJECTED),
                user_id=volunteer.id,
                channel="sms",
                payload={"offer_id": offer.id},
            )
            out = registry.render(note)
            assert cost(out.content).segments <= 2, out.content
            assert out.content.endswith("einstein.test/my/offers")
            assert "Too vague." in out.content and "..." in out.content
