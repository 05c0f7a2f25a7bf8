"""Feedback in one tap: "How was it?" after a session, and what organisers may see of the answers.

A person who was at a session (booked on it, not marked absent or excused) answers with one of
three faces and, if they like, a sentence; one answer per person and session, changed by
answering again. The answers are anonymous to whoever reads them:

- an offer's answers are shown only as counts per face and the sentences (no names, no times,
  sentences in alphabetical order), and nothing but "fewer than MIN_ANSWERS answers so far"
  until MIN_ANSWERS people answered;
- per session only when *every* session of the offer that has answers reached MIN_ANSWERS: a
  session with one answer beside a shown course total would give that answer away by subtraction;
- the dashboard's cells (category and month) follow the mix's rule (``reports.rounded``): shown
  from MIN_ANSWERS answers, counts rounded to a multiple of ``reports.MIX_ROUNDING`` and shares
  computed from the rounded counts, so a cell subtracted from an offer's exact counts gives no
  one person's answer.

A deleted account's answers stay as anonymous counts (``user_id`` SET NULL); their sentences go
with the person (``forget``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.attendance.reports import MIX_ROUNDING, Period, month_start, next_month, rounded
from einstein.auth.models import User
from einstein.bookings.models import Booking, BookingStatus
from einstein.courses.models import Category, Offer, OfferSession, OfferStatus, OfferTranslation, SessionStatus
from einstein.db import LabelledEnum, Model, children_of, db, enum_column, load_unloaded, utcnow
from einstein.errors import CodedError
from einstein.i18n import TIMEZONE

#: Below this many answers an organiser sees nothing but that there are too few.
MIN_ANSWERS = 5
#: The longest sentence a person may add.
SENTENCE_MAX = 500
#: How long after a session ended the question is asked (on "my bookings" and by its link).
ANSWER_DAYS = 30


class Face(LabelledEnum):
    """The three answers to "How was it?"."""

    GOOD = "good"
    OKAY = "okay"
    NOT_GOOD = "not_good"

    @classmethod
    def labels(cls) -> dict[Face, Any]:
        return {cls.GOOD: _l("Good"), cls.OKAY: _l("Okay"), cls.NOT_GOOD: _l("Not good")}


class Feedback(Model):
    """One person's answer about one session; one per person and session."""

    __tablename__ = "feedback"
    __table_args__ = (sa.UniqueConstraint("user_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"), index=True)
    #: The session's offer, kept beside it: an offer's answers are counted together.
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    #: None once the person deleted their account: the answer stays as an anonymous count.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    face: Mapped[Face] = mapped_column(enum_column(Face))
    #: The optional sentence, tidied and checked like every free text (``einstein.forms``).
    sentence: Mapped[str | None] = mapped_column(sa.String(SENTENCE_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[OfferSession] = relationship()
    offer: Mapped[Offer] = relationship()

    def __repr__(self) -> str:
        return f"<Feedback session={self.session_id} {self.face.value}>"


ERRORS = {
    "cancelled": _l("This session was cancelled, so there is nothing to say about it."),
    "not_yet": _l("You can say how it was once the session is over."),
    "too_late": _l("This session was too long ago to ask about it."),
    "not_booked": _l("You had no place in this session."),
    "absent": _l("You were not at this session, so we do not ask you about it."),
}


class FeedbackError(CodedError):
    """An answer that cannot be given, with a message for the person."""

    messages = ERRORS


# --- the link in a message ----------------------------------------------------------------------------

FEEDBACK_SALT = "einstein.feedback"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FEEDBACK_SALT)


def feedback_token(user: User, session: OfferSession) -> str:
    """A signed token that lets the person answer about this session without signing in (people
    registered at the desk have no password); whether they may is checked when they use it."""
    return str(_serializer().dumps([user.id, session.id]))


def read_feedback_token(token: str) -> tuple[User, OfferSession] | None:
    """The person and session a feedback link is for, if the link is genuine."""
    if not token or len(token) > 256:
        return None
    try:
        user_id, session_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**31 for n in (user_id, session_id)):
        return None
    user = db.session.get(User, user_id)
    session = db.session.get(OfferSession, session_id)
    return (user, session) if user is not None and session is not None else None


# --- answering ---------------------------------------------------------------------------------------


