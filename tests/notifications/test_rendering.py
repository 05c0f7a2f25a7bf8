"""Every e-mail einstein sends, written in every language, read as a person's mail program reads it.

Each kind of message is rendered for a person of each of the eight languages, as the worker
writes it, and then taken apart: the plain-text lines (an address and "Map:" never glued
together, "Was:" and "Now:" on lines of their own), the calendar file's headers (UTF-8, and the
method the calendar itself says: PUBLISH to keep an event, CANCEL to take it out), the language of
every link, the Message-ID's domain, and one-click unsubscribe on reminders.
"""

from __future__ import annotations

import email
import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.policy import compat32, default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, gettext
from icalendar import Calendar

from einstein import create_app
from einstein.auth.messages import AccountMessage
from einstein.bookings import operations
from einstein.bookings.links import short_code
from einstein.bookings.messages import BookingMessage
from einstein.bookings.services import new_reference
from einstein.courses.calendar import calendar_bytes
from einstein.courses.messages import CourseMessage
from einstein.db import db, utcnow
from einstein.i18n import LANGUAGES, format_when
from einstein.mail import WIRE
from einstein.models import (
    Booking,
    BookingStatus,
    Location,
    Notification,
    OfferKind,
    OfferRevision,
    OfferSession,
    OfferStatus,
    OfferTranslation,
    RevisionStatus,
    SessionStatus,
    User,
)
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from tests import factories
from tests.conftest import base_config
from tests.support.clock import days_ahead

# one process renders every message once for all the tests that read them (make test runs
# pytest-xdist with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("rendering")

BASE_URL = "https://einstein.example.org"
#: A sender on another domain than the site: the Message-ID must take the sender's.
MAIL_FROM = "einstein Utrecht <noreply@post.einstein-utrecht.nl>"
ARABIC_TITLE = "ورشة إصلاح الدراجات"
ADDRESS = "Kanaalstraat 16, 3531 CL Utrecht"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"BASE_URL": BASE_URL, "MAIL_FROM": MAIL_FROM}


@dataclass(frozen=True)
class Case:
    """One message as it can go out: its kind, how the booking stands, what the row carries."""

    name: str
    kind: str
    status: BookingStatus | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    #: the booking is for a whole course (else for one session of an activity)
    course: bool = False
    #: the place is held for the person's yes
    held: bool = False
    #: the session (or the whole offer) was cancelled
    cancelled: str | None = None
    #: the calendar method of the attachment, None for no attachment
    calendar: str | None = None
    #: the message shows the place's address and a map link
    shows_place: bool = False


