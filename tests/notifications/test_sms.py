"""Text messages: what they cost, how they are written, and who gets them, without servers.

The gateway itself (Kannel with a fake operator) is in ``test_sms_gateway.py``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.db import db, utcnow
from einstein.i18n import LANGUAGES, TIMEZONE
from einstein.models import Notification, NotificationKind, NotificationStatus
from einstein.notifications.channels import (
    ChannelUnavailableError,
    Outgoing,
    UnconfirmedDelivery,
)
from einstein.notifications.segments import cost
from einstein.notifications.sms import SmsChannel, daytime
from tests import factories
from tests.support import sms as texts
from tests.support.outbox import deliver, queued
from tests.support.servers import free_port

QUIET_HOURS_OFF = {"SMS_QUIET_FROM": 24, "SMS_QUIET_UNTIL": 0}


@pytest.fixture
def app_config():
    return {"BASE_URL": texts.BASE_URL, **QUIET_HOURS_OFF}


# --- segments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "coding", "segments"),
    [
        ("a" * 160, "gsm7", 1),
        ("a" * 161, "gsm7", 2),
        ("a" * 306, "gsm7", 2),
        ("a" * 307, "gsm7", 3),
        ("€" * 80, "gsm7", 1),  # the extension table costs two septets a character
        ("€" * 81, "gsm7", 2),
        ("Çà ñ ü é ß", "gsm7", 1),
        ("ç" * 70, "ucs2", 1),  # a lower-case ç is not in GSM-7: the whole text becomes UCS-2
        ("ş" * 71, "ucs2", 2),
        ("م" * 134, "ucs2", 2),
        ("م" * 135, "ucs2", 3),
        ("ሰላም" * 23, "ucs2", 1),
        ("😀" * 35, "ucs2", 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, "ucs2", 2),
    ],
)
def test_segments_follow_the_codings(text, coding, segments) -> None:
    found = cost(text)
    assert (found.coding, found.segments) == (coding, segments)


def test_every_text_fits_its_budget_in_every_language_with_the_longest_titles(app) -> None:
    found = texts.texts(app, texts.LONG_TITLE, texts.LONG_PLACE)
    assert {t.language for t in found} == set(LANGUAGES)
    assert len(found) == len(LANGUAGES) * (len(texts.BOOKING_TEXTS) + len(texts.ACCOUNT_TEXTS))
    assert len(texts.LONG_TITLE) == 200 and len(texts.LONG_PLACE) == 120  # the longest the forms allow
    over = [(t.language, t.message, t.segments, t.content) for t in found if t.segments > texts.BUDGET]
    assert over == []
    # a shortened title keeps a Latin-script text in GSM-7 (no "…", which would make it UCS-2)
    assert [t for t in found if t.language in ("en", "nl", "so") and t.coding != "gsm7"] == []
    for text in found:
        if text.reference is None:
            continue
        # the reference and the link are never cut; the title gives way, but stays recognisable
        assert text.reference in text.content, text
        if "no answer" not in text.message and "by them" not in text.message:
            assert text.link in text.content, text
        assert texts.LONG_TITLE[:12] in text.content, text


def test_short_titles_are_never_cut(app) -> None:
    found = texts.texts(app, texts.SHORT_TITLE, texts.SHORT_PLACE)
    for text in found:
        if text.reference is not None:
            assert texts.SHORT_TITLE in text.content, text
            assert text.segments <= texts.BUDGET


def test_texts_in_other_scripts_go_as_ucs2_and_are_not_in_english(app) -> None:
    found = {(t.language, t.message): t for t in texts.texts(app, texts.SHORT_TITLE, texts.SHORT_PLACE)}
    for language in ("ar", "ti", "fa", "uk"):
        reminder = found[language, "reminder"]
        assert reminder.coding == "ucs2"
        assert reminder.content != found["en", "reminder"].content.replace(
            found["en", "reminder"].reference, reminder.reference
        )
        assert "Reminder" not in reminder.content
    assert found["nl", "reminder"].coding == "gsm7"


# --- quiet hours -------------------------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)


@pytest.mark.parametrize(
    ("now", "deadline", "expected"),
    [
        ("2027-03-27 12:00", "2027-03-30 10:00", None),  # daytime: at once
        ("2027-03-27 20:59", "2027-03-30 10:00", None),
        ("2027-03-27 21:00", "2027-03-30 10:00", "2027-03-28 08:00"),  # the night the clocks go forward
        ("2027-03-28 02:30", "2027-03-30 10:00", "2027-03-28 08:00"),
        ("2027-03-28 07:59", "2027-03-30 10:00", "2027-03-28 08:00"),
        ("2027-03-28 08:00", "2027-03-30 10:00", None),
        ("2027-10-30 23:30", "2027-10-31 07:00", None),  # due before morning: it goes now
        ("2027-10-30 23:30", "2027-10-31 09:00", "2027-10-31 08:00"),  # the night the clocks go back
    ],
)
def test_no_text_at_night_unless_it_is_due_before_morning(make_app, database, now, deadline, expected) -> None:
    app = make_app(database)
    with app.app_context():
        wake = daytime(_at(now).astimezone(UTC), _at(deadline))
    assert (wake.astimezone(TIMEZONE).isoformat(" ", "minutes")[:16] if wake else None) == expected


def _phone_only_booking(app, starts_at: datetime) -> int:
    with app.app_context():
        person = factories.UserFactory(email=None, phone="+31620000001", phone_verified_at=utcnow(), locale="nl")
        session = factories.SessionFactory(starts_at=starts_at, offer__title="Fietsles")
        booking = bookings.book(person, Target.of_session(session))
        db.session.commit()
        return booking.id


def test_a_reminder_due_at_night_waits_for_the_morning_and_goes_once(make_app, database, tmp_path) -> None:
    app = make_app(database, SMS_FILE_DIR=str(tmp_path / "sms"))
    evening = _at("2027-03-26 22:00")
    with time_machine.travel(evening, tick=False):
        booking_id = _phone_only_booking(app, _at("2027-03-28 19:00"))
        deliver(app)  # the confirmation, at night: it waits too (nothing urgent)
        assert not (tmp_path / "sms").exists()
        with app.app_context():
            rows = list(db.session.scalars(sa.select(Notification).where(Notification.booking_id == booking_id)))
            waiting = {row.kind: row.due_at for row in rows if row.status == NotificationStatus.PENDING}
        assert waiting[NotificationKind.BOOKING_CONFIRMED] == _at("2027-03-27 08:00")
    with time_machine.travel(_at("2027-03-27 08:01"), tick=False):
        deliver(app)
        deliver(app)
    [text] = (tmp_path / "sms").glob("*.txt")
    content = text.read_text("utf-8")
    assert "To: +31620000001" in content and "Coding: GSM-7" in content and "Fietsles" in content


# --- delivery reports --------------------------------------------------------------------------


def _sent_text(app) -> int:
    with app.app_context():
        person = factories.UserFactory(email=None, phone="+31620000002", phone_verified_at=utcnow())
        row = Notification(
            kind="reminder", user_id=person.id, channel="sms", status=NotificationStatus.SENT, sent_at=utcnow()
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _report(client, app, **query):
    return client.get("/sms/dlr", query_string={"secret": app.config["SMS_CALLBACK_SECRET"], **query})


def test_delivery_reports_update_the_row_in_any_order(app, client) -> None:
    row_id = _sent_text(app)
    assert _report(client, app, id=row_id, status=8).status_code == 200
    assert queued(app, id=row_id)[0].delivery == "accepted"
    assert _report(client, app, id=row_id, status=1).status_code == 200
    assert _report(client, app, id=row_id, status=8).status_code == 200  # late, and out of order
    [row] = queued(app, id=row_id)
    assert (row.delivery, row.status) == ("delivered", NotificationStatus.SENT) and row.delivered_at is not None


def test_a_text_the_operator_could_not_deliver_shows_as_failed(app, client, coordinator) -> None:
    row_id = _sent_text(app)
    assert _report(client, app, id=row_id, status=16).status_code == 200
    [row] = queued(app, id=row_id)
    assert row.status == NotificationStatus.FAILED and "rejected" in row.last_error
    client.sign_in(coordinator)
    page = client.get("/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the operator reports: rejected" in page


@pytest.mark.parametrize(
    "query",
    [{"id": "1", "status": "1", "secret": "wrong"}, {"id": "1", "status": "1", "secret": ""}, {"id": "1"}],
)
def test_reports_without_the_secret_are_refused(app, client, query) -> None:
    row_id = _sent_text(app)
    response = client.get("/sms/dlr", query_string={**query, "id": row_id})
    assert response.status_code == 403
    assert queued(app, id=row_id)[0].delivery is None


@pytest.mark.parametrize(
    "query",
    [
        {"status": "1"},
        {"id": "x", "status": "1"},
        {"id": "99999999999999999999", "status": "1"},
        {"id": "1", "status": "3"},
        {"id": "1", "status": "<script>"},
        {"id": "-1", "status": "1"},
    ],
)
def test_odd_reports_are_bad_requests(app, client, query) -> None:
    assert _report(client, app, **query).status_code == 400


def test_a_report_for_an_unknown_text_changes_nothing(app, client) -> None:
    assert _report(client, app, id=424242, status=1).status_code == 200


# --- what texts cost, on the messages page -----------------------------------------------------


def test_the_messages_page_counts_segments_sent_and_planned(app, client, coordinator) -> None:
    with app.app_context():
        person = factories.UserFactory(email=None, phone="+31620000003", phone_verified_at=utcnow())
        for segments in (1, 2, 2):
            db.session.add(
                Notification(
                    kind="reminder",
                    user_id=person.id,
                    channel="sms",
                    status=NotificationStatus.SENT,
                    sent_at=utcnow() - timedelta(days=1),
                    segments=segments,
                )
            )
        for days in (1, 2, 40):
            db.session.add(
                Notification(kind="reminder", user_id=person.id, channel="sms", due_at=utcnow() + timedelta(days=days))
            )
        db.session.commit()
    client.sign_in(coordinator)
    page = client.get("/outbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sent in the last 30 days: 3 texts, 5 segments" in page
    assert "Planned for the next 30 days: 2 texts, about 3 segments" in page  # 2 x 5/3, rounded


# --- the gateway's shared secret ---------------------------------------------------------------


def test_production_with_a_gateway_needs_the_callback_secret_written_down() -> None:
    from einstein.config import ConfigurationError, check_config

    base = {"ENV": "production", "SECRET_KEY": "x" * 48, "RATELIMIT_STORAGE_URI": "redis://x:6379/0"}
    check_config(dict(base))  # no gateway: texts go to files, nothing to share
    for secret in (None, "", "short"):
        with pytest.raises(ConfigurationError, match="SMS_CALLBACK_SECRET"):
            check_config(
                {**base, "SMS_GATEWAY_URL": "http://kannel:13013/cgi-bin/sendsms", "SMS_CALLBACK_SECRET": secret}
            )
    given = {**base, "SMS_GATEWAY_URL": "http://kannel:13013/cgi-bin/sendsms", "SMS_CALLBACK_SECRET": "s" * 24}
    check_config(given)
    assert given["SMS_CALLBACK_SECRET"] == "s" * 24


# --- what the gateway's answer (or its silence) means -------------------------------------------


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A server that reads a request and closes the connection without answering it, as smsbox does
    with a request it took in the moment bearerbox crashed (tests/support/KANNEL.md)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)

        def serve() -> None:
            with contextlib.suppress(OSError):
                connection, _ = server.accept()
                with connection:
                    connection.recv(65536)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield server.getsockname()[1]
        thread.join(timeout=5)


def _send_through(app, port: int) -> None:
    app.config.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{port}/cgi-bin/sendsms", SMS_TIMEOUT=5)
    with app.app_context(), SmsChannel().connect() as connection:
        connection.send(Outgoing("+31612345678", "Tot morgen"), notification_id=1)


def test_a_gateway_that_hangs_up_on_a_request_may_have_sent_it(app, hangs_up) -> None:
    # trying again could send the text twice: it counts as sent, unconfirmed
    with pytest.raises(UnconfirmedDelivery, match="closed the connection"):
        _send_through(app, hangs_up)


def test_a_gateway_that_refuses_the_connection_has_sent_nothing(app) -> None:
    with pytest.raises(ChannelUnavailableError, match="cannot be reached"):
        _send_through(app, free_port())


@pytest.mark.postgres
def test_a_gateway_away_is_tried_once_a_batch_and_the_other_texts_put_off(app) -> None:
    app.config.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms")
    with time_machine.travel(_at("2027-05-12 12:00")):  # not in the quiet hours
        with app.app_context():
            session = factories.SessionFactory(starts_at=utcnow() + timedelta(days=3), capacity=5)
            for i in range(3):
                person = factories.UserFactory(email=None, phone=f"+3162000020{i}", phone_verified_at=utcnow())
                bookings.book(person, Target.of_session(session))
            db.session.commit()
        report = deliver(app)
    assert len(report.retry) == 1 and len(report.later) == 2 and not report.sent
    assert "cannot be reached" in report.unavailable["sms"]
    put_off = [row for row in queued(app, NotificationKind.BOOKING_CONFIRMED) if row.id in report.later]
    assert [(row.attempts, row.last_error[:10]) for row in put_off] == [(0, "not tried:")] * 2
