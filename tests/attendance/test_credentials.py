"""Certificates anyone can check: the story of Amal's certificate.

Amal completes "Starting a business in Utrecht" (five of six evenings). Her certificate carries a
QR code and a short code. An employer scans the QR code: the page says "Valid: Amal Yusuf
completed Starting a business in Utrecht (...)" and nothing more. A coordinator finds out the
certificate was issued by mistake and revokes it, with a reason: from then on the same QR code
says "Not valid: revoked on ...". Nobody else can revoke it, a mistyped code is caught, hostile
input in the code form is refused, and nothing answers 500.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import zxingcpp
from flask_babel import force_locale, gettext
from PIL import Image

from einstein.attendance import credentials
from einstein.attendance.models import Credential, CredentialKind
from einstein.audit.models import AuditEvent
from einstein.db import db
from einstein.i18n import format_day_year
from einstein.models import Booking, Offer, Role, User
from einstein.privacy import services as privacy
from tests import factories
from tests.attendance import test_certificates as story
from tests.support.clock import days_ahead
from tests.support.hostile import HOSTILE_LINES, HOSTILE_TEXT
from tests.support.html import main

EN = {"Accept-Language": "en"}


def _revoked_sentence(app, locale: str) -> str:
    """The longest part of what a revoked document says around its date, in ``locale``."""
    with app.test_request_context(), force_locale(locale):
        said = gettext("This document was revoked on %(day)s: it is not valid.", day="\x00")
    return max(said.split("\x00"), key=len).strip()


#: Amal's and Bram's course, from the certificate's story.
people, course, offer_form_data = story.people, story.course, story.offer_form_data
_evenings = story._evenings


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"CHECK_RATE_LIMIT": "20 per minute"}


def _text(html: str) -> str:
    """What a reader sees of some HTML: the words, without tags, spaces folded."""
    without_svg = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    blocks = re.sub(r"</?(h\d|p|li|div|td|th)\b[^>]*>", " ", without_svg)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def _rasterise(svg: str, scale: int = 6) -> Image.Image:
    """Draw segno's SVG (one path of horizontal strokes) as a black and white image."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    path = re.search(r' d="([^"]+)"', svg).group(1)
    image = Image.new("L", (size * scale, size * scale), 255)
    pixels = image.load()
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            length = values[0] if command == "h" else values[0] - x
            row = int(y)
            for column in range(int(x), int(x + length)):
                for dx in range(scale):
                    for dy in range(scale):
                        pixels[column * scale + dx, row * scale + dy] = 0
            x += length
    return image


def _scan(page: str) -> str:
    """What a phone reads from the (only) QR code on a page: decoded by zxing-cpp, a real decoder."""
    svgs = re.findall(r"<svg[^>]*class=\"segno\".*?</svg>", page, re.S)
    assert len(svgs) == 1, "one QR code on the page"
    found = zxingcpp.read_barcodes(_rasterise(svgs[0]))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def _credential(app, reference: str) -> Credential | None:
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.reference == reference))
        found = db.session.scalar(
            sa.select(Credential).where(
                Credential.holder_id == booking.user_id, Credential.offer_id == booking.offer_id
            )
        )
        if found is not None:
            db.session.expunge(found)
        return found


@pytest.fixture
def completed(app, client, course, people) -> dict[str, Any]:
    """The course is over: Amal came to five evenings of six (certificate), Bram to four (none)."""
    _evenings(app, course, people, held=6, came={"amal": 5, "bram": 4})
    return course


def _period(app, course) -> str:
    with app.app_context():
        starts = sorted(s.starts_at for s in db.session.get(Offer, course["offer_id"]).sessions)
    with app.test_request_context(headers=EN):
        return f"{format_day_year(starts[0])} – {format_day_year(starts[-1])}"