CASES = [
    Case(
        "booking_confirmed",
        BookingMessage.BOOKING_CONFIRMED,
        BookingStatus.CONFIRMED,
        calendar="PUBLISH",
        shows_place=True,
    ),
    Case(
        "booking_confirmed (course)",
        BookingMessage.BOOKING_CONFIRMED,
        BookingStatus.CONFIRMED,
        course=True,
        calendar="PUBLISH",
        shows_place=True,
    ),
    Case("booking_waitlisted", BookingMessage.BOOKING_WAITLISTED, BookingStatus.WAITLISTED, shows_place=True),
    Case(
        "booking_promoted",
        BookingMessage.BOOKING_PROMOTED,
        BookingStatus.CONFIRMED,
        calendar="PUBLISH",
        shows_place=True,
    ),
    Case(
        "booking_promoted (held)",
        BookingMessage.BOOKING_PROMOTED,
        BookingStatus.CONFIRMED,
        held=True,
        calendar="PUBLISH",
        shows_place=True,
    ),
    Case(
        "booking_cancelled (by them)",
        BookingMessage.BOOKING_CANCELLED,
        BookingStatus.CANCELLED,
        {"was": "confirmed", "why": "participant"},
        calendar="CANCEL",
    ),
    Case(
        "booking_cancelled (organiser)",
        BookingMessage.BOOKING_CANCELLED,
        BookingStatus.CANCELLED,
        {"was": "confirmed", "why": "organiser"},
        calendar="CANCEL",
    ),
    Case(
        "booking_cancelled (no answer)",
        BookingMessage.BOOKING_CANCELLED,
        BookingStatus.CANCELLED,
        {"was": "confirmed", "why": "no_answer"},
        calendar="CANCEL",
    ),
    Case(
        "booking_cancelled (left the waiting list)",
        BookingMessage.BOOKING_CANCELLED,
        BookingStatus.CANCELLED,
        {"was": "waitlisted", "why": "participant"},
    ),
    Case("reminder", BookingMessage.REMINDER, BookingStatus.CONFIRMED, calendar="PUBLISH", shows_place=True),
    Case("session_changed", BookingMessage.SESSION_CHANGED, BookingStatus.CONFIRMED, calendar="PUBLISH"),
    Case(
        "session_cancelled",
        BookingMessage.SESSION_CANCELLED,
        BookingStatus.CONFIRMED,
        {"message": "The teacher is ill.\nSee you next week!"},
        course=True,
        cancelled="session",
        calendar="CANCEL",
    ),
    Case(
        "offer_cancelled",
        BookingMessage.OFFER_CANCELLED,
        BookingStatus.CANCELLED,
        {"message": "We could not find a teacher."},
        cancelled="offer",
        calendar="CANCEL",
    ),
    Case("verify_email", AccountMessage.VERIFY_EMAIL),
    Case("password_reset", AccountMessage.PASSWORD_RESET),
    Case("account_exists (sign-up)", AccountMessage.ACCOUNT_EXISTS, payload={"reason": "signup"}),
    Case("account_exists (profile)", AccountMessage.ACCOUNT_EXISTS, payload={"reason": "profile"}),
    Case("contact_changed (address)", AccountMessage.CONTACT_CHANGED, payload={"what": "email"}),
    Case("contact_changed (phone)", AccountMessage.CONTACT_CHANGED, payload={"what": "phone"}),
    Case("activity_approved", CourseMessage.ACTIVITY_APPROVED),
    Case("activity_rejected", CourseMessage.ACTIVITY_REJECTED),
    Case("changes_approved", CourseMessage.CHANGES_APPROVED),
    Case("changes_rejected", CourseMessage.CHANGES_REJECTED),
]
#: the reason a coordinator gives for a no, on lines of its own
REASON = "Please add who it is for.\nAnd the price, if any."


@dataclass
class Rendered:
    """One e-mail as it went out, taken apart."""

    case: Case
    language: str
    message: EmailMessage
    text: str
    html: str
    place: str
    calendars: list[tuple[EmailMessage, Calendar]]
    #: The bytes the mailer hands the SMTP server, and the library's classic writing of the same
    #: message (CRLF line ends): ``WIRE`` only takes a shortcut, the bytes must not differ.
    wire: bytes
    classic: bytes


def _person(language: str, number: int) -> User:
    return factories.UserFactory(
        name=f"Person {number}", email=f"p{number}@example.org", locale=language, email_verified_at=utcnow()
    )


def _offer(kind: OfferKind = OfferKind.ACTIVITY, **values: Any) -> Any:
    location = db.session.scalar(sa.select(Location).where(Location.name == "Buurthuis Oost"))
    if location is None:
        location = factories.LocationFactory(name="Buurthuis Oost", address="Kanaalstraat 16")
    offer = factories.OfferFactory(
        kind=kind, title="Bike repair café", language="en", location=location, contact="Anna, 06 1234 5678", **values
    )
    db.session.add(OfferTranslation(offer=offer, locale="ar", title=ARABIC_TITLE, description="نصلح الدراجات معا."))
    db.session.commit()
    return offer


def _booking(case: Case, person: User) -> tuple[Booking, Any]:
    """A booking as the case has it, and the session the message is about."""
    if case.course:
        offer = _offer(OfferKind.COURSE)
        sessions = [factories.SessionFactory(offer=offer, starts_at=days_ahead(n)) for n in (3, 10)]
        session, unit = sessions[0], None
    else:
        offer = _offer()
        session = factories.SessionFactory(offer=offer)
        unit = session
    if case.cancelled == "session":
        session.status, session.cancelled_at = SessionStatus.CANCELLED, utcnow()
    if case.cancelled == "offer":
        offer.status, offer.cancelled_at = OfferStatus.CANCELLED, utcnow()
        session.status, session.cancelled_at = SessionStatus.CANCELLED, utcnow()
    booking = Booking(
        user_id=person.id,
        offer_id=offer.id,
        session_id=unit.id if unit is not None else None,
        status=case.status or BookingStatus.CONFIRMED,
        reference=new_reference(),
        confirmed_at=utcnow(),
        cancelled_at=utcnow() if case.status == BookingStatus.CANCELLED else None,
        hold_until=utcnow() + timedelta(hours=20) if case.held else None,
    )
    db.session.add(booking)
    db.session.commit()
    return booking, session


