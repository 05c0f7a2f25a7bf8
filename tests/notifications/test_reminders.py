"""The rules of reminders and of the outbox, without servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from einstein.bookings import operations, reminders
from einstein.bookings import services as bookings
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.models import Booking, Notification, NotificationKind, NotificationStatus, OfferSession, User
from einstein.notifications import delivery, leases, sweep, tasks
from tests import factories
from tests.support.outbox import deliver
from tests.support.servers import free_port


def _reminders(booking_id: int | None = None) -> list[Notification]:
    query = sa.select(Notification).where(Notification.kind == NotificationKind.REMINDER).order_by(Notification.due_at)
    if booking_id is not None:
        query = query.where(Notification.booking_id == booking_id)
    return list(db.session.scalars(query))


def _session_at(hour: int, days: int = 5, **offer) -> OfferSession:
    day = (utcnow() + timedelta(days=days)).astimezone(TIMEZONE).date()
    start = datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=TIMEZONE)
    return factories.SessionFactory(
        starts_at=start, ends_at=start + timedelta(hours=2), **{f"offer__{k}": v for k, v in offer.items()}
    )


def _each_booked(people: list[Any]) -> OfferSession:
    """A session at 19:00 in five days with five places, booked by each of ``people``."""
    session = _session_at(19, capacity=5)
    for person in people:
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
    db.session.commit()
    return session


def test_default_reminders_are_a_day_before_and_on_the_morning(app, participant) -> None:
    with app.app_context():
        session = _session_at(19, reminder_offsets=["24h", "morning"])
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        rows = {row.reminder_offset: row.due_at for row in _reminders(booking.id)}
        assert rows["24h"] == session.starts_at - timedelta(hours=24)
        assert rows["morning"].astimezone(TIMEZONE).hour == 8
        assert rows["morning"].astimezone(TIMEZONE).date() == session.starts_at.astimezone(TIMEZONE).date()


def test_no_morning_reminder_for_a_session_that_starts_early(app, participant) -> None:
    with app.app_context():
        session = _session_at(8, reminder_offsets=["24h", "morning"])
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        assert [row.reminder_offset for row in _reminders(booking.id)] == ["24h"]


def test_waitlisted_and_cancelled_bookings_get_no_reminders(app, participant, other_participant) -> None:
    with app.app_context():
        session = _session_at(19, capacity=1)
        first = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        waiting = bookings.book(db.session.get(User, other_participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        assert _reminders(waiting.id) == []
        bookings.cancel(first)
        db.session.commit()
        assert {r.status for r in _reminders(first.id)} == {NotificationStatus.CANCELLED}
        # the place went to the person waiting, and with it the reminders
        assert {r.status for r in _reminders(waiting.id)} == {NotificationStatus.PENDING}


def test_a_moved_session_moves_its_reminders(app, participant) -> None:

    with app.app_context():
        session = _session_at(19)
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        operations.change_session(
            session,
            starts_at=session.starts_at + timedelta(days=7),
            ends_at=session.ends_at + timedelta(days=7),
            location=session.location,
            capacity=None,
            languages=["nl"],
            editor=session.offer.organiser,
        )
        db.session.commit()
        rows = {r.reminder_offset: r for r in _reminders(booking.id)}
        assert rows["24h"].due_at == session.starts_at - timedelta(hours=24)
        assert rows["morning"].due_at.astimezone(TIMEZONE).date() == session.starts_at.astimezone(TIMEZONE).date()


def test_a_cancelled_session_cancels_its_reminders(app, participant) -> None:

    with app.app_context():
        session = _session_at(19)
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        operations.cancel_session(session)
        db.session.commit()
        assert {r.status for r in _reminders(booking.id)} == {NotificationStatus.CANCELLED}


def test_the_organiser_changes_the_offsets(app, participant) -> None:
    with app.app_context():
        session = _session_at(19, reminder_offsets=["24h"])
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        session.offer.reminder_offsets = ["48h", "2h"]
        reminders.replan_offer(session.offer)
        db.session.commit()
        rows = {r.reminder_offset: r.status for r in _reminders(booking.id)}
        assert rows == {
            "24h": NotificationStatus.CANCELLED,
            "48h": NotificationStatus.PENDING,
            "2h": NotificationStatus.PENDING,
        }


def test_planning_twice_never_makes_a_second_reminder(app, participant) -> None:
    with app.app_context():
        session = _session_at(19)
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        before = len(_reminders())
        reminders.plan_for_booking(booking)
        reminders.plan_for_booking(booking)
        db.session.commit()
        assert len(_reminders()) == before
        # and the database itself refuses a second row for the same booking, session and offset
        db.session.add(
            Notification(
                kind=NotificationKind.REMINDER,
                user_id=participant.id,
                booking_id=booking.id,
                session_id=session.id,
                reminder_offset="24h",
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.postgres
def test_only_one_claim_wins(app, participant) -> None:
    with app.app_context():
        session = _session_at(19)
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        notification_id = db.session.scalar(
            sa.select(Notification.id).where(Notification.kind == NotificationKind.BOOKING_CONFIRMED)
        )
        db.session.commit()  # the claim has a connection of its own
        with leases.connection() as connection:
            first = leases.Lease(connection)
            assert first.claim([notification_id]) == [notification_id]
    # a second claim (another context, another connection) gets nothing; across processes: test_pipeline
    with app.app_context():
        with leases.connection() as connection:
            assert leases.Lease(connection).claim([notification_id]) == []
        row = db.session.get(Notification, notification_id)
        assert (row.status, row.lease_owner, row.attempts) == (NotificationStatus.SENDING, first.owner, 0)
        assert row.lease_expires_at > utcnow() + timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"] - 5)


def test_a_claim_left_by_a_dead_worker_is_handed_out_again(app, participant) -> None:
    with app.app_context():
        session = _session_at(19)
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        row = db.session.scalar(sa.select(Notification).where(Notification.kind == NotificationKind.BOOKING_CONFIRMED))
        row.status, row.lease_owner, row.lease_expires_at = (
            NotificationStatus.SENDING,
            "a worker that died",
            utcnow() - timedelta(seconds=1),
        )
        fresh = db.session.scalar(
            sa.select(Notification).where(Notification.kind == NotificationKind.REMINDER).limit(1)
        )
        fresh.status, fresh.lease_owner = NotificationStatus.SENDING, "a worker still sending"
        fresh.lease_expires_at = utcnow() + timedelta(seconds=30)
        db.session.commit()
        assert sweep.release_stale_claims() == 1
        db.session.commit()
        released = db.session.get(Notification, row.id)
        assert (released.status, released.lease_owner) == (NotificationStatus.PENDING, None)
        assert db.session.get(Notification, fresh.id).status == NotificationStatus.SENDING
        assert row.id in sweep.take_due()


def test_the_sweep_does_not_queue_the_same_row_twice_in_a_row(app, participant) -> None:
    with app.app_context():
        session = _session_at(19)
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        first = sweep.take_due()
        db.session.commit()
        assert len(first) == 1  # the confirmation; the reminders are not due
        assert sweep.take_due() == []


def test_one_sweep_queues_every_due_message_however_many(app, make_user, monkeypatch) -> None:
    # it takes TAKE rows in one transaction: with more due, it did not queue the rest until the
    # next sweep, a minute later (5,000 a minute at most, whatever the workers could send)
    people = [make_user() for _ in range(5)]
    with app.app_context():
        _each_booked(people)
        due = set(db.session.scalars(sa.select(Notification.id).where(Notification.due_at <= utcnow())))
        assert len(due) == 5  # the confirmations; the reminders are not due yet
    monkeypatch.setattr(sweep, "TAKE", 2)
    published: list[list[int]] = []
    monkeypatch.setattr(tasks.send_notifications, "delay", published.append)
    with app.app_context():
        assert tasks.sweep.run() == {"released": 0, "queued": 5}
    assert sorted(i for batch in published for i in batch) == sorted(due)
    with app.app_context():
        assert tasks.sweep.run() == {"released": 0, "queued": 0}  # queued once


def test_a_reminder_for_a_booking_cancelled_since_is_not_sent(app, participant, smtp) -> None:
    with app.app_context():
        session = _session_at(19)
        booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        reminder = _reminders(booking.id)[0]
        reminder.due_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        # cancelled behind the outbox's back (as if the cancel and the send crossed)
        db.session.get(Booking, booking.id).status = bookings.BookingStatus.CANCELLED
        db.session.commit()
        reminder_id = reminder.id
    deliver(app)
    with app.app_context():
        assert db.session.get(Notification, reminder_id).status == NotificationStatus.CANCELLED
    assert all(m["X-Einstein-Notification"] != str(reminder_id) for m in smtp.messages)


def test_retry_delays_grow_and_stay_below_an_hour(app) -> None:
    with app.app_context():
        delays = [delivery.retry_delay(n) for n in range(1, 12)]
    assert delays == sorted(delays) and delays[0] == app.config["MAIL_RETRY_SECONDS"] and delays[-1] <= 3600


def test_a_permanent_smtp_error_fails_one_message_not_the_batch(app, make_user, smtp) -> None:
    people = [make_user() for _ in range(3)]
    with app.app_context():
        _each_booked(people)
    smtp.fail_next(1, "550 5.1.1 No such mailbox")
    report = deliver(app)
    assert len(report.failed) == 1 and len(report.sent) == 2
    with app.app_context():
        failed = db.session.scalar(sa.select(Notification).where(Notification.status == NotificationStatus.FAILED))
        assert "550" in failed.last_error


def test_the_mail_server_being_away_is_temporary(app, participant) -> None:
    app.config["SMTP_PORT"] = 1  # nobody listens
    with app.app_context():
        session = _session_at(19)
        bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
    report = deliver(app)
    assert len(report.retry) == 1
    with app.app_context():
        row = db.session.scalar(sa.select(Notification).where(Notification.kind == NotificationKind.BOOKING_CONFIRMED))
        assert row.status == NotificationStatus.PENDING and row.due_at > utcnow() and "cannot reach" in row.last_error


@contextmanager
def _silent_mail_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A port that takes connections and never says a word: a mail server that hangs. Yields
    the port and the connections it took."""
    taken: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as server:

        def accept() -> None:
            while True:
                try:
                    taken.append(server.accept()[0])
                except OSError:  # closed: the test is over
                    return

        threading.Thread(target=accept, daemon=True).start()
        try:
            yield server.getsockname()[1], taken
        finally:
            server.close()
            for connection in taken:
                connection.close()


