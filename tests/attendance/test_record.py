"""The learning record: Amal's courses and statements on one page and in one PDF she can download.

Amal completed "Starting a business in Utrecht" but never opened its certificate: her learning
record lists it anyway, with the code that checks it (issued now, once). She downloads the PDF in
Arabic, right to left, and in Dutch for the municipality; a record with names in every script
einstein's languages use has no letter missing. The record is in her data export too.
"""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from einstein.attendance import credentials, record
from einstein.attendance.models import Credential
from einstein.db import db
from einstein.i18n import LANGUAGES
from einstein.models import User
from tests.attendance import test_certificates as story
from tests.support.hostile import GOOD_NAMES
from tests.support.html import main

EN = {"Accept-Language": "en"}
people, course, offer_form_data = story.people, story.course, story.offer_form_data


@pytest.fixture
def completed(app, course, people) -> dict[str, Any]:
    story._evenings(app, course, people, held=6, came={"amal": 5, "bram": 4})
    return course


def _pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def _codes(app) -> list[str]:
    with app.app_context():
        return [c.shown_code for c in db.session.scalars(sa.select(Credential).order_by(Credential.id))]


def test_the_record_lists_a_completed_course_whose_certificate_was_never_opened(app, client, completed, people) -> None:
    assert _codes(app) == []
    client.sign_in(people["amal"])
    response = client.get("/my/record", headers=EN)
    assert response.status_code == 200
    page = main(response.get_data(as_text=True))
    [code] = _codes(app)
    assert "Starting a business in Utrecht" in page and code in page
    assert f"/check/{code}" in page and "/my/record.pdf" in page
    # the certificate's page shows the same code: issued once
    certificate = client.get(f"/bookings/{completed['amal']}/certificate").get_data(as_text=True)
    assert code in certificate and _codes(app) == [code]


def _sign_in_reading_english(client, person) -> None:
    """Sign in, with this device's pages in English (the texts these tests read)."""
    client.sign_in(person)
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_bram_who_came_too_little_has_an_empty_record(app, client, completed, people) -> None:
    _sign_in_reading_english(client, people["bram"])
    page = main(client.get("/my/record", headers=EN).get_data(as_text=True))
    assert "Nothing here yet" in page and "Starting a business" not in page
    assert _codes(app) == []
    body = client.get("/my/record.pdf", headers=EN).data
    assert "No course completed" in _pdf_text(body)


def test_the_menu_offers_the_record_to_participants(app, client, people) -> None:
    client.sign_in(people["amal"])
    assert 'href="/my/record"' in client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/my/record"' not in app.test_client().get("/", headers=EN).get_data(as_text=True)


def test_the_pdf_opens_and_lists_the_course_in_arabic_and_in_dutch(app, client, completed, people) -> None:
    client.sign_in(people["amal"])  # her language is Arabic
    response = client.get("/my/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="einstein-learning-record-ar.pdf"'
    [code] = _codes(app)
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 and reader.metadata.title
    text = _pdf_text(response.data)
    assert "Amal Yusuf" in text and "Starting a business in Utrecht" in text and code in text
    # the Dutch copy, for the municipality
    dutch = client.get("/my/record.pdf?in=nl")
    assert dutch.headers["Content-Disposition"].endswith('-nl.pdf"')
    text = _pdf_text(dutch.data)
    assert "Starting a business in Utrecht" in text and code in text and "Certificaat" in text


@pytest.mark.parametrize("asked", ["xx", "<script>", "' OR 1=1 --", "a" * 300, "%00"])
def test_a_language_that_is_not_ours_is_a_400(client, people, asked) -> None:
    client.sign_in(people["amal"])
    assert client.get(f"/my/record.pdf?in={asked}").status_code == 400


#: Names in every script einstein's languages are written in, and Kurdish (Sorani) and Somali letters.
NAMES = [*GOOD_NAMES, "ئاراس کوردی", "Ŋuun Ɗiiriye"]


def _covered() -> set[int]:
    covered: set[int] = set()
    for filename in record.FONTS.values():
        covered |= set(TTFont(f"static/fonts/pdf/{filename}").getBestCmap())
    return covered


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_names_in_every_script_are_drawn_in_every_language(app, make_user, lang) -> None:
    """A record whose name holds every script, with a statement, made in each of the eight languages."""
    covered = _covered()
    for name in NAMES:
        assert {ord(ch) for ch in name if not ch.isspace()} <= covered, name
    person = make_user(name="Amal Yusuf")
    with app.test_request_context(headers={"Accept-Language": lang}):
        holder = db.session.get_one(User, person.id)
        statement = credentials.statement_for(
            holder, organisation="einstein", first_day=date(2026, 9, 1), last_day=date(2026, 9, 8), minutes=120
        )
        found = record.Record(" · ".join(NAMES), [], [statement], date(2026, 11, 30))
        text = " ".join(_pdf_text(record.pdf_bytes(found, LANGUAGES[lang])).split())
    assert statement.shown_code in text
    if lang == "nl":  # the label before the code is translated too (it was left out of the catalogues)
        assert f"Verklaring {statement.shown_code}" in text
    # (right to left, the lines run in the order they are read: word by word)
    for name in ("Amal Yusuf", "ሰላም ተስፋይ", "Олена Коваленко", "Elif Yılmaz", "Zoë d’Hondt"):
        assert all(word in text for word in name.split()), name


def test_the_fonts_hold_every_letter_of_the_scripts() -> None:
    """A name may use any letter of Latin, Cyrillic, Arabic or Ge'ez: the PDF's fonts have them all."""
    covered = _covered()
    blocks = [(0x0041, 0x024F), (0x1E00, 0x1EFF), (0x0400, 0x052F), (0x0600, 0x06FF), (0x0750, 0x077F)]
    blocks += [(0x1200, 0x139F)]
    missing = [
        f"U+{c:04X}"
        for first, last in blocks
        for c in range(first, last + 1)
        if unicodedata.category(chr(c))[0] in "LMN" and c not in covered
    ]
    assert missing == []


def test_the_record_is_in_the_data_export(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    data = json.loads(client.get("/account/data.json").data)
    [code] = _codes(app)
    [certificate] = data["learning_record"]["certificates"]
    assert certificate["code"] == code and certificate["title"] == "Starting a business in Utrecht"
    assert certificate["check_url"].endswith(f"/check/{code}") and certificate["revoked_at"] is None
    assert data["learning_record"]["volunteer_statements"] == []
    # the export issued it: the code checks
    assert app.test_client().get(f"/check/{code}").status_code == 200


def test_a_revoked_certificate_says_so_on_the_record(app, client, completed, people) -> None:
    _sign_in_reading_english(client, people["amal"])
    client.get("/my/record")
    with app.app_context():
        credential = db.session.scalar(sa.select(Credential))
        credentials.revoke(credential, db.session.get(User, people["coordinator"].id), "Mistake")
        db.session.commit()
    page = main(client.get("/my/record", headers=EN).get_data(as_text=True))
    assert "Not valid: revoked on" in page
    assert "Not valid: revoked on" in _pdf_text(client.get("/my/record.pdf", headers=EN).data)


def test_the_record_is_only_ones_own(app, client, completed, people) -> None:
    client.sign_in(people["bram"])
    assert "Amal" not in client.get("/my/record", headers=EN).get_data(as_text=True)
    assert "Amal" not in _pdf_text(client.get("/my/record.pdf", headers=EN).data)
    anonymous = app.test_client()
    for url in ("/my/record", "/my/record.pdf"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