def _payload(case: Case, session: Any) -> dict[str, Any]:
    if case.kind == BookingMessage.SESSION_CHANGED:
        before = session.starts_at - timedelta(days=1)
        return {
            "starts_at": before.isoformat(),
            "ends_at": (before + timedelta(hours=2)).isoformat(),
            "place": "De Voorkamer, Lessinglaan 3, 3533 AT Utrecht",
        }
    if case.kind == AccountMessage.CONTACT_CHANGED:
        return {**case.payload, "to": "old@example.org"}
    return dict(case.payload)


def _decided(kind: CourseMessage, person: User) -> dict[str, Any]:
    """A volunteer's activity, or their changes to it, approved or not, as the message reports."""
    rejected = kind in (CourseMessage.ACTIVITY_REJECTED, CourseMessage.CHANGES_REJECTED)
    offer = _offer(organiser=person)
    if kind in (CourseMessage.ACTIVITY_APPROVED, CourseMessage.ACTIVITY_REJECTED):
        offer.status = OfferStatus.REJECTED if rejected else OfferStatus.PUBLISHED
        offer.rejection_reason = REASON if rejected else ""
        db.session.commit()
        return {"offer_id": offer.id}
    revision = OfferRevision(
        offer=offer,
        author_id=person.id,
        changes={"title": "Bike repair café for everyone"},
        status=RevisionStatus.REJECTED if rejected else RevisionStatus.APPROVED,
        reason=REASON if rejected else "",
    )
    db.session.add(revision)
    db.session.commit()
    return {"offer_id": offer.id, "revision_id": revision.id}


def _render(app: Flask, case: Case, language: str, number: int) -> Rendered:
    with app.app_context():
        person = _person(language, number)
        row = Notification(kind=str(case.kind), user_id=person.id, channel="email")
        place = ""
        if case.status is not None:
            booking, session = _booking(case, person)
            row.booking_id, row.session_id = booking.id, session.id
            place = session.place.one_line
        else:
            session = None
        row.payload = _payload(case, session)
        if case.kind == AccountMessage.VERIFY_EMAIL:
            person.email_verified_at = None
            row.payload = {"email": person.email}
        if case.kind == AccountMessage.ACCOUNT_EXISTS and case.payload["reason"] == "signup":
            person.email_verified_at = None  # the link then confirms the address
        if case.kind in set(CourseMessage):
            row.payload = _decided(CourseMessage(case.kind), person)
        out = registry.render(row)
        assert isinstance(out, Outgoing), f"{case.name} in {language} was not written: {out!r}"
        db.session.rollback()
    wire = out.content.as_bytes(policy=WIRE)
    message = email.message_from_bytes(wire, policy=default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    calendars = [
        (part, Calendar.from_ical(part.get_payload(decode=True)))
        for part in message.iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]
    classic = out.content.as_bytes(policy=compat32.clone(linesep="\r\n"))
    return Rendered(case, language, message, text, page, place, calendars, wire, classic)


def _render_all(app: Flask, cases: list[Case]) -> list[Rendered]:
    found = []
    for number, language in enumerate(LANGUAGES):
        for index, case in enumerate(cases):
            found.append(_render(app, case, language, number * 100 + index))
    return found


@pytest.fixture(scope="module")
def every_message(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Rendered]]:
    """Every case in every language, rendered once for the tests that read them (a few hundred
    messages take a while), on an app and a database of their own: a test that follows a
    message's link into its own app renders that message there (``rendered_here``)."""
    folder = tmp_path_factory.mktemp("rendering")
    shutil.copy(sqlite_template, folder / "einstein.sqlite")
    app = create_app(
        base_config(f"sqlite:///{folder / 'einstein.sqlite'}", folder, BASE_URL=BASE_URL, MAIL_FROM=MAIL_FROM)
    )
    yield _render_all(app, CASES)
    with app.app_context():
        db.engine.dispose()