def _by_person(kind: NotificationKind) -> dict[int, Notification]:
    rows = db.session.scalars(sa.select(Notification).where(Notification.kind == kind))
    return {row.user_id: row for row in rows}


@pytest.mark.postgres
def test_a_mail_server_that_hangs_costs_a_batch_one_wait_not_one_per_message(app, make_user) -> None:
    # each message tried against it would wait SMTP_TIMEOUT: a batch of 200, over half an hour
    people = [make_user() for _ in range(5)]
    with app.app_context():
        _each_booked(people)
    with _silent_mail_server() as (port, taken):
        app.config.update(SMTP_PORT=port, SMTP_TIMEOUT=0.3)
        report = deliver(app)
        assert len(taken) == 1, "one connection tried, not one per message"
    assert len(report.retry) == 1 and len(report.later) == 4 and not report.sent
    assert set(report.unavailable) == {"email"} and "cannot reach the mail server" in report.unavailable["email"]
    with app.app_context():
        rows = _by_person(NotificationKind.BOOKING_CONFIRMED)
        tried = rows.pop(db.session.get(Notification, report.retry[0]).user_id)
        assert tried.attempts == 1 and "cannot reach" in tried.last_error
        for row in rows.values():  # put off, no try counted, due again soon, for the sweep to queue
            assert row.status == NotificationStatus.PENDING and row.attempts == 0
            assert row.due_at > utcnow() and row.queued_at is None and row.lease_owner is None
            assert row.last_error.startswith("not tried: cannot reach the mail server")