def test_a_certificate_verifies_by_its_qr_code_and_stops_when_revoked(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    page = client.get(f"/bookings/{completed['amal']}/certificate").get_data(as_text=True)
    credential = _credential(app, completed["amal"])
    assert credential is not None and credential.kind == CredentialKind.CERTIFICATE
    # the short code is printed on the certificate, next to the QR code
    assert credential.shown_code in page and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", credential.shown_code)

    # an employer scans the QR code with a phone, not signed in
    link = _scan(page)
    assert link == f"{app.config['BASE_URL'].rstrip('/')}/check/{credential.shown_code}"
    employer = app.test_client()
    response = employer.get(urlsplit(link).path, headers=EN)
    assert response.status_code == 200
    line = f"Valid: Amal Yusuf completed Starting a business in Utrecht ({_period(app, completed)})."
    assert line in _text(main(response.get_data(as_text=True)))

    # a coordinator revokes it: a page that asks, a reason, and the audit trail
    client.sign_in(people["coordinator"])
    url = f"/certificates/{credential.id}/revoke"
    confirm = client.get(url, headers=EN)
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.get_data(as_text=True)
    assert _credential(app, completed["amal"]).revoked_at is None  # asking changes nothing
    done = client.post(url, data={"reason": "Attendance was marked for the wrong person."}, headers=EN)
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/offers/{completed['offer_id']}/certificates"
    )
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "credential.revoked"))
        assert event.actor_id == people["coordinator"].id and event.subject_id == people["amal"].id
        assert event.details["reason"] == "Attendance was marked for the wrong person."
        revoked_on = db.session.get(Credential, credential.id).revoked_at

    # the same QR code now says it is not valid, and nothing about the course or the person
    response = employer.get(urlsplit(link).path, headers=EN)
    assert response.status_code == 200
    with app.test_request_context(headers=EN):
        said = f"Not valid: revoked on {format_day_year(revoked_on)}."
    shown = _text(main(response.get_data(as_text=True)))
    assert said in shown and "Amal" not in shown and "Starting a business" not in shown
    # her certificate page says so instead of showing a QR code
    client.sign_in(people["amal"])
    page = client.get(f"/bookings/{completed['amal']}/certificate", headers=EN).get_data(as_text=True)
    said = _revoked_sentence(app, "ar")  # the certificate is in Amal's language
    assert 'class="segno"' not in page and len(said) > 5 and said in unescape(page), said
    # and a revoked certificate is not issued again
    assert _credential(app, completed["amal"]).code == credential.code


def test_the_certificate_is_issued_once_whoever_shows_it_in_whichever_language(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    first = client.get(f"/bookings/{completed['amal']}/certificate").get_data(as_text=True)
    dutch = client.get(f"/bookings/{completed['amal']}/certificate?in=nl").get_data(as_text=True)
    client.sign_in(people["coordinator"])
    again = client.get(f"/bookings/{completed['amal']}/certificate").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential)) == 1
    code = _credential(app, completed["amal"]).shown_code
    assert all(code in page for page in (first, dutch, again))
    assert _scan(dutch) == _scan(first)
    # what the check shows was frozen when it was issued: a new name later does not change it
    with app.app_context():
        db.session.get(User, people["amal"].id).name = "Amal Y."
        db.session.commit()
    assert "Amal Yusuf completed" in _text(
        main(app.test_client().get(f"/check/{code}", headers=EN).get_data(as_text=True))
    )


def test_no_certificate_no_code(app, client, completed, people) -> None:
    """Bram came to four of six: his refusal page issues nothing."""
    client.sign_in(people["bram"])
    assert client.get(f"/bookings/{completed['bram']}/certificate").status_code == 409
    assert _credential(app, completed["bram"]) is None