def _labels(app: Flask, language: str) -> dict[str, str]:
    """The labels that start a line of their own, as the language writes them."""
    with app.test_request_context(), force_locale(language):
        return {
            label: gettext(label)
            for label in ("Where:", "Map:", "Contact:", "Booking reference:", "When:", "Was:", "Now:")
        }


URL = re.compile(r"https?://[^\s<>\"]+")


def test_every_kind_that_goes_by_e_mail_is_rendered_here(app) -> None:
    covered = {str(case.kind) for case in CASES}
    by_email = {kind for kind in registry.kinds() if "email" in registry.message_type(kind).renderers}
    assert by_email - covered == set(), "a kind of e-mail nobody renders in tests/notifications/test_rendering.py"


def test_every_message_in_every_language_reads_line_by_line(app, every_message) -> None:
    problems: list[str] = []
    for found in every_message:
        where = f"{found.case.name} in {found.language}"
        labels = _labels(app, found.language)
        lines = found.text.splitlines()
        if "{{" in found.text or "{%" in found.text or "{{" in found.html:
            problems.append(f"{where}: a template tag was not rendered")
        for line in lines:
            # a label only ever starts a line (after a list dash), and never two on one line
            starts = [label for label in labels.values() if label in line]
            if len(starts) > 1 or any(not line.removeprefix("- ").startswith(label) for label in starts):
                problems.append(f"{where}: glued line {line!r}")
            # a link stands at the end of its line, after a space or alone
            for match in URL.finditer(line):
                before = line[: match.start()]
                if (before and not before.endswith(" ")) or match.end() != len(line.rstrip()):
                    problems.append(f"{where}: a link glued to its neighbours: {line!r}")
        if found.case.shows_place:
            address = [line for line in lines if line.startswith(labels["Where:"])]
            if len(address) != 1 or ADDRESS not in address[0]:
                problems.append(f"{where}: no line of its own with the address: {lines}")
            else:
                after = lines[lines.index(address[0]) + 1]
                if not after.startswith(labels["Map:"] + " https://"):
                    problems.append(f"{where}: the map link is not on the line after the address: {after!r}")
        rejected = found.case.kind in (CourseMessage.ACTIVITY_REJECTED, CourseMessage.CHANGES_REJECTED)
        if rejected and not set(REASON.splitlines()) <= set(lines):
            problems.append(f"{where}: the reason is not on lines of its own: {lines}")
        if found.case.kind == BookingMessage.SESSION_CHANGED:
            was = [line for line in lines if line.startswith(labels["Was:"])]
            now = [line for line in lines if line.startswith(labels["Now:"])]
            if len(was) != 1 or len(now) != 1 or "Lessinglaan" not in was[0] or ADDRESS not in now[0]:
                problems.append(f"{where}: 'Was:' and 'Now:' are not two lines: {lines}")
    assert problems == []


def test_the_text_part_is_not_glued_at_all_in_english(app) -> None:
    """The two lines the issue saw, as a person reads them."""
    confirmed = _render(app, CASES[0], "en", 1)
    assert f"Where: Buurthuis Oost, {ADDRESS} (reachable without steps)\nMap: https://" in confirmed.text
    changed = _render(app, next(c for c in CASES if c.kind == BookingMessage.SESSION_CHANGED), "en", 2)
    assert re.search(
        r"\nWas: [^\n]+, De Voorkamer, Lessinglaan 3, 3533 AT Utrecht\nNow: [^\n]+, Buurthuis Oost", changed.text
    )