def _was_there(user: User, session: OfferSession) -> str | None:
    """None if ``user`` was booked on ``session`` and not marked absent or excused, else the reason."""
    return _presence(user, [session])[session.id]


def _covers(session: type[OfferSession]) -> sa.ColumnElement[bool]:
    """A booking covers a session: booked on it, or on its course."""
    return sa.and_(
        Booking.offer_id == session.offer_id,
        sa.or_(Booking.session_id == session.id, Booking.session_id.is_(None)),
    )


def _presence(user: User, sessions: list[OfferSession]) -> dict[int, str | None]:
    """``_was_there`` for each of ``sessions``, in one statement: session id -> None or the reason."""
    rows: dict[int, list[Any]] = defaultdict(list)
    for session_id, status, confirmed_at, mark in db.session.execute(
        sa.select(OfferSession.id, Booking.status, Booking.confirmed_at, Attendance.status)
        .join(Booking, _covers(OfferSession))
        .outerjoin(Attendance, sa.and_(Attendance.booking_id == Booking.id, Attendance.session_id == OfferSession.id))
        .where(OfferSession.id.in_([session.id for session in sessions]), Booking.user_id == user.id)
    ):
        rows[session_id].append((status, confirmed_at, mark))
    return {session.id: _verdict(session, rows[session.id]) for session in sessions}


def _verdict(session: OfferSession, rows: list[Any]) -> str | None:
    """None if one of the person's bookings (status, confirmed_at, attendance mark on ``session``)
    says they were there, else why not."""
    absent = False
    for status, confirmed_at, mark in rows:
        if mark == AttendanceStatus.PRESENT:
            return None
        if mark in {AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED}:
            absent = True
        elif status == BookingStatus.CONFIRMED and (confirmed_at is None or confirmed_at < session.ends_at):
            return None
    return "absent" if absent else "not_booked"


def check_answerable(user: User, session: OfferSession, now: datetime | None = None) -> None:
    """Raise FeedbackError unless ``user`` may say how ``session`` was, now."""
    now = now or utcnow()
    if session.status == SessionStatus.CANCELLED:
        raise FeedbackError("cancelled")
    if session.ends_at > now:
        raise FeedbackError("not_yet")
    if session.ends_at < now - timedelta(days=ANSWER_DAYS):
        raise FeedbackError("too_late")
    problem = _was_there(user, session)
    if problem is not None:
        raise FeedbackError(problem)


def answer_of(user: User, session: OfferSession) -> Feedback | None:
    """The person's answer about this session, if they gave one."""
    return db.session.scalar(sa.select(Feedback).where(Feedback.user_id == user.id, Feedback.session_id == session.id))


def answer(
    user: User, session: OfferSession, face: Face, sentence: str | None = None, *, with_sentence: bool = False
) -> Feedback:
    """Record (or change) the person's answer; the sentence only when the form had one."""
    check_answerable(user, session)
    found = answer_of(user, session)
    if found is None:
        found = Feedback(session_id=session.id, offer_id=session.offer_id, user_id=user.id, face=face)
        try:
            with db.session.begin_nested():  # two taps at once: the second changes the first
                db.session.add(found)
        except sa.exc.IntegrityError:
            found = answer_of(user, session)
            if found is None:  # pragma: no cover (the row the constraint saw is gone again)
                raise
    found.face = face
    if with_sentence:
        found.sentence = sentence or None
    db.session.flush()
    return found


#: The statement of ``to_answer``, made once (building it cost more than running it): the person's
#: recent sessions, a row for each of their bookings covering one (its own session, or its course),
#: with the attendance mark and the answer they gave. Parameters: ``user_id``, ``since``, ``now``,
#: ``rows`` (how many sessions to look at).
_RECENT_SESSIONS = (
    sa.select(OfferSession, Booking.status, Booking.confirmed_at, Attendance.status, Feedback)
    .join(Booking, sa.and_(_covers(OfferSession), Booking.user_id == sa.bindparam("user_id")))
    .outerjoin(Attendance, sa.and_(Attendance.booking_id == Booking.id, Attendance.session_id == OfferSession.id))
    .outerjoin(Feedback, sa.and_(Feedback.session_id == OfferSession.id, Feedback.user_id == sa.bindparam("user_id")))
    .where(
        OfferSession.id.in_(
            sa.select(OfferSession.id)
            .join(Booking, _covers(OfferSession))
            .where(
                Booking.user_id == sa.bindparam("user_id"),
                OfferSession.status == SessionStatus.SCHEDULED,
                OfferSession.ends_at <= sa.bindparam("now"),
                OfferSession.ends_at >= sa.bindparam("since"),
            )
            .order_by(OfferSession.ends_at.desc())
            .limit(sa.bindparam("rows"))
            .correlate(None)  # its own offer_sessions and bookings, not the outer ones
        )
    )
    .options(joinedload(OfferSession.offer))
    .order_by(OfferSession.ends_at.desc(), OfferSession.id)
)