def test_the_check_shows_nothing_but_the_line(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    code = _credential(app, completed["amal"]).shown_code
    response = app.test_client().get(f"/check/{code}", headers=EN)
    page = response.get_data(as_text=True)
    line = f"Valid: Amal Yusuf completed Starting a business in Utrecht ({_period(app, completed)})."
    assert _text(main(page)) == f"Check of a certificate or statement {line}"
    assert "<a " not in main(page)  # no link to the person, the course or anything else
    for private in (completed["amal"], "Ondernemershuis", "Noor", "sessions", "%"):
        assert private not in _text(main(page))  # no booking reference, place, organiser, attendance
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_typed_code_forgives_case_spaces_and_dashes(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    code = _credential(app, completed["amal"]).code
    anyone = app.test_client()
    typed = f" {code[:4].lower()} {code[4:8]}  {code[8:].lower()} "
    response = anyone.get("/check", query_string={"code": typed})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/check/{credentials.format_code(code)}")
    # a hand-typed address with small letters and no dashes is led to the printed one
    response = anyone.get(f"/check/{code.lower()}")
    assert response.status_code == 301 and response.headers["Location"].endswith(credentials.format_code(code))


def _mistypes(code: str) -> list[str]:
    """Every code with one character mistyped, and with two neighbours swapped."""
    wrong = [
        code[:i] + other + code[i + 1 :]
        for i in range(len(code))
        for other in "ABCDEFGHJKMNPQRTUVWXY346789"
        if other != code[i]
    ]
    wrong += [code[:i] + code[i + 1] + code[i] + code[i + 2 :] for i in range(len(code) - 1) if code[i] != code[i + 1]]
    return wrong


@pytest.mark.parametrize("seed", range(20))
def test_every_single_typo_and_swap_is_caught(seed) -> None:
    code = credentials.new_code()
    assert credentials.read_code(code).code == code
    for wrong in _mistypes(code):
        typed = credentials.read_code(wrong)
        assert typed.code is None and typed.typo, wrong


def test_a_typo_in_the_form_says_so(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    code = _credential(app, completed["amal"]).code
    wrong = (
        code[:5] + code[6] + code[5] + code[7:] if code[5] != code[6] else code[:-1] + ("A" if code[-1] != "A" else "B")
    )
    anyone = app.test_client()
    response = anyone.get("/check", query_string={"code": wrong}, headers=EN)
    assert response.status_code == 422
    assert "This code has a typo: check it against the document and type it again." in response.get_data(as_text=True)
    # the address with a typo: the friendly 404, saying it is a typo
    response = anyone.get(f"/check/{credentials.format_code(wrong)}", headers=EN)
    assert response.status_code == 404
    assert "This code has a typo" in response.get_data(as_text=True)


def test_an_unknown_code_is_a_friendly_404(app) -> None:
    unknown = credentials.new_code()
    response = app.test_client().get(f"/check/{credentials.format_code(unknown)}", headers=EN)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "No document with this code" in page and 'name="code"' in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("hostile", [*HOSTILE_LINES.values(), *HOSTILE_TEXT.values()])
def test_hostile_input_in_the_code_form_is_refused(app, hostile) -> None:
    response = app.test_client().get("/check", query_string={"code": hostile}, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Amal</b>" not in page


@pytest.mark.parametrize(
    "path", ["<script>", "' OR 1=1 --", "x" * 300, "..%2F..%2Fetc", "%E2%80%AEABCD", "%00", "ABCD-EFGH-JKMN-PQRT"]
)
def test_any_address_under_check_is_a_404_never_a_500(app, path) -> None:
    response = app.test_client().get(f"/check/{path}")
    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


def test_the_check_is_rate_limited(app) -> None:
    anyone = app.test_client()
    codes = [credentials.format_code(credentials.new_code()) for _ in range(21)]
    statuses = [anyone.get(f"/check/{code}").status_code for code in codes]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429


def test_only_coordinators_revoke(app, client, completed, people, participant, volunteer, other_volunteer) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    credential = _credential(app, completed["amal"])
    url = f"/certificates/{credential.id}/revoke"
    # the holder, a participant, the volunteers (one of them could organise the course): 403
    for person in (people["amal"], people["bram"], participant, volunteer, other_volunteer):
        client.sign_in(person)
        assert client.get(url).status_code == 403
        assert client.post(url, data={"reason": "I say so"}).status_code == 403
        assert client.get(f"/offers/{completed['offer_id']}/certificates").status_code == 403
    anonymous = app.test_client()
    response = anonymous.post(url, data={"reason": "I say so"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _credential(app, completed["amal"]).revoked_at is None
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "credential.revoked")) is None


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, *HOSTILE_TEXT.values(), "Mistake\u202e"])
def test_revoking_needs_a_plain_reason(app, client, completed, people, reason) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    credential = _credential(app, completed["amal"])
    client.sign_in(people["coordinator"])
    response = client.post(f"/certificates/{credential.id}/revoke", data={"reason": reason}, headers=EN)
    if reason in HOSTILE_TEXT.values():  # stored as text, shown escaped: a reason may quote anything
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert _credential(app, completed["amal"]).revoked_at is None


def test_revoking_twice_changes_nothing(app, client, completed, people) -> None:
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    credential = _credential(app, completed["amal"])
    client.sign_in(people["coordinator"])
    url = f"/certificates/{credential.id}/revoke"
    assert client.post(url, data={"reason": "first"}).status_code == 303
    assert client.post(url, data={"reason": "second"}).status_code == 409
    with app.app_context():
        assert db.session.get(Credential, credential.id).revoke_reason == "first"
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "credential.revoked")
            )
            == 1
        )


