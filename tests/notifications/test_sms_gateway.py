"""Texts through a real SMS gateway, end to end.

Real parts only: Kannel (bearerbox and smsbox) with ``fakesmsc`` as the operator, einstein
served by gunicorn (where Kannel calls back with replies and delivery reports), Redis, and a
Celery worker and beat, all started by these tests on free ports of 127.0.0.1.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.config import default_config
from einstein.db import db, utcnow
from einstein.models import Booking, BookingStatus, Notification, NotificationStatus, User
from tests import factories
from tests.conftest import SECRET_KEY
from tests.support.http import Gunicorn, server_env
from tests.support.kannel import KannelGateway
from tests.support.reminders import due_reminders, statuses
from tests.support.servers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The secret Kannel's sms-service and einstein share (it is in every call back).
SECRET = "sms-callback-test-secret"
#: Sweeps, claims and retries fast enough to watch; and no quiet hours (these tests run at any hour).
FAST = {
    "EINSTEIN_SWEEP_SECONDS": "1",
    "EINSTEIN_MAIL_CLAIM_SECONDS": "3",
    "EINSTEIN_MAIL_REQUEUE_SECONDS": "3",
    "EINSTEIN_MAIL_RETRY_SECONDS": "1",
    "EINSTEIN_SMS_QUIET_FROM": "24",
    "EINSTEIN_SMS_QUIET_UNTIL": "0",
    "EINSTEIN_SMS_TIMEOUT": "2",
}


@pytest.fixture
def app_config(redis_server, tmp_path):
    """The app under test (the desk, the bookings) publishes to the real Redis."""
    return {
        "CELERY": default_config(tmp_path, environ={"REDIS_URL": redis_server.url})["CELERY"],
        "SMS_CALLBACK_SECRET": SECRET,
        "SMS_QUIET_FROM": 24,
        "SMS_QUIET_UNTIL": 0,
    }


class Stack:
    """Kannel, the site it calls back, and what starts the worker that talks to it."""

    def __init__(self, gateway: KannelGateway, site: Gunicorn, start: Any) -> None:
        self.gateway, self.site, self._start = gateway, site, start
        self.worker: Any = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **FAST,
            "SMS_GATEWAY_URL": self.gateway.sendsms_url,
            "SMS_USERNAME": self.gateway.username,
            "SMS_PASSWORD": self.gateway.password,
            "EINSTEIN_SMS_CALLBACK_SECRET": SECRET,
            "BASE_URL": self.site.url,
        }

    def start_worker(self, beat: bool = True, **extra: str) -> Any:
        self.worker = self._start(extra_env={**self.env, **extra})
        if beat:
            self._start(kind="beat", extra_env={**self.env, **extra})
        return self.worker

    def texts_to(self, number: str, word: str = "") -> list[Any]:
        """The texts the operator got for ``number`` (those with ``word`` in them, as a word).

        A whole word: the letters of booking references and short codes include J and A, so
        any text could carry "JA" inside a code by chance (about one text in fifty: its
        reference and short code hold 13 pairs of random letters from 27), and a waiting-list
        text then counted as the text that asks for a yes."""
        found = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)" if word else "")
        return [
            m for m in self.gateway.mt_messages if m.receiver.lstrip("+") == number.lstrip("+") and found.search(m.text)
        ]


@pytest.fixture
def stack(database, tmp_path, redis_server, smtp, start_celery) -> Iterator[Stack]:
    redis_server.flush()
    env = server_env(database, tmp_path, SECRET_KEY)
    env.pop("EINSTEIN_CELERY__broker_url")
    env.update({"REDIS_URL": redis_server.url, "EINSTEIN_SMS_CALLBACK_SECRET": SECRET})
    site = Gunicorn(env, tmp_path, workers=2, threads=2)
    (tmp_path / "kannel").mkdir()
    gateway = KannelGateway(f"{site.url}/sms/inbound", secret=SECRET, directory=tmp_path / "kannel")
    gateway.start()
    site.start()

    def start(**kwargs: Any) -> Any:
        return start_celery(database, redis_server.url, smtp.port, **kwargs)

    yield Stack(gateway, site, start)
    site.stop()
    gateway.stop()


def _row(app, **filters) -> Notification:
    with app.app_context():
        row = db.session.scalar(sa.select(Notification).filter_by(**filters).order_by(Notification.id.desc()))
        db.session.expunge_all()
        return row


@pytest.mark.postgres
def test_a_desk_person_with_only_a_phone_gets_the_confirmation_in_their_language(
    app, client, coordinator, activity, stack
) -> None:
    stack.start_worker(beat=False)
    client.sign_in(coordinator)
    new = {"name": "Hodan Abdi", "phone": "06 1111 2222", "email": "", "locale": "ar", "audience": "unsaid"}
    response = client.post("/desk/people/new", data={**new, "consent": "y"})
    assert response.status_code == 302
    person_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/desk/people/{person_id}", data={"target": f"session-{activity['session_id']}"}).status_code
    [text] = stack.gateway.wait_for_mt(1, timeout=30)
    with app.app_context():
        reference = db.session.scalar(sa.select(Booking.reference))
    assert text.receiver.endswith("31611112222") and text.sender == app.config["SMS_SENDER"]
    assert text.coding == "ucs2" and text.parts <= 2
    assert reference in text.text and "Bike repair café" in text.text
    assert "حجز" in text.text or "محجوز" in text.text  # written in Arabic, not in English
    assert "Booked" not in text.text
    # the operator's delivery report comes back through Kannel to einstein
    wait_for(lambda: _row(app, kind="booking_confirmed").delivery == "delivered", timeout=20, what="the report")
    row = _row(app, kind="booking_confirmed")
    assert (row.channel, row.status, row.segments) == ("sms", NotificationStatus.SENT, text.parts)


@pytest.mark.postgres
def test_reminders_by_sms_arrive_once_each(app, stack) -> None:
    ids = due_reminders(app, 12, by_sms=True)
    stack.start_worker()
    stack.gateway.wait_for_mt(len(ids), timeout=60)
    time.sleep(4)  # several more sweeps: nothing may come twice
    references = _references(app)
    received = Counter(ref for m in stack.gateway.mt_messages for ref in references if ref in m.text)
    assert set(received) == set(references) and max(received.values()) == 1
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)


def _references(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Booking.reference)))


def _stopped(app, phone: str) -> bool:
    with app.app_context():
        return db.session.scalar(sa.select(User.sms_stopped_at).where(User.phone == phone)) is not None


def _line_up(app, *, hold_hours: int = 24) -> dict[str, Any]:
    """An activity with one place that asks for a yes; a person with e-mail has it, and two
    phone-only people (Arabic, then Dutch) wait."""
    with app.app_context():
        session = factories.SessionFactory(
            starts_at=utcnow() + timedelta(days=3),
            offer__capacity=1,
            offer__promotion_hold=True,
            offer__promotion_hours=hold_hours,
            offer__title="Taalcafé",
        )
        target = Target.of_session(session)
        first = factories.UserFactory(name="First")
        hodan = factories.UserFactory(name="Hodan", email=None, phone="+31611110001", phone_verified_at=utcnow())
        hodan.locale = "ar"
        piet = factories.UserFactory(name="Piet", email=None, phone="+31611110002", phone_verified_at=utcnow())
        piet.locale = "nl"
        ids = {}
        for name, person in (("first", first), ("hodan", hodan), ("piet", piet)):
            ids[name] = bookings.book(person, target).id
        db.session.commit()
        return ids


def _status(app, booking_id: int) -> tuple[BookingStatus, bool]:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        return booking.status, booking.hold_until is not None


def _cancel(app, booking_id: int) -> None:
    with app.app_context():
        bookings.cancel(db.session.get(Booking, booking_id))
        db.session.commit()


def test_a_yes_by_text_through_the_operator_keeps_the_place(app, stack) -> None:
    ids = _line_up(app)
    stack.start_worker()
    wait_for(lambda: stack.texts_to("+31611110002"), timeout=30, what="the waiting-list texts")
    _cancel(app, ids["first"])
    wait_for(lambda: stack.texts_to("+31611110001", "نعم"), timeout=30, what="the text that a place came free")
    assert _status(app, ids["hodan"]) == (BookingStatus.CONFIRMED, True)
    before = len(stack.texts_to("+31611110001"))
    # she answers from her phone, in Arabic: the operator, Kannel, then einstein
    stack.gateway.send_from_phone("+31611110001", "نعم")
    wait_for(lambda: _status(app, ids["hodan"]) == (BookingStatus.CONFIRMED, False), timeout=20, what="the yes")
    wait_for(lambda: len(stack.texts_to("+31611110001")) == before + 1, timeout=30, what="the confirmation")
    assert _status(app, ids["piet"]) == (BookingStatus.WAITLISTED, False)
    assert stack.texts_to("+31611110002", "JA") == []


def test_without_an_answer_the_place_goes_to_the_next_person(app, stack) -> None:
    ids = _line_up(app)
    stack.start_worker()
    # her waiting-list text first: sent after the one below, it would be counted as the text that
    # the place went on (or arrive in the same batch, so that the count below skips a number)
    wait_for(lambda: stack.texts_to("+31611110001"), timeout=30, what="her waiting-list text")
    _cancel(app, ids["first"])
    wait_for(lambda: stack.texts_to("+31611110001", "نعم"), timeout=30, what="the text that a place came free")
    before = len(stack.texts_to("+31611110001"))
    with app.app_context():  # the window passes
        db.session.get(Booking, ids["hodan"]).hold_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # the beat releases it (every SWEEP_SECONDS); Piet is asked in turn, in Dutch
    wait_for(lambda: stack.texts_to("+31611110002", "JA"), timeout=30, what="the next person's text")
    assert _status(app, ids["hodan"])[0] == BookingStatus.CANCELLED
    wait_for(lambda: len(stack.texts_to("+31611110001")) == before + 1, timeout=30, what="the text that it went on")
    # a late yes keeps nothing
    stack.gateway.send_from_phone("+31611110001", "نعم")
    time.sleep(2)
    assert _status(app, ids["hodan"])[0] == BookingStatus.CANCELLED


def test_stop_ends_texts_and_the_person_goes_on_the_call_list(app, stack) -> None:
    ids = _line_up(app)
    stack.start_worker()
    wait_for(lambda: stack.texts_to("+31611110001"), timeout=30, what="her waiting-list text")
    stack.gateway.send_from_phone("+31611110001", "Stop")
    wait_for(lambda: _stopped(app, "+31611110001"), timeout=20, what="the STOP")
    _cancel(app, ids["first"])  # a place comes free for her: no text now, a call
    time.sleep(3)
    assert stack.texts_to("+31611110001", "نعم") == []
    assert _row(app, kind="booking_promoted").channel == "call"
    # START: texts again (the place held for her is still to be answered by text or link)
    stack.gateway.send_from_phone("+31611110001", "START")
    wait_for(lambda: not _stopped(app, "+31611110001"), timeout=20, what="the START")
    wait_for(lambda: stack.texts_to("+31611110001", "نعم"), timeout=30, what="the held place, by text now")


@pytest.mark.postgres
def test_a_killed_worker_loses_and_doubles_no_text(app, stack) -> None:
    ids = due_reminders(app, 60, by_sms=True)
    worker = stack.start_worker(EINSTEIN_MAIL_BATCH_SIZE="20")
    wait_for(lambda: len(stack.gateway.mt_messages) >= 5, timeout=60, what="the first texts")
    worker.kill()
    assert len(stack.gateway.mt_messages) < len(ids), "the worker finished before it could be killed"
    worker.start()
    worker.wait_ready()
    stack.gateway.wait_for_mt(len(ids), timeout=90)
    time.sleep(4)
    references = _references(app)
    received = Counter(ref for m in stack.gateway.mt_messages for ref in references if ref in m.text)
    assert set(received) == set(references)
    # again at most the text each of the worker's processes was handing to Kannel when it died
    # (the gateway took it, the worker died before it could write that down): its concurrency, 2
    doubled = [ref for ref, count in received.items() if count > 1]
    assert len(doubled) <= 2 and max(received.values()) <= 2, received.most_common(3)
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)


def test_a_stopped_gateway_loses_and_doubles_no_text(app, stack) -> None:
    ids = due_reminders(app, 10, by_sms=True)
    stack.gateway.stop_bearerbox()  # smsbox goes too: connection refused
    stack.start_worker()
    time.sleep(3)  # the worker tries, and is refused: the texts wait
    assert stack.gateway.mt_messages == []
    assert statuses(app).get(NotificationStatus.SENT) is None
    stack.gateway.start()
    stack.gateway.wait_for_mt(len(ids), timeout=60)
    time.sleep(4)
    references = _references(app)
    received = Counter(ref for m in stack.gateway.mt_messages for ref in references if ref in m.text)
    assert set(received) == set(references) and max(received.values()) == 1
    assert statuses(app).get(NotificationStatus.SENT) == len(ids)


def test_an_operator_away_and_a_frozen_gateway_double_nothing(app, stack) -> None:
    ids = due_reminders(app, 4, by_sms=True)  # fewer than Kannel queues (5) before it answers 503
    stack.gateway.operator_down()  # Kannel queues what it is given (202 "Queued for later")
    stack.start_worker()
    wait_for(lambda: statuses(app).get(NotificationStatus.SENT) == len(ids), timeout=30, what="handed to Kannel")
    stack.gateway.operator_up()
    stack.gateway.wait_for_mt(len(ids), timeout=60)
    # frozen: sendsms never answers; the text counts as sent (it may still go), and goes once
    more = due_reminders(app, 1, by_sms=True, first=100)
    stack.gateway.freeze_bearerbox()
    wait_for(lambda: _row(app, id=more[0]).status == NotificationStatus.SENT, timeout=30, what="a note, not a retry")
    assert "may still send" in (_row(app, id=more[0]).last_error or "")
    stack.gateway.thaw_bearerbox()
    stack.gateway.wait_for_mt(len(ids) + 1, timeout=30)
    time.sleep(3)
    references = _references(app)
    received = Counter(ref for m in stack.gateway.mt_messages for ref in references if ref in m.text)
    assert set(received) == set(references) and max(received.values()) == 1