#: The texts of some offers (``load_unloaded``).
_TRANSLATIONS = children_of(sa.select(OfferTranslation), OfferTranslation.offer_id)


def to_answer(user: User, limit: int = 5) -> list[tuple[OfferSession, Feedback | None]]:
    """The person's recent sessions that took place and may be answered about, newest first,
    with the answer they gave (for "my bookings"): one statement reads the sessions with their
    offers, whether the person was there and what they answered (a second, the offers'
    translations, only when they are not loaded yet)."""
    now = utcnow()
    since = now - timedelta(days=ANSWER_DAYS)
    rows = db.session.execute(_RECENT_SESSIONS, {"user_id": user.id, "now": now, "since": since, "rows": limit * 3})
    sessions: dict[int, OfferSession] = {}
    presence: dict[int, list[Any]] = defaultdict(list)
    answers: dict[int, Feedback] = {}
    for session, status, confirmed_at, mark, given in rows:
        sessions[session.id] = session
        presence[session.id].append((status, confirmed_at, mark))
        if given is not None:
            answers[session.id] = given
    answerable = [s for s in sessions.values() if _verdict(s, presence[s.id]) is None][:limit]
    if answerable:
        # each card's title is in the reader's language: the translations of the offers "my
        # bookings" has not loaded already, in one statement
        offers = {s.offer for s in answerable}
        load_unloaded(offers, "translations", _TRANSLATIONS)
    return [(session, answers.get(session.id)) for session in answerable]


def forget(user: User) -> None:
    """Erase the person's sentences (their words may say who they are); the faces stay as counts."""
    db.session.execute(sa.update(Feedback).where(Feedback.user_id == user.id).values(sentence=None))


def export_of(user: User) -> list[dict[str, object]]:
    """The person's own answers, for "download my data"."""
    rows = db.session.scalars(
        sa.select(Feedback).where(Feedback.user_id == user.id).order_by(Feedback.created_at, Feedback.id)
    )
    return [
        {
            "offer": f.offer.title,
            "session_start": f.session.starts_at.isoformat(),
            "answer": f.face.value,
            "sentence": f.sentence,
            "answered_at": f.created_at.isoformat(),
            "changed_at": f.updated_at.isoformat(),
        }
        for f in rows
    ]


# --- what organisers see -------------------------------------------------------------------------------


@dataclass
class Summary:
    """Answers counted together, as they may be shown: nothing below MIN_ANSWERS."""

    answers: int
    counts: dict[Face, int]
    sentences: list[tuple[Face, str]] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_ANSWERS

    def share(self, face: Face) -> int | None:
        """A percentage of the answers (None when nothing may be shown)."""
        return round(100 * self.counts.get(face, 0) / self.answers) if self.shown else None


def _summary(counts: dict[Face, int], sentences: list[tuple[Face, str]] | None = None) -> Summary:
    total = sum(counts.values())
    if total < MIN_ANSWERS:
        return Summary(total, {})  # not even the counts, nor the sentences
    return Summary(total, {face: counts.get(face, 0) for face in Face}, sorted(sentences or [], key=lambda s: s[1]))


@dataclass
class OfferFeedback:
    """An offer's answers: all together, and per session when that gives nothing away."""

    total: Summary
    #: Per session that has answers, oldest first; None when a session has too few to show.
    sessions: list[tuple[OfferSession, Summary]] | None
    #: How many sessions have answers.
    answered_sessions: int = 0


