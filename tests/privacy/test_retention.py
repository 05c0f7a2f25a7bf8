"""Retention, as the privacy officer asks for it: personal data past its period is made anonymous
or removed each night, the reports count what they counted before, a dry run changes nothing, and
nobody with something still to come is erased."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from einstein.attendance import credentials, feedback, reports
from einstein.attendance.feedback import Face, Feedback
from einstein.attendance.models import Credential, CredentialKind
from einstein.audit import services as audit
from einstein.auth.models import AgeGroup
from einstein.bookings import integrity
from einstein.bookings import services as bookings
from einstein.bookings.targets import Target
from einstein.db import db, utcnow
from einstein.i18n import local_today
from einstein.models import (
    Attendance,
    AttendanceStatus,
    Audience,
    AuditEvent,
    Booking,
    BookingSource,
    BookingStatus,
    LoginSession,
    MixSnapshot,
    Notification,
    NotificationStatus,
    OfferKind,
    OfferSession,
    Role,
    User,
)
from einstein.privacy import retention, tasks
from tests import factories
from tests.support.clock import days_ahead

EN = {"Accept-Language": "en"}


# --- the dashboard's figures, before and after ----------------------------------------------------------


def _figures() -> dict[str, Any]:
    """Every figure the dashboard shows, over all the data (the mix counted afresh, not frozen)."""
    period = reports.Period(date(2000, 1, 1), date(2100, 1, 1))
    db.session.execute(sa.delete(MixSnapshot))
    months = reports.Period(local_today() - timedelta(days=800), local_today())
    figures = {
        "totals": asdict(reports.totals(period)),
        "weeks": [(week, asdict(f)) for week, f in reports.by_week(period)],
        "categories": [(category, asdict(f)) for category, f in reports.by_category(period)],
        "offers": [(o.offer_id, asdict(o.figures)) for o in reports.by_offer(period, None, 1, per_page=100_000)[0]],
        "sessions": [(s.session_id, asdict(s.figures)) for s in reports.sessions(period, None, 1, per_page=100_000)[0]],
        "mix": [(m.month, m.mix.counts) for m in reports.mix_by_month(months)],
        "feedback": asdict(feedback.satisfaction(months)),
    }
    db.session.rollback()  # the mix froze a snapshot: leave the database as it was
    return figures


def _bookings_as_stored() -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(Booking.id, Booking.user_id, Booking.reference, Booking.status, Booking.audience).order_by(
                Booking.id
            )
        )
    ]


# --- on seed-large's data ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_dry_run_shows_the_plan_and_the_run_does_it_with_the_reports_unchanged(app: Flask) -> None:
    # seed-large's sessions run from a year ago to ten months ahead: with six months, some go
    app.config["RETENTION_BOOKING_MONTHS"] = 6
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-large", "--sessions", "400", "--bookings", "4000"])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        rules = retention.rules_for(app.config)
        cut = rules.cutoffs.bookings
        ends = dict(db.session.execute(sa.select(Booking.id, retention._booking_ends().label("ends"))).all())
        going = {i for i, end in ends.items() if end < cut}
        staying = set(ends) - going
        assert going and staying  # the data straddles the cut-off
        before = _figures()
        stored = _bookings_as_stored()
        attendance_before = db.session.scalar(sa.select(sa.func.count()).select_from(Attendance))

    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    cut_words = cut.strftime("%d %B %Y").lstrip("0")
    assert f"{len(going):>9,} bookings (with their attendance) of sessions that ended before {cut_words}" in dry.output
    assert "Dry run: nothing was changed" in dry.output
    assert runner.invoke(args=["retention"]).output.endswith("--apply` to do it.\n")  # the dry run is the default
    with app.app_context():
        assert _bookings_as_stored() == stored

    run = runner.invoke(args=["retention", "--apply"])
    assert run.exit_code == 0, run.output
    assert f"Done: {len(going):,} bookings, 0 feedback, 0 desk people" in run.output
    with app.app_context():
        rows = {row[0]: row for row in _bookings_as_stored()}
        was = {row[0]: row for row in stored}
        for booking_id in going:
            _id, user_id, reference, status, audience = rows[booking_id]
            assert user_id is None and reference == f"~{booking_id}"
            assert (status, audience) == (was[booking_id][3], was[booking_id][4])  # counted as before
        for booking_id in staying:
            assert rows[booking_id] == was[booking_id]  # still theirs, untouched
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == attendance_before
        assert _figures() == before
        assert integrity.counter_drift() == []
        assert retention.plan(retention.rules_for(app.config)).total == 0  # a second run finds nothing

    again = runner.invoke(args=["retention", "--apply"])
    assert "Done: 0 bookings, 0 feedback, 0 desk people, 0 sign ins, 0 messages, 0 audit." in again.output


# --- exact cases, with the default periods ---------------------------------------------------------------


def _ago(days: int) -> datetime:
    return days_ahead(-days)


def _session(start: datetime, **offer: Any) -> OfferSession:
    return factories.SessionFactory(starts_at=start, **{f"offer__{k}": v for k, v in offer.items()})


def _past_booking(
    person: User | None, session: OfferSession | None, *, offer: Any = None, mark: AttendanceStatus | None = None
) -> Booking:
    """A confirmed place in something that took place, with its counters, as the service leaves them."""
    offer = offer or session.offer
    booking = Booking(
        reference=f"T{db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) + 1:03d}-TEST",
        user=person,
        offer=offer,
        session=session,
        status=BookingStatus.CONFIRMED,
        audience=person.audience if person else Audience.UNSAID,
        created_at=(session or offer.sessions[0]).starts_at - timedelta(days=7),
        updated_at=(session or offer.sessions[0]).starts_at - timedelta(days=7),
    )
    unit = session if session is not None else offer
    unit.confirmed_count += 1
    db.session.add(booking)
    db.session.flush()
    for held in [session] if session is not None else offer.sessions:
        if mark is not None:
            db.session.add(Attendance(session=held, booking=booking, status=mark, marked_at=held.starts_at))
            held.present_count += mark == AttendanceStatus.PRESENT
    db.session.commit()
    return booking


def _desk_person(name: str, *, since: datetime, **extra: Any) -> User:
    return factories.UserFactory(
        name=name,
        password_hash=None,
        email=None,
        created_at=since,
        updated_at=since,
        consent_recorded_at=since,
        **extra,
    )


@pytest.fixture
def world(app: Flask, coordinator: Any) -> dict[str, int]:
    """People and their traces, each on one side of a period (the periods are the defaults)."""
    with app.app_context():
        now = utcnow()
        amal = factories.UserFactory(name="Amal", audience=Audience.NEWCOMER, created_at=_ago(1000))
        long_ago = _session(_ago(800))  # 26 months: past the 24
        recent = _session(_ago(600))  # 20 months: kept
        coming = _session(days_ahead(3))
        old = _past_booking(amal, long_ago, mark=AttendanceStatus.PRESENT)
        kept = _past_booking(amal, recent, mark=AttendanceStatus.PRESENT)
        bookings.book(amal, Target(coming.offer, coming))
        db.session.add(
            Notification(
                kind="reminder",
                user_id=amal.id,
                booking_id=old.id,
                session_id=long_ago.id,
                status=NotificationStatus.SENT,
            )
        )
        # a course over long ago, and one whose last session is recent: only the first goes
        old_course = factories.OfferFactory(kind=OfferKind.COURSE, title="Old course")
        for days in (900, 893):
            factories.SessionFactory(offer=old_course, starts_at=_ago(days))
        long_course = factories.OfferFactory(kind=OfferKind.COURSE, title="Long course")
        for days in (900, 100):
            factories.SessionFactory(offer=long_course, starts_at=_ago(days))
        old_course_booking = _past_booking(amal, None, offer=old_course, mark=AttendanceStatus.PRESENT)
        old_answer = Feedback(
            session=long_ago, offer=long_ago.offer, user_id=amal.id, face=Face.GOOD, sentence="Amal here: lovely!"
        )
        new_answer = Feedback(session=recent, offer=recent.offer, user_id=amal.id, face=Face.OKAY, sentence="Fine.")
        db.session.add_all([old_answer, new_answer])
        long_course_booking = _past_booking(amal, None, offer=long_course)

        # people registered at the desk
        gone = _desk_person("Quiet for long", since=_ago(500))
        course_done = _session(_ago(420))
        _past_booking(gone, course_done, mark=AttendanceStatus.PRESENT)
        certificate = Credential(
            code=credentials.new_code(),
            kind=CredentialKind.CERTIFICATE,
            holder_id=gone.id,
            offer_id=course_done.offer_id,
            subject=f"offer:{course_done.offer_id}",
            holder_name="Quiet for long",
            title="Dutch for work",
            title_lang="en",
            first_day=course_done.starts_at.date(),
            last_day=course_done.starts_at.date(),
        )
        db.session.add(certificate)
        waiting = _desk_person("Booked ahead", since=_ago(500))
        bookings.book(waiting, Target(coming.offer, coming), source=BookingSource.DESK)
        db.session.execute(
            sa.update(Booking).where(Booking.user_id == waiting.id).values(created_at=_ago(450), updated_at=_ago(450))
        )
        corrected = _desk_person("Corrected lately", since=_ago(500))
        corrected.updated_at = _ago(30)
        came_lately = _desk_person("Came lately", since=_ago(500))
        _past_booking(came_lately, _session(_ago(200)))
        can_sign_in = factories.UserFactory(name="Has a password", created_at=_ago(900), updated_at=_ago(900))
        volunteer = factories.UserFactory(
            name="Volunteer", role=Role.VOLUNTEER, password_hash=None, created_at=_ago(900), updated_at=_ago(900)
        )
        db.session.commit()

        # sign-ins and messages
        def sign_in(**times: Any) -> int:
            row = LoginSession(user_id=amal.id, token_hash=secrets.token_hex(32), **times)
            db.session.add(row)
            db.session.flush()
            return row.id

        signed_out_long_ago = sign_in(expires_at=_ago(20), revoked_at=_ago(40), last_seen_at=_ago(40))
        expired_long_ago = sign_in(expires_at=_ago(35), last_seen_at=_ago(36), remember=True)
        idle_long_ago = sign_in(expires_at=now + timedelta(days=1), last_seen_at=_ago(40))
        signed_out_lately = sign_in(expires_at=now + timedelta(days=20), revoked_at=_ago(10), last_seen_at=_ago(10))
        live = sign_in(expires_at=now + timedelta(days=20), last_seen_at=now, remember=True)

        def message(status: NotificationStatus, days: int) -> int:
            row = Notification(
                kind="booking_confirmed", user_id=amal.id, status=status, created_at=_ago(days), updated_at=_ago(days)
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        sent_long_ago = message(NotificationStatus.SENT, 100)
        failed_long_ago = message(NotificationStatus.FAILED, 95)
        sent_lately = message(NotificationStatus.SENT, 10)
        stuck_pending = message(NotificationStatus.PENDING, 100)

        old_event = audit.record("booking.made_for", actor_id=coordinator.id, subject_id=amal.id, ref=old.reference)
        old_event.created_at = _ago(800)
        new_event = audit.record("booking.made_for", actor_id=coordinator.id, subject_id=amal.id)
        db.session.commit()
        return {
            "amal": amal.id,
            "old": old.id,
            "kept": kept.id,
            "coming": coming.id,
            "old_course_booking": old_course_booking.id,
            "old_answer": old_answer.id,
            "new_answer": new_answer.id,
            "long_course_booking": long_course_booking.id,
            "gone": gone.id,
            "certificate": certificate.id,
            "waiting": waiting.id,
            "corrected": corrected.id,
            "came_lately": came_lately.id,
            "can_sign_in": can_sign_in.id,
            "volunteer": volunteer.id,
            "signed_out_long_ago": signed_out_long_ago,
            "expired_long_ago": expired_long_ago,
            "idle_long_ago": idle_long_ago,
            "signed_out_lately": signed_out_lately,
            "live": live,
            "sent_long_ago": sent_long_ago,
            "failed_long_ago": failed_long_ago,
            "sent_lately": sent_lately,
            "stuck_pending": stuck_pending,
            "old_event": old_event.id,
            "new_event": new_event.id,
        }


def _exists(model: Any, row_id: int) -> bool:
    return db.session.get(model, row_id) is not None


@pytest.mark.postgres
def test_the_nightly_run_takes_what_is_past_its_period_and_leaves_the_rest(app: Flask, world: dict[str, int]) -> None:
    with app.app_context():
        before = _figures()
        found = retention.plan(retention.rules_for(app.config))
        assert found.counts == {
            "bookings": 2,
            "feedback": 1,
            "desk_people": 1,
            "sign_ins": 3,
            "messages": 2,
            "audit": 1,
        }
        assert tasks.apply_retention.run() == found.counts
        db.session.expire_all()

        # bookings over for more than two years no longer name Amal; her attendance still counts
        for name in ("old", "old_course_booking"):
            booking = db.session.get_one(Booking, world[name])
            assert (booking.user_id, booking.booked_by_id, booking.reference) == (None, None, f"~{booking.id}")
            assert booking.status == BookingStatus.CONFIRMED and booking.audience == Audience.NEWCOMER
            assert db.session.scalar(sa.select(Attendance.status).where(Attendance.booking_id == booking.id)) == (
                AttendanceStatus.PRESENT
            )
        assert db.session.scalar(sa.select(Notification.id).where(Notification.booking_id == world["old"])) is None
        # so does her answer about that session: the face still counts, her words are gone
        old_answer = db.session.get_one(Feedback, world["old_answer"])
        assert (old_answer.user_id, old_answer.face, old_answer.sentence) == (None, Face.GOOD, None)
        new_answer = db.session.get_one(Feedback, world["new_answer"])
        assert (new_answer.user_id, new_answer.sentence) == (world["amal"], "Fine.")
        # what is more recent, or still to come, is still hers: she has something coming and stays
        assert _exists(User, world["amal"])
        for name in ("kept", "long_course_booking"):
            assert db.session.get_one(Booking, world[name]).user_id == world["amal"]
        coming = db.session.scalar(
            sa.select(Booking).where(Booking.session_id == world["coming"], Booking.user_id == world["amal"])
        )
        assert coming is not None and coming.status == BookingStatus.CONFIRMED

        # at the desk: only the person with nothing for a year and nothing coming is erased
        assert not _exists(User, world["gone"])
        for name in ("waiting", "corrected", "came_lately", "can_sign_in", "volunteer"):
            assert _exists(User, world[name]), name
        waiting = db.session.scalar(sa.select(Booking).where(Booking.user_id == world["waiting"]))
        assert waiting is not None and waiting.status == BookingStatus.CONFIRMED
        # their certificate still checks, with the name printed on it
        certificate = db.session.get_one(Credential, world["certificate"])
        assert (certificate.holder_id, certificate.holder_name) == (None, "Quiet for long")
        check = app.test_client().get(f"/check/{credentials.format_code(certificate.code)}", headers=EN)
        assert check.status_code == 200 and "Quiet for long" in check.get_data(as_text=True)
        erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.erased"))
        assert erased is not None and erased.actor_id is None
        assert erased.details == {"person_id": world["gone"], "by": "retention"}

        for name in ("signed_out_long_ago", "expired_long_ago", "idle_long_ago"):
            assert not _exists(LoginSession, world[name]), name
        for name in ("signed_out_lately", "live"):
            assert _exists(LoginSession, world[name]), name
        for name in ("sent_long_ago", "failed_long_ago"):
            assert not _exists(Notification, world[name]), name
        for name in ("sent_lately", "stuck_pending"):
            assert _exists(Notification, world[name]), name
        assert db.session.get_one(AuditEvent, world["old_event"]).subject_id is None
        assert db.session.get_one(AuditEvent, world["new_event"]).subject_id == world["amal"]

        # the reports count what they counted, the counters agree, and a second run finds nothing
        assert _figures() == before
        assert integrity.counter_drift() == []
        assert retention.plan(retention.rules_for(app.config)).total == 0
        assert tasks.apply_retention.run() == dict.fromkeys(retention.KINDS, 0)


def test_a_dry_run_changes_nothing(app: Flask, world: dict[str, int]) -> None:
    def everything() -> list[Any]:
        return [
            sorted(tuple(row) for row in db.session.execute(sa.select(table)))
            for table in (
                User.__table__,
                Booking.__table__,
                Feedback.__table__,
                LoginSession.__table__,
                Notification.__table__,
            )
        ] + [sorted((e.id, e.subject_id) for e in db.session.scalars(sa.select(AuditEvent)))]

    with app.app_context():
        before = everything()
    result = app.test_cli_runner().invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "        1 people without a password (registered at the desk, household members)" in result.output
    assert "        2 bookings (with their attendance)" in result.output
    with app.app_context():
        assert everything() == before


def test_someone_booked_after_the_batch_was_chosen_is_not_erased(app: Flask, world: dict[str, int]) -> None:
    """The batch checks the rule again, under a lock: someone booked in between is no longer inactive."""
    with app.app_context():
        conditions = retention.rules_for(app.config).of("desk_people")
        chosen = retention._next_ids("desk_people", conditions, 0, 50)
        assert chosen == [world["gone"]]
        gone = db.session.get_one(User, world["gone"])
        coming = db.session.get_one(OfferSession, world["coming"])
        bookings.book(gone, Target(coming.offer, coming), source=BookingSource.DESK)
        db.session.commit()
        assert retention._erase_desk_people(chosen, conditions) == 0
        db.session.commit()
        assert _exists(User, world["gone"])


def _sum(steps: Any) -> dict[str, int]:
    done = dict.fromkeys(retention.KINDS, 0)
    for kind, changed in steps:
        done[kind] += changed
    return done


def test_batches_are_small_transactions_and_cover_everything(app: Flask, world: dict[str, int]) -> None:
    with app.app_context():
        rules = retention.rules_for(app.config)
        expected = retention.plan(rules).counts
        steps = list(retention.batches(rules, 1))
        db.session.commit()
        assert all(changed <= 1 for _kind, changed in steps)
        assert _sum(steps) == expected


def test_the_privacy_page_states_the_periods_from_the_settings(app: Flask, client: Any) -> None:
    app.config.update(RETENTION_BOOKING_MONTHS=18, RETENTION_DESK_PERSON_MONTHS=1, RETENTION_MESSAGE_DAYS=60)
    page = client.get("/privacy", headers=EN).get_data(as_text=True)
    assert "until 18 months after the session or course ended" in page
    assert "after 18 months from the session they no longer say it was you" in page
    assert "nothing has happened for 1 month, we delete your details" in page
    assert "deleted with your account, or when nothing is booked for them and nothing has happened for 1 month" in page
    assert "60 days after sending" in page
    assert "30 days after you signed out" in page
    assert "After 24 months the note no longer says it was you" in page
    assert "Your certificates and statements of volunteer work: as long as einstein runs" in page


def test_beat_runs_it_every_night(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule["apply-retention"]
    assert schedule["task"] == tasks.apply_retention.name == "einstein.privacy.tasks.apply_retention"
    assert schedule["schedule"].hour == {3}


def test_the_periods_count_calendar_months_in_utrecht() -> None:
    assert retention.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert retention.months_before(date(2026, 1, 15), 24) == date(2024, 1, 15)
    assert retention.months_before(date(2028, 2, 29), 12) == date(2027, 2, 28)
    periods = retention.Periods(24, 12, 30, 90, 24)
    # 00:30 on 31 October 2027 in Utrecht is still the 30th in UTC: the cut-off follows Utrecht's date
    cut = retention.Cutoffs.at(periods, datetime(2027, 10, 30, 22, 30, tzinfo=UTC))
    assert cut.bookings.isoformat() == "2025-10-31T00:00:00+01:00"
    assert cut.messages.date() == date(2027, 8, 2)


@pytest.mark.postgres
def test_a_household_goes_with_its_holder_and_a_quiet_member_alone(app: Flask, world: dict[str, int]) -> None:
    with app.app_context():
        amal = db.session.get_one(User, world["amal"])
        coming = db.session.get_one(OfferSession, world["coming"])

        def member(name: str, holder: User) -> User:
            return _desk_person(name, since=_ago(500), household_of_id=holder.id, age_group=AgeGroup.CHILD)

        # registered at the desk and quiet for long, but their child has a place coming: both stay
        busy_holder = _desk_person("Quiet parent", since=_ago(500))
        busy_child = member("Busy child", busy_holder)
        bookings.book(busy_child, Target(coming.offer, coming), source=BookingSource.DESK, booked_by=busy_holder)
        db.session.execute(
            sa.update(Booking)
            .where(Booking.user_id == busy_child.id)
            .values(created_at=_ago(450), updated_at=_ago(450))
        )
        # quiet, and their household quiet too: they go, and their member with them
        quiet_holder = _desk_person("Quiet holder", since=_ago(500))
        quiet_child = member("Quiet child", quiet_holder)
        # a quiet member of Amal's household goes alone: Amal can sign in and stays
        quiet_member = member("Quiet member", amal)
        db.session.commit()
        ids = {p.id for p in (busy_holder, busy_child, quiet_holder, quiet_child, quiet_member)}
        candidates = set(retention._next_ids("desk_people", retention.rules_for(app.config).of("desk_people"), 0, 99))
        assert candidates & ids == {quiet_holder.id, quiet_child.id, quiet_member.id}

        tasks.apply_retention.run()
        db.session.expire_all()
        for person in (busy_holder, busy_child):
            assert _exists(User, person.id), person.name
        assert db.session.scalar(sa.select(Booking.status).where(Booking.user_id == busy_child.id)) == (
            BookingStatus.CONFIRMED
        )
        for person in (quiet_holder, quiet_child, quiet_member):
            assert not _exists(User, person.id), person.name
        assert _exists(User, amal.id)
        assert retention.plan(retention.rules_for(app.config)).total == 0
