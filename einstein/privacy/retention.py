"""Retention: personal data is kept only as long as it is needed, then made anonymous or removed.

The operator sets the periods (``RETENTION_*`` in ``config.py``); each night beat runs
``privacy.tasks.apply_retention``, and ``flask --app einstein retention`` shows the plan (or, with
``--apply``, carries it out). What goes:

- **bookings** whose sessions all ended before the cut-off are made anonymous: the row keeps its
  offer, session, status, answer to "about you" (only ever counted), source and attendance marks,
  so every report counts what it counted before, but it no longer names the person (nor who
  booked it for them), its reference is replaced (a card found later names nothing), and the
  messages about it go;
- **answers to "How was it?"** about sessions that ended before the same cut-off no longer say
  who answered, and their sentences go (a person's words may say who they are), as when an
  account is deleted: the faces stay in the counts;
- **people registered at the desk** (no password, so they cannot delete themselves; members of a
  household too) with nothing coming and nothing done for the period are erased as the desk's
  erasure does (``services.delete_account``; a household's members go with its holder, so a
  holder stays while any member is busy), and the audit trail says so; their certificates and statements
  keep checking (cut loose first, with the name printed on them, which ``delete_account`` would
  otherwise delete: an erasure the person did not ask for must not cost them a document they
  may need where they settle);
- **sign-ins** (``LoginSession`` rows) that ended, expired or sat idle before the cut-off go;
- **messages** sent, failed or cancelled before the cut-off go from the outbox (and with them
  the address they went to and what they said);
- **the audit trail** keeps who did what, but events older than the period no longer say to whom.

Every step is a batch of at most ``RETENTION_BATCH_SIZE`` rows chosen by id and changed by one
statement that checks the rule again, so a row that changed in between (a person who booked
something meanwhile) is left alone. The caller commits after each batch (``batches`` yields), so
no transaction is long, and a second run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from einstein.attendance.feedback import Feedback
from einstein.attendance.models import Credential
from einstein.audit import services as audit
from einstein.audit.models import AuditEvent
from einstein.auth.models import LoginSession, Role, User
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import OfferSession
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.notifications.models import Notification, NotificationStatus
from einstein.privacy import services

#: An anonymised booking's reference: this mark and its id (the letters of real ones never include it).
ANONYMOUS_MARK = "~"
#: The kinds of data retention looks after, in the order it handles them.
KINDS = ("bookings", "feedback", "desk_people", "sign_ins", "messages", "audit")
#: Messages in these states are done with: nothing more will happen to them.
FINISHED = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.CANCELLED)


@dataclass(frozen=True)
class Periods:
    """How long each kind of personal data is kept, as the operator set it."""

    booking_months: int
    desk_person_months: int
    sign_in_days: int
    message_days: int
    audit_months: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Periods:
        return cls(
            booking_months=int(config["RETENTION_BOOKING_MONTHS"]),
            desk_person_months=int(config["RETENTION_DESK_PERSON_MONTHS"]),
            sign_in_days=int(config["RETENTION_SIGN_IN_DAYS"]),
            message_days=int(config["RETENTION_MESSAGE_DAYS"]),
            audit_months=int(config["RETENTION_AUDIT_MONTHS"]),
        )


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def _midnight(day: date) -> datetime:
    """00:00 in Utrecht on ``day``: every cut-off is the start of a day, the same all night long."""
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


@dataclass(frozen=True)
class Cutoffs:
    """Per kind, the moment before which its data goes."""

    bookings: datetime
    desk_people: datetime
    sign_ins: datetime
    messages: datetime
    audit: datetime

    @classmethod
    def at(cls, periods: Periods, now: datetime) -> Cutoffs:
        """The cut-offs of a run at ``now``, each at the start of a day in Utrecht."""
        today = now.astimezone(TIMEZONE).date()
        return cls(
            bookings=_midnight(months_before(today, periods.booking_months)),
            desk_people=_midnight(months_before(today, periods.desk_person_months)),
            sign_ins=_midnight(today - timedelta(days=periods.sign_in_days)),
            messages=_midnight(today - timedelta(days=periods.message_days)),
            audit=_midnight(months_before(today, periods.audit_months)),
        )

    def of(self, kind: str) -> datetime:
        """The cut-off of ``kind`` (feedback follows the bookings: it is about the same sessions)."""
        value: datetime = getattr(self, "bookings" if kind == "feedback" else kind)
        return value


# --- the rules, one condition list per kind ------------------------------------------------------------


def _booking_ends() -> sa.ScalarSelect[Any]:
    """SQL for when a booking's last session ends (an activity's session; a course's last one)."""
    return (
        sa.select(sa.func.max(OfferSession.ends_at))
        .where(
            sa.or_(
                OfferSession.id == Booking.session_id,
                sa.and_(Booking.session_id.is_(None), OfferSession.offer_id == Booking.offer_id),
            )
        )
        .correlate(Booking)
        .scalar_subquery()
    )