def test_every_calendar_is_utf_8_with_the_method_it_carries(app, every_message) -> None:
    problems: list[str] = []
    for found in every_message:
        where = f"{found.case.name} in {found.language}"
        expected = found.case.calendar
        if expected is None:
            if found.calendars:
                problems.append(f"{where}: a calendar that should not be there")
            continue
        if len(found.calendars) != 1:
            problems.append(f"{where}: {len(found.calendars)} calendars")
            continue
        part, calendar = found.calendars[0]
        params = dict(part.get_params() or [])
        if params.get("charset", "").lower() != "utf-8" or params.get("method") != expected:
            problems.append(f"{where}: Content-Type {part['Content-Type']}")
        if calendar.get("method") != expected:
            problems.append(f"{where}: METHOD {calendar.get('method')} in a {expected} attachment")
        for event in calendar.walk("VEVENT"):
            if not str(event["uid"]).endswith("@einstein.example.org"):
                problems.append(f"{where}: UID {event['uid']}")
            if expected == "CANCEL" and event["status"] != "CANCELLED":
                problems.append(f"{where}: a CANCEL of an event that is {event['status']}")
            if "organizer" not in event:
                problems.append(f"{where}: no ORGANIZER")
            wanted = ARABIC_TITLE if found.language == "ar" else "Bike repair café"
            if str(event["summary"]) != wanted:
                problems.append(f"{where}: SUMMARY {event['summary']!r}")
    assert problems == []


def test_a_course_booking_cancelled_takes_every_session_out_of_the_calendar(app) -> None:
    case = Case(
        "course cancelled",
        BookingMessage.BOOKING_CANCELLED,
        BookingStatus.CANCELLED,
        {"was": "confirmed", "why": "participant"},
        course=True,
        calendar="CANCEL",
    )
    found = _render(app, case, "nl", 1)
    ((_part, calendar),) = found.calendars
    events = calendar.walk("VEVENT")
    assert len(events) == 2 and {str(e["status"]) for e in events} == {"CANCELLED"}
    assert calendar["method"] == "CANCEL"


def _links(found: Rendered) -> list[str]:
    in_text = URL.findall(found.text)
    in_html = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', found.html)]
    return in_text + in_html


def test_every_link_opens_in_the_recipients_language(app, every_message) -> None:
    problems: list[str] = []
    for found in every_message:
        ours = [link for link in _links(found) if urlsplit(link).hostname == "einstein.example.org"]
        if not ours:
            problems.append(f"{found.case.name} in {found.language}: no link at all")
        for link in ours:
            if parse_qs(urlsplit(link).query).get("lang") != [found.language]:
                problems.append(f"{found.case.name} in {found.language}: {link}")
        header = found.message["List-Unsubscribe"]
        if header and f"lang={found.language}" not in header:
            problems.append(f"{found.case.name} in {found.language}: List-Unsubscribe {header}")
    assert problems == []


def test_the_wire_writing_is_the_librarys_byte_for_byte(app, every_message) -> None:
    for found in every_message:
        assert found.wire == found.classic, f"{found.case.name} in {found.language}"
        # RFC 5322's hard limit (a long link in List-Unsubscribe cannot be folded shorter than 78)
        assert all(len(line) <= 998 for line in found.wire.split(b"\r\n")), f"{found.case.name}: a line too long"
        assert b"\n" not in found.wire.replace(b"\r\n", b""), "a bare LF on the wire"


def test_headers_say_who_sent_it_and_in_which_language(app, every_message) -> None:
    for found in every_message:
        assert re.fullmatch(r"<[^@>]+@post\.einstein-utrecht\.nl>", found.message["Message-ID"]), found.case.name
        assert found.message["Content-Language"] == found.language
        direction = LANGUAGES[found.language].direction
        assert f'<html lang="{found.language}" dir="{direction}">' in found.html


def test_only_reminders_carry_a_one_click_unsubscribe(app, every_message) -> None:
    for found in every_message:
        if found.case.kind != BookingMessage.REMINDER:
            assert found.message["List-Unsubscribe"] is None, found.case.name
            continue
        header = found.message["List-Unsubscribe"].strip()  # folded onto a line of its own: one value
        assert re.fullmatch(rf"<{BASE_URL}/unsubscribe/[A-Za-z0-9_.\-]+\?lang={found.language}>", header)
        assert found.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # and the person can read it too, at the foot of the e-mail
        link = header.strip("<>")
        assert link in found.text and html.escape(link) in found.html