def test_a_mail_server_away_puts_off_the_e_mails_not_the_texts(app, make_user) -> None:
    # at noon in Utrecht, outside the texts' quiet hours
    with time_machine.travel(datetime(2027, 5, 12, 12, 0, tzinfo=TIMEZONE)):
        by_mail = [make_user() for _ in range(3)]
        with app.app_context():
            by_text = [
                factories.UserFactory(email=None, phone=f"+3162000010{i}", phone_verified_at=utcnow()) for i in range(2)
            ]
            db.session.commit()
            _each_booked(by_mail + by_text)
            by_text_ids = {person.id for person in by_text}
        app.config["SMTP_PORT"] = free_port()  # nobody listens
        report = deliver(app)
        with app.app_context():
            rows = _by_person(NotificationKind.BOOKING_CONFIRMED)
            texts = [row for user_id, row in rows.items() if user_id in by_text_ids]
            assert [row.status for row in texts] == [NotificationStatus.SENT] * 2
            assert sorted(report.sent) == sorted(row.id for row in texts)
            assert len(report.retry) == 1 and len(report.later) == 2 and set(report.unavailable) == {"email"}


def test_a_late_booker_still_gets_a_reminder_before_the_session(app, participant) -> None:
    with app.app_context():
        session = _session_at(19, reminder_offsets=["48h", "24h"])
        # booked the evening before: both chosen reminders' times have passed
        with time_machine.travel(session.starts_at - timedelta(hours=20), tick=False):
            booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
            db.session.commit()
        [row] = _reminders(booking.id)
        assert (row.reminder_offset, row.due_at) == ("late", session.starts_at - timedelta(hours=2))


def test_no_late_reminder_right_after_the_confirmation(app, participant) -> None:
    with app.app_context():
        session = _session_at(19, reminder_offsets=["24h"])
        with time_machine.travel(session.starts_at - timedelta(hours=2, minutes=30), tick=False):
            booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
            db.session.commit()
        assert _reminders(booking.id) == []


def test_a_booker_with_a_chosen_reminder_to_come_gets_no_late_one(app, participant) -> None:
    with app.app_context():
        session = _session_at(19, reminder_offsets=["24h", "2h"])
        with time_machine.travel(session.starts_at - timedelta(hours=20), tick=False):
            booking = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
            db.session.commit()
        assert [row.reminder_offset for row in _reminders(booking.id)] == ["2h"]
