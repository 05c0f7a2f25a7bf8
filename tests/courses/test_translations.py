"""Offer texts in the reader's language, as the people involved live it.

Selam reads Tigrinya. Most offers are written in Dutch; until someone translates one, Selam is
told that it is in Dutch. Yonas, a bilingual volunteer, is given Tigrinya by a coordinator and
works through a queue of what lacks Tigrinya (or lacks an up-to-date one); a coordinator
approves his words before Selam sees them. When the organiser changes the Dutch description,
the translation is marked as possibly out of date and goes back into Yonas's queue.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from markupsafe import escape

from einstein.courses import translations
from einstein.courses.revisions import apply_words
from einstein.db import db
from einstein.i18n import language_name
from einstein.models import (
    AuditEvent,
    Offer,
    OfferStatus,
    OfferTranslation,
    Role,
    TranslationProposal,
    TranslatorLanguage,
    User,
)
from tests import factories
from tests.conftest import SECRET_KEY
from tests.support.hostile import HOSTILE_IN_TEXT, HOSTILE_TEXT
from tests.support.html import main

TITLE_NL = "Samen koken"
DESCRIPTION_NL = "We koken samen en eten aan één lange tafel."
TITLE_TI = "ብሓባር ምብሳል"
DESCRIPTION_TI = "ብሓባር ንበስል፡ ኣብ ሓደ ነዊሕ ጣውላ ንበልዕ።"
EN = {"Accept-Language": "en"}


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _in_language(app, reader: str, code: str) -> str:
    """ "in Dutch" as a reader of ``reader`` is told it."""
    with app.test_request_context(), force_locale(reader):
        return gettext("in %(language)s", language=language_name(code))


@pytest.fixture
def dutch_offer(app, volunteer) -> dict[str, int]:
    """A published activity written in Dutch by "volunteer", next week."""
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id),
            offer__title=TITLE_NL,
            offer__description=DESCRIPTION_NL,
            offer__language="nl",
        )
        return {"offer_id": session.offer_id, "session_id": session.id}


@pytest.fixture
def selam(make_user) -> Any:
    """A participant who reads Tigrinya."""
    return make_user(role=Role.PARTICIPANT, name="Selam Tesfay", locale="ti")


@pytest.fixture
def yonas(app, make_user) -> Any:
    """A bilingual volunteer who translates into Tigrinya (not trusted: his words wait)."""
    person = make_user(role=Role.VOLUNTEER, name="Yonas Translator")
    with app.app_context():
        db.session.add(TranslatorLanguage(user_id=person.id, locale="ti"))
        db.session.commit()
    return person


def _translate(client, offer_id: int, locale: str = "ti", **data: str):
    form = {"title": TITLE_TI, "description": DESCRIPTION_TI, **data}
    return client.post(f"/offers/{offer_id}/translations/{locale}?from=queue", data=form, headers=EN)


def _proposal_id(app) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(TranslationProposal.id).order_by(TranslationProposal.id.desc()))
        assert found is not None
        return found


def _title_element(page: str, title: str) -> str:
    """The opening tag of the element holding ``title`` (its lang and dir)."""
    match = re.search(r"<(a|h1|h3)\b([^>]*)>" + re.escape(title) + "<", page)
    assert match, f"{title!r} is not on the page"
    return match.group(2)


# --- the reader ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_tigrinya_reader_is_told_the_offer_is_in_dutch_until_it_is_translated(
    app, client, selam, dutch_offer, coordinator
) -> None:
    client.sign_in(selam)
    in_dutch = _in_language(app, "ti", "nl")
    listing = _text(client.get("/"))
    page = _text(client.get(f"/offers/{dutch_offer['offer_id']}"))
    for shown in (listing, page):
        assert TITLE_NL in shown and in_dutch in shown
        # the Dutch words are marked as Dutch, for screen readers and fonts
        assert 'lang="nl"' in _title_element(shown, TITLE_NL) and 'dir="auto"' in _title_element(shown, TITLE_NL)
    assert f'lang="nl" dir="auto">{DESCRIPTION_NL}' in page
    # a coordinator (who publishes directly) translates it
    writer = app.test_client()
    writer.sign_in(coordinator)
    assert _translate(writer, dutch_offer["offer_id"]).status_code == 302
    listing = _text(client.get("/"))
    page = _text(client.get(f"/offers/{dutch_offer['offer_id']}"))
    for shown in (listing, page):
        assert TITLE_TI in shown and TITLE_NL not in shown
        assert in_dutch not in shown  # translated texts carry no label
        assert 'lang="ti"' in _title_element(shown, TITLE_TI)
    # a Dutch reader still reads the original, without a label
    dutch = _text(app.test_client().get("/", headers={"Accept-Language": "nl"}))
    assert TITLE_NL in dutch and _in_language(app, "nl", "nl") not in main(dutch)


def test_an_english_reader_sees_in_dutch_on_the_booking_card_and_my_bookings(
    app, client, participant, dutch_offer
) -> None:
    from einstein.bookings import services as bookings

    with app.app_context():
        offer = db.session.get(Offer, dutch_offer["offer_id"])
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(offer, offer.sessions[0]))
        db.session.commit()
        reference = booking.reference
    client.sign_in(participant)
    for url in ("/my/bookings", f"/bookings/{reference}/card"):
        shown = _text(client.get(url, headers=EN))
        assert TITLE_NL in shown and "in Dutch" in shown, url
        assert 'lang="nl"' in _title_element(shown, TITLE_NL), url


def test_right_to_left_pages_isolate_the_dutch_title(app, make_user, dutch_offer) -> None:
    reader = app.test_client()
    reader.sign_in(make_user(locale="ar"))
    page = _text(reader.get(f"/offers/{dutch_offer['offer_id']}"))
    assert 'dir="rtl"' in page
    assert 'lang="nl" dir="auto"' in _title_element(page, TITLE_NL)
    assert _in_language(app, "ar", "nl") in page


# --- the translator --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_coordinator_makes_a_volunteer_a_tigrinya_translator(app, client, coordinator, yonas, volunteer) -> None:
    client.sign_in(coordinator)
    form = _text(client.get(f"/people/{volunteer.id}/translator", headers=EN))
    assert "Translates into" in form and "ትግርኛ" in form
    response = client.post(f"/people/{volunteer.id}/translator", data={"languages": ["ti", "fa"]}, headers=EN)
    assert response.status_code == 302
    people = _text(client.get("/people?q=Samir", headers=EN))
    assert "translates" in people and "فارسی" in people
    client.post(f"/people/{volunteer.id}/translator", data={"languages": ["ti"]})
    with app.app_context():
        given = db.session.scalars(
            sa.select(TranslatorLanguage.locale).where(TranslatorLanguage.user_id == volunteer.id)
        )
        assert sorted(given) == ["ti"]
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "translator.changed").order_by(AuditEvent.id)
        ).all()
        assert [(e.actor_id, e.subject_id, e.details) for e in events] == [
            (coordinator.id, volunteer.id, {"added": ["ti", "fa"], "removed": []}),
            (coordinator.id, volunteer.id, {"added": [], "removed": ["fa"]}),
        ]
    # nobody makes themselves a translator, and coordinators do not need it
    assert client.get(f"/people/{coordinator.id}/translator").status_code == 403


def test_the_translator_sees_the_queue_of_what_lacks_tigrinya(app, client, yonas, dutch_offer) -> None:
    with app.app_context():
        done = factories.SessionFactory(offer__title="Fietsles", offer__language="nl")
        done.offer.translations.append(OfferTranslation(locale="ti", title="ትምህርቲ ብሽክለታ"))
        factories.SessionFactory(offer__title="Naaicafé", offer__language="ti")  # written in Tigrinya
        factories.SessionFactory(offer__title="Al voorbij", offer__status=OfferStatus.CANCELLED)
        db.session.commit()
    client.sign_in(yonas)
    home = _text(client.get("/", headers=EN))
    assert 'href="/translations"' in home  # the menu has the queue
    queue = _text(client.get("/translations", headers=EN))
    assert TITLE_NL in queue and "not translated yet" in queue
    assert "Fietsles" not in queue and "Naaicafé" not in queue and "Al voorbij" not in queue
    # the original beside the form
    form = _text(client.get(f"/offers/{dutch_offer['offer_id']}/translations/ti?from=queue", headers=EN))
    assert DESCRIPTION_NL in form and 'lang="ti"' in form


def test_a_translator_cannot_translate_into_farsi_nor_approve(app, client, yonas, dutch_offer) -> None:
    client.sign_in(yonas)
    assert client.get("/translations?lang=fa").status_code == 403
    assert client.get(f"/offers/{dutch_offer['offer_id']}/translations/fa").status_code == 403
    assert _translate(client, dutch_offer["offer_id"], "fa").status_code == 403
    assert _translate(client, dutch_offer["offer_id"]).status_code == 302
    proposal_id = _proposal_id(app)
    assert client.post(f"/translations/proposals/{proposal_id}/approve").status_code == 403
    assert client.get(f"/translations/proposals/{proposal_id}").status_code == 403
    # nor edit the offer itself, nor remove a translation
    assert client.get(f"/offers/{dutch_offer['offer_id']}/edit").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OfferTranslation)) == 0


def test_people_who_are_no_translators_have_no_queue(client, participant, volunteer, dutch_offer) -> None:
    for person in (participant, volunteer):
        client.sign_in(person)
        assert client.get("/translations").status_code == 403
        assert 'href="/translations"' not in _text(client.get("/"))
        assert client.get(f"/offers/{dutch_offer['offer_id']}/translations/ti").status_code == 403 or (
            person is volunteer  # the organiser translates their own offer
        )


def test_a_translator_does_not_see_unpublished_offers(app, client, yonas, volunteer) -> None:
    with app.app_context():
        pending = factories.SessionFactory(
            offer__title="Nog niet goedgekeurd",
            offer__language="nl",
            offer__status=OfferStatus.PENDING,
            offer__organiser=db.session.get(User, volunteer.id),
        )
        offer_id = pending.offer_id
    client.sign_in(yonas)
    assert "Nog niet goedgekeurd" not in _text(client.get("/translations"))
    assert client.get(f"/offers/{offer_id}/translations/ti").status_code == 404


@pytest.mark.postgres
def test_a_coordinator_approves_and_the_reader_sees_it(
    app, client, other_client, yonas, selam, coordinator, dutch_offer
) -> None:
    client.sign_in(yonas)
    response = _translate(client, dutch_offer["offer_id"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/translations?lang=ti")
    reader = app.test_client()
    reader.sign_in(selam)
    assert TITLE_TI not in _text(reader.get(f"/offers/{dutch_offer['offer_id']}"))  # not before approval
    queue = _text(client.get("/translations", headers=EN))
    assert "a translation waits for approval" in queue
    # the translator goes on from his own words
    assert TITLE_TI in _text(client.get(f"/offers/{dutch_offer['offer_id']}/translations/ti"))
    other_client.sign_in(coordinator)
    review = _text(other_client.get("/review", headers=EN))
    assert TITLE_TI in review.split('id="translations"')[1]
    proposal_id = _proposal_id(app)
    side_by_side = _text(other_client.get(f"/translations/proposals/{proposal_id}", headers=EN))
    assert TITLE_NL in side_by_side and TITLE_TI in side_by_side and DESCRIPTION_NL in side_by_side
    response = other_client.post(f"/translations/proposals/{proposal_id}/approve", headers=EN)
    assert response.status_code == 303
    assert TITLE_TI in _text(reader.get(f"/offers/{dutch_offer['offer_id']}"))
    assert TITLE_TI in _text(reader.get("/"))
    assert TITLE_NL not in _text(client.get("/translations"))  # done
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "translation.approved")).all()
        assert (event.actor_id, event.subject_id, event.offer_id) == (coordinator.id, yonas.id, dutch_offer["offer_id"])
        assert event.details == {"locale": "ti"}
    # deciding twice is a clear no, not an error
    again = other_client.post(f"/translations/proposals/{proposal_id}/approve", headers=EN, follow_redirects=True)
    assert "already decided" in _text(again)


def test_a_no_needs_a_reason_which_the_translator_sees(app, client, other_client, yonas, coordinator, dutch_offer):
    client.sign_in(yonas)
    _translate(client, dutch_offer["offer_id"], title="Samen koken (machine)")
    proposal_id = _proposal_id(app)
    other_client.sign_in(coordinator)
    refused = other_client.post(f"/translations/proposals/{proposal_id}/reject", data={"reason": " "}, headers=EN)
    assert refused.status_code == 422 and "Please tell the translator why" in _text(refused)
    response = other_client.post(
        f"/translations/proposals/{proposal_id}/reject", data={"reason": "Dit is niet vertaald."}, headers=EN
    )
    assert response.status_code == 303
    queue = _text(client.get("/translations", headers=EN))
    assert "Not approved:" in queue and "Dit is niet vertaald." in queue
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "translation.rejected")).all()
        assert (event.actor_id, event.subject_id) == (coordinator.id, yonas.id)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OfferTranslation)) == 0


def test_a_trusted_translator_publishes_at_once_and_is_on_record(app, client, make_user, dutch_offer, volunteer):
    trusted = make_user(role=Role.VOLUNTEER, trusted=True, name="Lina Trusted")
    with app.app_context():
        db.session.add(TranslatorLanguage(user_id=trusted.id, locale="ti"))
        db.session.commit()
    client.sign_in(trusted)
    assert _translate(client, dutch_offer["offer_id"]).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(OfferTranslation.title)) == TITLE_TI
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "translation.published")).all()
        assert (event.actor_id, event.subject_id) == (trusted.id, volunteer.id)


# --- an edit of the original --------------------------------------------------------------------------


@pytest.mark.postgres
def test_editing_the_dutch_description_puts_the_translation_back_in_the_queue(
    app, client, coordinator, yonas, selam, dutch_offer, offer_form
) -> None:
    client.sign_in(coordinator)
    _translate(client, dutch_offer["offer_id"])
    translator = app.test_client()
    translator.sign_in(yonas)
    assert TITLE_NL not in _text(translator.get("/translations"))
    with app.app_context():
        location_id = db.session.get(Offer, dutch_offer["offer_id"]).location_id
    # the organiser's edit of the title alone (the same words) changes nothing
    edit = offer_form(title=TITLE_NL, description=DESCRIPTION_NL, location_id=str(location_id))
    edit.update(new_place_name="", new_place_address="")
    client.post(f"/offers/{dutch_offer['offer_id']}/edit", data=edit)
    assert TITLE_NL not in _text(translator.get("/translations"))
    edit["description"] = DESCRIPTION_NL + " Neem een bord mee."
    assert client.post(f"/offers/{dutch_offer['offer_id']}/edit", data=edit).status_code == 302
    queue = _text(translator.get("/translations", headers=EN))
    assert TITLE_NL in queue and "translation may be out of date" in queue
    # the reader still sees the translation, marked
    reader = app.test_client()
    reader.sign_in(selam)
    with app.test_request_context(), force_locale("ti"):
        outdated = gettext("translation may be out of date")
    for url in ("/", f"/offers/{dutch_offer['offer_id']}"):
        shown = _text(reader.get(url))
        assert TITLE_TI in shown and outdated in shown
    # the translator brings it up to date (a coordinator approves) and the mark goes
    form = _text(translator.get(f"/offers/{dutch_offer['offer_id']}/translations/ti", headers=EN))
    assert "The original changed after this translation was written" in form
    _translate(translator, dutch_offer["offer_id"], description=DESCRIPTION_TI + " ሽሓን ኣምጽኡ።")
    client.post(f"/translations/proposals/{_proposal_id(app)}/approve")
    assert outdated not in _text(reader.get(f"/offers/{dutch_offer['offer_id']}"))
    assert TITLE_NL not in _text(translator.get("/translations"))


def test_a_translation_approved_after_the_original_changed_is_out_of_date(app, yonas, coordinator, dutch_offer):
    with app.app_context():
        offer = db.session.get(Offer, dutch_offer["offer_id"])
        author = db.session.get(User, yonas.id)
        assert translations.write(offer, "ti", TITLE_TI, DESCRIPTION_TI, author) is True
        apply_words(offer, {"title": "Samen koken en eten"})
        proposal = translations.pending_proposal(offer, "ti")
        translations.approve(proposal, db.session.get(User, coordinator.id))
        db.session.flush()
        assert offer.text_for("ti").outdated and offer.text_for("ti").title == TITLE_TI


# --- coverage -------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_coverage_per_language_on_the_dashboard(app, client, coordinator) -> None:
    with app.app_context():
        offers = [factories.SessionFactory(offer__language="nl").offer for _ in range(4)]
        factories.SessionFactory(offer__language="ti")
        factories.SessionFactory(offer__language="nl", offer__status=OfferStatus.PENDING)
        offers[0].translations.append(OfferTranslation(locale="ti", title="ሓደ"))
        offers[1].translations.append(OfferTranslation(locale="ti", title="ክልተ"))
        offers[2].translations.append(OfferTranslation(locale="ar", title="ثلاثة"))
        offers[1].text_version = 1  # its Dutch changed after the Tigrinya was written
        db.session.commit()
        rows = {row.locale: row for row in translations.coverage()}
    assert (rows["ti"].needed, rows["ti"].up_to_date, rows["ti"].outdated, rows["ti"].missing) == (4, 1, 1, 2)
    assert rows["ti"].percent == 25
    assert (rows["ar"].needed, rows["ar"].up_to_date, rows["ar"].missing) == (5, 1, 4)
    assert (rows["nl"].needed, rows["nl"].up_to_date, rows["nl"].missing) == (1, 0, 1)
    client.sign_in(coordinator)
    dashboard = _text(client.get("/dashboard", headers=EN))
    assert "Offers translated, per language" in dashboard
    assert "1 of 4 (25%)" in dashboard and "1 of 5 (20%)" in dashboard


def test_coverage_with_nothing_on_the_listing_is_whole(app) -> None:
    with app.app_context():
        assert all(row.needed == 0 and row.percent == 100 for row in translations.coverage())


# --- staff pages use the reader's title -----------------------------------------------------------------


def test_staff_pages_show_the_title_the_reader_reads(app, client, make_user, dutch_offer) -> None:
    with app.app_context():
        offer = db.session.get(Offer, dutch_offer["offer_id"])
        offer.translations.append(OfferTranslation(locale="en", title="Cooking together"))
        db.session.commit()
    english_coordinator = make_user(role=Role.COORDINATOR, locale="en")
    client.sign_in(english_coordinator)
    for url in (
        "/my/offers?all=1",
        f"/offers/{dutch_offer['offer_id']}/sessions/new",
        f"/sessions/{dutch_offer['session_id']}/edit",
        f"/sessions/{dutch_offer['session_id']}/people",
        f"/sessions/{dutch_offer['session_id']}/cancel",
        f"/offers/{dutch_offer['offer_id']}/history",
    ):
        shown = main(_text(client.get(url)))
        assert "Cooking together" in shown and TITLE_NL not in shown, url
    # the dashboard's tables of offers and sessions (figures of this week)
    dashboard = main(_text(client.get("/dashboard")))
    assert dashboard.count('<bdi lang="en">Cooking together</bdi>') == 2 and TITLE_NL not in dashboard
    with app.app_context():
        assert translations.titles_in([dutch_offer["offer_id"]], "ti") == {dutch_offer["offer_id"]: (TITLE_NL, "nl")}
        assert translations.titles_in([], "en") == {}


# --- wrong and hostile input ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(HOSTILE_TEXT))
def test_html_in_a_translation_is_shown_as_text(app, client, coordinator, selam, dutch_offer, name) -> None:
    client.sign_in(coordinator)
    assert _translate(client, dutch_offer["offer_id"], title=HOSTILE_TEXT[name]).status_code == 302
    reader = app.test_client()
    reader.sign_in(selam)
    for url in ("/", f"/offers/{dutch_offer['offer_id']}"):
        shown = _text(reader.get(url))
        assert str(escape(HOSTILE_TEXT[name])) in shown, url  # shown as the text it is
        assert "<script>alert" not in shown and "<img src=x" not in shown and SECRET_KEY not in shown, url


@pytest.mark.parametrize("name", sorted(HOSTILE_IN_TEXT))
def test_invisible_and_direction_characters_are_refused(app, client, yonas, dutch_offer, name) -> None:
    client.sign_in(yonas)
    for field in ("title", "description"):
        response = _translate(client, dutch_offer["offer_id"], **{field: HOSTILE_IN_TEXT[name]})
        assert response.status_code == 422, field
        assert "invisible or special control characters" in _text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TranslationProposal)) == 0


def test_huge_text_is_refused_with_a_message(client, yonas, dutch_offer) -> None:
    client.sign_in(yonas)
    response = _translate(client, dutch_offer["offer_id"], description="ሀ" * 10_000)
    assert response.status_code == 422 and "under 5000 characters" in _text(response)
    response = _translate(client, dutch_offer["offer_id"], title="ሀ" * 10_000)
    assert response.status_code == 422 and "Please check the form" in _text(response)
    response = _translate(client, dutch_offer["offer_id"], title="")
    assert response.status_code == 422 and "Please give a title." in _text(response)


@pytest.mark.parametrize("lang", ["xx", "", "ti\u202e", "<script>", "x" * 5000, "nl"])
def test_odd_languages_in_the_queue_are_refused_not_a_500(client, yonas, coordinator, lang) -> None:
    client.sign_in(yonas)
    assert client.get("/translations", query_string={"lang": lang}).status_code in {200, 403, 404}
    client.sign_in(coordinator)
    status = client.get("/translations", query_string={"lang": lang}).status_code
    assert status == (200 if lang in {"", "nl"} else 404)


def test_a_grant_for_a_language_einstein_no_longer_speaks_is_a_404_not_a_500(app, client, make_user) -> None:
    person = make_user(role=Role.VOLUNTEER, name="Old Grant")
    with app.app_context():
        db.session.add(TranslatorLanguage(user_id=person.id, locale="xx"))
        db.session.commit()
    client.sign_in(person)
    assert client.get("/translations").status_code == 404


def test_odd_translator_languages_are_refused(app, client, coordinator, volunteer) -> None:
    client.sign_in(coordinator)
    response = client.post(f"/people/{volunteer.id}/translator", data={"languages": ["xx"]}, headers=EN)
    assert response.status_code == 422 and "not a valid choice" in _text(response)
    assert client.post("/people/999999/translator", data={"languages": ["ti"]}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TranslatorLanguage)) == 0