def test_the_session_changed_message_carries_the_one_click_cancel_link(app, client) -> None:
    """'If you cannot come any more, please cancel': with the link that does it, as in a reminder."""
    for found in _render_all(app, [case for case in CASES if case.kind == BookingMessage.SESSION_CHANGED]):
        cancel = [link for link in URL.findall(found.text) if "/cancel/" in link]
        assert len(cancel) == 1, found.text
        hrefs = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', found.html)]
        assert cancel[0] in hrefs
    # and it opens the page that cancels, in the person's language
    page = client.get(cancel[0].removeprefix(BASE_URL), headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and f'<html lang="{found.language}"' in page.get_data(as_text=True)


def test_the_session_changed_text_message_links_to_where_one_cancels(app, client) -> None:
    """Two segments leave no room for a second link: the text's one link is the booking's own
    page, where cancelling is one tap."""
    case = next(c for c in CASES if c.kind == BookingMessage.SESSION_CHANGED)
    with app.app_context():
        person = factories.UserFactory(email=None, phone="+31612345678", phone_verified_at=utcnow(), locale="en")
        booking, session = _booking(case, person)
        row = Notification(
            kind=str(case.kind), user_id=person.id, booking_id=booking.id, session_id=session.id, channel="sms"
        )
        row.payload = _payload(case, session)
        app.config.update(SMS_QUIET_FROM=24, SMS_QUIET_UNTIL=0)
        out = registry.render(row)
        assert isinstance(out, Outgoing)
        code = short_code(booking)
    assert re.search(rf"einstein\.example\.org/b/{code}$", out.content), out.content
    page = client.get(f"/b/{code}").get_data(as_text=True)
    assert f'action="/b/{code}/cancel"' in page or f'href="/b/{code}/cancel"' in page


def test_dates_follow_each_languages_own_order(app, every_message) -> None:
    """The same moment, as each language writes it (Babel's skeletons and intervals)."""
    reminders = {found.language: found for found in every_message if found.case.name == "reminder"}
    start = days_ahead(3)
    with app.test_request_context():
        for language, found in reminders.items():
            with force_locale(language):
                assert format_when(start, start + timedelta(hours=2)) in found.text
    assert re.search(r"\d{1,2} \w+ \w+ 10:00–12:00", reminders["tr"].text)  # "24 Kasım Salı 10:00–12:00"
    assert "، " in reminders["ar"].text.split(gettext_in(app, "ar", "When:"))[1].splitlines()[0]


def gettext_in(app: Flask, language: str, text: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(text)


def _sequence(session_id: int) -> int:
    session = db.session.get(OfferSession, session_id)
    (event,) = Calendar.from_ical(calendar_bytes([session], "x", "en")).walk("VEVENT")
    return int(event["sequence"])


def test_the_sequence_grows_only_when_what_a_calendar_shows_changes(app, coordinator) -> None:
    """A calendar takes an update only with a higher SEQUENCE; a booking or a save without a
    change must not make every phone calendar think the event changed."""
    with app.app_context():
        editor = db.session.get(User, coordinator.id)
        offer = _offer()
        session = factories.SessionFactory(offer=offer, starts_at=days_ahead(5))
        db.session.commit()
        assert _sequence(session.id) == 0
        person = _person("nl", 1)
        _booking(Case("booked", BookingMessage.BOOKING_CONFIRMED, BookingStatus.CONFIRMED), person)
        session.capacity = 30  # places are no business of a calendar's
        db.session.commit()
        assert _sequence(session.id) == 0

        def save(starts_at: Any, location: Any) -> None:
            operations.change_session(
                session,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                location=location,
                capacity=None,
                languages=session.language_codes,
                editor=editor,
            )
            db.session.commit()

        save(session.starts_at, session.location)  # saved as it was
        assert _sequence(session.id) == 0
        save(session.starts_at + timedelta(days=1), session.location)  # a new day
        assert _sequence(session.id) == 1
        save(session.starts_at, factories.LocationFactory(name="De Voorkamer"))  # a new place
        assert _sequence(session.id) == 2
        operations.cancel_session(session)
        db.session.commit()
        assert _sequence(session.id) == 3
        # and only this session's changes count for it
        other = factories.SessionFactory(offer=offer, starts_at=days_ahead(12))
        db.session.commit()
        assert _sequence(other.id) == 0