def _bookings_rule(cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Bookings over before ``cut`` that are not anonymous yet.

    Activity bookings are found through their session; course bookings through the course's
    last session (a course with no sessions at all is left: nothing says it is over).
    """
    sessions_over = sa.select(OfferSession.id).where(OfferSession.ends_at < cut)
    courses_over = (
        sa.select(OfferSession.offer_id).group_by(OfferSession.offer_id).having(sa.func.max(OfferSession.ends_at) < cut)
    )
    return [
        ~Booking.reference.startswith(ANONYMOUS_MARK, autoescape=True),
        sa.or_(
            Booking.session_id.in_(sessions_over),
            sa.and_(Booking.session_id.is_(None), Booking.offer_id.in_(courses_over)),
        ),
    ]


def _feedback_rule(cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Answers about sessions that ended before ``cut`` that still name their author or hold words."""
    return [
        sa.or_(Feedback.user_id.is_not(None), Feedback.sentence.is_not(None)),
        Feedback.session_id.in_(sa.select(OfferSession.id).where(OfferSession.ends_at < cut)),
    ]


def _quiet(person: Any, cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Conditions for ``person`` (``User`` or an alias) having nothing coming and nothing done since ``cut``.

    Something done is the record made or changed, consent recorded, or a booking of theirs made,
    changed or cancelled, or taking place (a session they were booked on, held or to come); a
    booking still to come (or a course with no sessions yet) keeps the person whatever its age.
    """
    ends = _booking_ends()
    recent_or_coming = (
        sa.select(Booking.id)
        .where(
            Booking.user_id == person.id,
            sa.or_(
                Booking.created_at >= cut,
                Booking.updated_at >= cut,
                Booking.cancelled_at >= cut,
                ends >= cut,  # held since, or still to come
                sa.and_(Booking.status != BookingStatus.CANCELLED, ends.is_(None)),
            ),
        )
        .correlate(person)
    )
    return [
        person.created_at < cut,
        person.updated_at < cut,
        sa.or_(person.consent_recorded_at.is_(None), person.consent_recorded_at < cut),
        sa.or_(person.last_login_at.is_(None), person.last_login_at < cut),
        ~sa.exists(recent_or_coming),
    ]


def _desk_people_rule(cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Participants who cannot sign in (registered at the desk, or a member of someone's
    household), quiet since ``cut``; someone whose household has a member who is not quiet stays,
    since the members go with them."""
    member = aliased(User)
    busy_member = (
        sa.select(member.id).where(member.household_of_id == User.id, ~sa.and_(*_quiet(member, cut))).correlate(User)
    )
    return [
        User.password_hash.is_(None),
        User.role == Role.PARTICIPANT,
        *_quiet(User, cut),
        ~sa.exists(busy_member),
    ]


def _sign_ins_rule(cut: datetime, idle: timedelta, remember_idle: timedelta) -> list[sa.ColumnElement[bool]]:
    """Sign-ins that ended before ``cut``: signed out, expired, or unused past their idle limit."""
    return [
        sa.or_(
            LoginSession.revoked_at < cut,
            LoginSession.expires_at < cut,
            sa.and_(~LoginSession.remember, LoginSession.last_seen_at < cut - idle),
            sa.and_(LoginSession.remember, LoginSession.last_seen_at < cut - remember_idle),
        )
    ]


def _messages_rule(cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Messages done with (sent, failed or cancelled) whose last change was before ``cut``."""
    return [Notification.status.in_(FINISHED), Notification.updated_at < cut]


def _audit_rule(cut: datetime) -> list[sa.ColumnElement[bool]]:
    """Events older than ``cut`` that still name the person they were about."""
    return [AuditEvent.created_at < cut, AuditEvent.subject_id.is_not(None)]


_MODELS: dict[str, Any] = {
    "bookings": Booking,
    "feedback": Feedback,
    "desk_people": User,
    "sign_ins": LoginSession,
    "messages": Notification,
    "audit": AuditEvent,
}


@dataclass
class Rules:
    """The conditions of every kind for one run (cut-offs fixed at its start)."""

    cutoffs: Cutoffs
    now: datetime
    idle: timedelta
    remember_idle: timedelta

    def of(self, kind: str) -> list[sa.ColumnElement[bool]]:
        cut = self.cutoffs.of(kind)
        if kind == "bookings":
            return _bookings_rule(cut)
        if kind == "feedback":
            return _feedback_rule(cut)
        if kind == "desk_people":
            return _desk_people_rule(cut)
        if kind == "sign_ins":
            return _sign_ins_rule(cut, self.idle, self.remember_idle)
        if kind == "messages":
            return _messages_rule(cut)
        return _audit_rule(cut)


def rules_for(config: Mapping[str, Any], now: datetime | None = None) -> Rules:
    """The rules of a run at ``now`` (default: now) with the configured periods."""
    now = now or utcnow()
    return Rules(
        Cutoffs.at(Periods.from_config(config), now),
        now,
        timedelta(seconds=int(config["LOGIN_IDLE_SECONDS"])),
        timedelta(seconds=int(config["REMEMBER_IDLE_SECONDS"])),
    )


# --- the plan: what would go ------------------------------------------------------------------------


#: What each kind's count means, for the plan in plain words (the command line speaks English).
_DESCRIPTIONS = {
    "bookings": "bookings (with their attendance) of sessions that ended before {cut}: made anonymous, "
    "the reports keep counting them",
    "feedback": "answers to 'How was it?' about sessions that ended before {cut}: no longer say who answered "
    "(the faces stay in the counts, the sentences go)",
    "desk_people": "people without a password (registered at the desk, household members), with nothing coming "
    "and nothing done since {cut}: erased",
    "sign_ins": "sign-ins that ended before {cut}: removed",
    "messages": "messages sent, failed or cancelled before {cut}: removed",
    "audit": "audit trail events from before {cut}: no longer say whom they were about",
}


@dataclass
class Plan:
    """What a run would do: per kind, how many rows and the cut-off."""

    rules: Rules
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """The plan in plain words, one line per kind."""
        lines = []
        for kind in KINDS:
            cut = self.rules.cutoffs.of(kind).strftime("%d %B %Y").lstrip("0")
            lines.append(f"{self.counts.get(kind, 0):>9,} {_DESCRIPTIONS[kind].format(cut=cut)}")
        return lines


def _count(kind: str, conditions: list[sa.ColumnElement[bool]]) -> int:
    model = _MODELS[kind]
    return int(db.session.scalar(sa.select(sa.func.count(model.id)).where(*conditions)) or 0)


def plan(rules: Rules) -> Plan:
    """Count what a run with ``rules`` would change; changes nothing."""
    return Plan(rules, {kind: _count(kind, rules.of(kind)) for kind in KINDS})


# --- applying it, a batch at a time --------------------------------------------------------------------


def _next_ids(kind: str, conditions: list[sa.ColumnElement[bool]], after: int, size: int) -> list[int]:
    model = _MODELS[kind]
    return list(
        db.session.scalars(sa.select(model.id).where(model.id > after, *conditions).order_by(model.id).limit(size))
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _anonymise_bookings(ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    """Cut the bookings loose from their people; their messages (which name the person) go."""
    done = _rowcount(
        db.session.execute(
            sa.update(Booking)
            .where(Booking.id.in_(ids), *conditions)
            .values(
                user_id=None,
                booked_by_id=None,
                reference=sa.literal(ANONYMOUS_MARK, sa.String) + sa.cast(Booking.id, sa.String),
            )
            .execution_options(synchronize_session=False)
        )
    )
    anonymous = sa.select(Booking.id).where(
        Booking.id.in_(ids), Booking.reference.startswith(ANONYMOUS_MARK, autoescape=True)
    )
    db.session.execute(
        sa.delete(Notification)
        .where(Notification.booking_id.in_(anonymous))
        .execution_options(synchronize_session=False)
    )
    return done


def _anonymise_feedback(ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    """Cut the answers loose from their people; their sentences go, the faces keep counting."""
    return _rowcount(
        db.session.execute(
            sa.update(Feedback)
            .where(Feedback.id.in_(ids), *conditions)
            .values(user_id=None, sentence=None)
            .execution_options(synchronize_session=False)
        )
    )


def _erase_desk_people(ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    """Erase each person who still meets the rule, their row locked (a booking for them waits)."""
    erased = 0
    for person_id in ids:
        person = db.session.scalar(sa.select(User).where(User.id == person_id, *conditions).with_for_update(of=User))
        if person is None:
            continue  # they booked, or were corrected, since the batch was chosen
        audit.record("person.erased", actor_id=None, subject_id=person.id, person_id=person.id, by="retention")
        db.session.execute(
            sa.update(Credential)
            .where(Credential.holder_id == person.id)
            .values(holder_id=None)
            .execution_options(synchronize_session=False)
        )
        services.delete_account(person)
        erased += 1
    return erased


def _delete(kind: str, ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    model = _MODELS[kind]
    return _rowcount(
        db.session.execute(
            sa.delete(model).where(model.id.in_(ids), *conditions).execution_options(synchronize_session=False)
        )
    )


def _forget_subjects(ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    return _rowcount(
        db.session.execute(
            sa.update(AuditEvent)
            .where(AuditEvent.id.in_(ids), *conditions)
            .values(subject_id=None)
            .execution_options(synchronize_session=False)
        )
    )


def _apply(kind: str, ids: list[int], conditions: list[sa.ColumnElement[bool]]) -> int:
    if kind == "bookings":
        return _anonymise_bookings(ids, conditions)
    if kind == "feedback":
        return _anonymise_feedback(ids, conditions)
    if kind == "desk_people":
        return _erase_desk_people(ids, conditions)
    if kind == "audit":
        return _forget_subjects(ids, conditions)
    return _delete(kind, ids, conditions)


def batches(rules: Rules, size: int) -> Iterator[tuple[str, int]]:
    """Carry out the plan a batch at a time, yielding (kind, rows changed) after each batch.

    The caller commits after each yield (and rolls back if anything fails): every transaction is
    one batch, and one stopped half-way leaves what it did and what it did not do, both whole.
    People are erased a tenth of a batch at a time: each erasure is a few statements.
    """
    for kind in KINDS:
        conditions = rules.of(kind)
        step = max(1, size // 10) if kind == "desk_people" else max(1, size)
        after = 0
        while True:
            ids = _next_ids(kind, conditions, after, step)
            if not ids:
                break
            changed = _apply(kind, ids, conditions)
            db.session.flush()
            yield kind, changed
            after = ids[-1]
            if len(ids) < step:
                break