def of_offer(offer: Offer) -> OfferFeedback:
    """The offer's answers as an organiser may see them."""
    per_session: dict[int, dict[Face, int]] = defaultdict(dict)
    for session_id, face, count in db.session.execute(
        sa.select(Feedback.session_id, Feedback.face, sa.func.count())
        .where(Feedback.offer_id == offer.id)
        .group_by(Feedback.session_id, Feedback.face)
    ):
        per_session[session_id][face] = int(count)
    totals: dict[Face, int] = defaultdict(int)
    for counts in per_session.values():
        for face, count in counts.items():
            totals[face] += count
    sentences: list[tuple[Face, str]] = []
    if sum(totals.values()) >= MIN_ANSWERS:
        sentences = [
            (face, text)
            for face, text in db.session.execute(
                sa.select(Feedback.face, Feedback.sentence).where(
                    Feedback.offer_id == offer.id, Feedback.sentence.is_not(None)
                )
            )
            if text
        ]
    total = _summary(totals, sentences)
    sessions: list[tuple[OfferSession, Summary]] | None = None
    # Complementary suppression: one hidden session beside the shown total would be the
    # total minus the others, so sessions are shown only when none has too few answers.
    if len(per_session) > 1 and all(sum(c.values()) >= MIN_ANSWERS for c in per_session.values()):
        rows = db.session.scalars(sa.select(OfferSession).where(OfferSession.id.in_(per_session)))
        sessions = [(s, _summary(per_session[s.id])) for s in sorted(rows, key=lambda s: s.starts_at)]
    return OfferFeedback(total, sessions, len(per_session))


@dataclass
class Cell:
    """The answers of one category in one month, for the dashboard: rounded like the mix."""

    answers: int
    #: rounded counts (multiples of MIX_ROUNDING), or None below MIN_ANSWERS answers
    shown: dict[Face, int] | None

    @property
    def rounded_total(self) -> int:
        return sum(self.shown.values()) if self.shown else 0

    def share(self, face: Face) -> int | None:
        """A percentage of the rounded counts (None when nothing may be shown)."""
        if not self.shown or not self.rounded_total:
            return None
        return round(100 * self.shown[face] / self.rounded_total)


def _cell(counts: dict[Face, int]) -> Cell:
    total = sum(counts.values())
    shown = {face: rounded(counts.get(face, 0)) for face in Face} if total >= MIN_ANSWERS else None
    return Cell(total, shown)


@dataclass
class Satisfaction:
    """The dashboard's satisfaction: per month (of the sessions' start), per category."""

    months: list[date]
    categories: list[Category]
    cells: dict[tuple[date, Category], Cell]
    rounding: int = MIX_ROUNDING

    def cell(self, month: date, category: Category) -> Cell:
        return self.cells.get((month, category), Cell(0, None))


def satisfaction(period: Period, category: Category | None = None) -> Satisfaction:
    """Answers about the period's sessions, per month and category, as they may be shown."""
    conditions = [
        OfferSession.starts_at >= period.starts_at,
        OfferSession.starts_at < period.ends_before,
        OfferSession.status == SessionStatus.SCHEDULED,
        Offer.status.in_([OfferStatus.PUBLISHED, OfferStatus.CANCELLED]),
    ]
    if category is not None:
        conditions.append(Offer.category == category)
    rows = db.session.execute(
        sa.select(OfferSession.starts_at, Offer.category, Feedback.face, sa.func.count())
        .select_from(Feedback)
        .join(OfferSession, OfferSession.id == Feedback.session_id)
        .join(Offer, Offer.id == Feedback.offer_id)
        .where(*conditions)
        .group_by(OfferSession.id, OfferSession.starts_at, Offer.category, Feedback.face)
    )
    counts: dict[tuple[date, Category], dict[Face, int]] = defaultdict(lambda: defaultdict(int))
    for starts_at, offer_category, face, count in rows:
        month = month_start(starts_at.astimezone(TIMEZONE).date())
        counts[(month, offer_category)][face] += int(count)
    months, month = [], month_start(period.start)
    while month <= period.end and month <= month_start(utcnow().astimezone(TIMEZONE).date()):
        months.append(month)
        month = next_month(month)
    categories = sorted({c for _m, c in counts}, key=lambda c: list(Category).index(c))
    cells = {key: _cell(value) for key, value in counts.items()}
    return Satisfaction(months, categories, cells)