def test_a_coordinator_sees_the_certificates_of_a_course(app, client, completed, people) -> None:
    client.sign_in(people["coordinator"])
    completion = client.get(f"/offers/{completed['offer_id']}/completion", headers=EN).get_data(as_text=True)
    assert f"/offers/{completed['offer_id']}/certificates" in completion
    empty = client.get(f"/offers/{completed['offer_id']}/certificates", headers=EN).get_data(as_text=True)
    assert "No certificate issued yet" in empty
    client.get(f"/bookings/{completed['amal']}/certificate")
    page = client.get(f"/offers/{completed['offer_id']}/certificates", headers=EN).get_data(as_text=True)
    credential = _credential(app, completed["amal"])
    assert "Amal Yusuf" in page and credential.shown_code in page and "Bram" not in page
    assert f"/certificates/{credential.id}/revoke" in page
    assert client.get("/offers/999999/certificates").status_code == 404


def test_a_volunteer_statement_checks_with_its_hours(app, make_user) -> None:
    person = make_user(name="Olena Kovalenko", locale="uk")
    with app.app_context():
        holder = db.session.get(User, person.id)
        one = credentials.statement_for(
            holder, organisation="einstein Utrecht", first_day=date(2026, 9, 1), last_day=date(2026, 11, 3), minutes=750
        )
        same = credentials.statement_for(
            holder, organisation="einstein Utrecht", first_day=date(2026, 9, 1), last_day=date(2026, 11, 3), minutes=750
        )
        more = credentials.statement_for(
            holder,
            organisation="einstein Utrecht",
            first_day=date(2026, 9, 1),
            last_day=date(2026, 11, 10),
            minutes=870,
        )
        db.session.commit()
        assert one.id == same.id != more.id
        code = one.shown_code
    page = app.test_client().get(f"/check/{code}", headers=EN).get_data(as_text=True)
    assert (
        "Valid: Olena Kovalenko did 12.5 hours of volunteer work with einstein Utrecht "
        "(1 September 2026 – 3 November 2026)."
    ) in _text(main(page))


def test_deleting_the_account_ends_the_check(app, client, completed, people) -> None:
    """The check would go on showing the person's name: after erasure their codes check nothing."""
    client.sign_in(people["amal"])
    client.get(f"/bookings/{completed['amal']}/certificate")
    code = _credential(app, completed["amal"]).shown_code
    with app.app_context():
        privacy.delete_account(db.session.get(User, people["amal"].id))
        db.session.commit()
    response = app.test_client().get(f"/check/{code}", headers=EN)
    assert response.status_code == 404 and "Amal" not in response.get_data(as_text=True)


def test_a_volunteer_statement_verifies_by_its_qr_code(app, client, make_user) -> None:
    """Sara organised an evening that took place: her statement of volunteer work carries a QR
    code whose check states her hours; more hours later make a new statement, the first stays valid."""
    sara = make_user(role=Role.VOLUNTEER, name="Sara Jansen", locale="nl")
    with app.app_context():
        organiser = db.session.get_one(User, sara.id)
        evening = factories.SessionFactory(offer__organiser=organiser, starts_at=days_ahead(-3))
        offer_id = evening.offer_id
        db.session.commit()
    client.sign_in(sara)
    page = client.get("/my/volunteering/statement", headers=EN).get_data(as_text=True)
    link = _scan(page)
    with app.app_context():
        credential = db.session.scalar(sa.select(Credential).where(Credential.holder_id == sara.id))
        assert credential.kind == CredentialKind.VOLUNTEER_STATEMENT and credential.shown_code in page
        assert link.endswith(f"/check/{credential.shown_code}")
        hours = credentials.hours(credential)
    shown = _text(main(app.test_client().get(urlsplit(link).path, headers=EN).get_data(as_text=True)))
    assert shown.startswith(
        f"Check of a certificate or statement Valid: Sara Jansen did {hours} hours of volunteer work"
    )
    # shown again: the same statement; after one more evening, a new one, and the first still checks
    assert _scan(client.get("/my/volunteering/statement?in=nl").get_data(as_text=True)) == link
    with app.app_context():
        factories.SessionFactory(offer=db.session.get_one(Offer, offer_id), starts_at=days_ahead(-1))
        db.session.commit()
    assert _scan(client.get("/my/volunteering/statement").get_data(as_text=True)) != link
    assert "Valid: Sara Jansen" in _text(
        main(app.test_client().get(urlsplit(link).path, headers=EN).get_data(as_text=True))
    )
