"""The catalogue: offers (courses and activities), their sessions, places and organisers."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, backref, mapped_column, object_session, relationship

from einstein.auth.models import Audience, User
from einstein.db import LabelledEnum, Model, db, enum_column, utcnow
from einstein.i18n import TIMEZONE


class OfferKind(LabelledEnum):
    """A course is booked as a whole series; an activity is booked one session at a time."""

    COURSE = "course"
    ACTIVITY = "activity"

    @classmethod
    def labels(cls) -> dict[OfferKind, Any]:
        return {cls.COURSE: _l("Course"), cls.ACTIVITY: _l("Activity")}


class OfferStatus(LabelledEnum):
    """Where an offer is in its life; only published offers are in the public catalogue."""

    PENDING = "pending"  # a volunteer's activity waiting for a coordinator
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @classmethod
    def labels(cls) -> dict[OfferStatus, Any]:
        return {
            cls.PENDING: _l("Waiting for approval"),
            cls.PUBLISHED: _l("Published"),
            cls.REJECTED: _l("Not approved"),
            cls.CANCELLED: _l("Cancelled"),
        }


class Category(LabelledEnum):
    """The themes of Utrecht's integration policy that offers are sorted by."""

    LANGUAGE = "language"
    WORK = "work"
    EDUCATION = "education"
    HEALTH = "health"
    PARENTING = "parenting"
    MONEY = "money"
    SOCIAL = "social"
    CULTURE = "culture"

    @classmethod
    def labels(cls) -> dict[Category, Any]:
        return {
            cls.LANGUAGE: _l("Language"),
            cls.WORK: _l("Work and entrepreneurship"),
            cls.EDUCATION: _l("Education"),
            cls.HEALTH: _l("Health"),
            cls.PARENTING: _l("Parenting"),
            cls.MONEY: _l("Money"),
            cls.SOCIAL: _l("Social and sport"),
            cls.CULTURE: _l("Culture"),
        }


class DutchLevel(LabelledEnum):
    """How much Dutch a participant needs to follow along."""

    NONE = "none"
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"

    @classmethod
    def labels(cls) -> dict[DutchLevel, Any]:
        return {
            cls.NONE: _l("No Dutch needed"),
            cls.BEGINNER: _l("Some Dutch (A1–A2)"),
            cls.INTERMEDIATE: _l("Conversational Dutch (B1)"),
            cls.ADVANCED: _l("Good Dutch (B2 or higher)"),
        }


class SessionStatus(enum.StrEnum):
    """A session takes place unless it is cancelled."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class CapacityMixin:
    """Places and the counters kept beside them, changed only under the booking lock."""

    #: Places that can be confirmed. A course session keeps a copy of its course's capacity.
    capacity: Mapped[int] = mapped_column(default=12)
    #: Confirmed bookings, kept by the booking service so lists need no COUNT.
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: People on the waiting list, kept by the booking service.
    waitlist_count: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def free_places(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def is_full(self) -> bool:
        return self.confirmed_count >= self.capacity


class Organisation(Model):
    """A partner organisation that runs courses: a language school, a support group, a team."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    website: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Location(Model):
    """A place where sessions happen."""

    __tablename__ = "locations"
    __table_args__ = (sa.UniqueConstraint("name", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str | None] = mapped_column(sa.String(12))
    city: Mapped[str] = mapped_column(sa.String(80), default="Utrecht")
    #: Reachable without steps (wheelchair, pram).
    step_free: Mapped[bool] = mapped_column(default=False)
    #: When a coordinator (or a trusted organiser) first published something here. A place
    #: typed in by a volunteer who is not trusted reaches participants only after approval.
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Location {self.id} {self.name!r}>"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def one_line(self) -> str:
        parts = [self.name, self.address, " ".join(p for p in (self.postcode, self.city) if p)]
        return ", ".join(p for p in parts if p)

    @property
    def map_url(self) -> str:
        """The place on OpenStreetMap (a link people follow; the page itself loads no map)."""
        return "https://www.openstreetmap.org/search?" + urlencode({"query": self.one_line})


#: The reminders an offer sends unless its organiser chooses others: a day before, and that morning.
DEFAULT_REMINDER_OFFSETS = ("24h", "morning")


class Offer(CapacityMixin, Model):
    """A course or an activity, with its sessions.

    For a course, ``capacity`` and the counters are the course's: one booking covers every
    session. For an activity they are only the default for new sessions; each session has its own.
    """

    __tablename__ = "offers"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("confirmed_count >= 0 AND waitlist_count >= 0", name="counts_not_negative"),
        sa.CheckConstraint("confirmed_count <= capacity", name="confirmed_within_capacity"),
        sa.CheckConstraint("held_places >= 0 AND held_places <= capacity", name="held_within_capacity"),
        sa.CheckConstraint("held_days >= 0 AND held_days <= 60", name="held_days_in_range"),
        sa.Index("ix_offers_status_kind_category", "status", "kind", "category"),
        # the dashboard's figures per offer, a page at a time in title order (einstein.attendance.summary)
        sa.Index("ix_offers_title_id", "title", "id"),
        # Trigram index for "contains" search; PostgreSQL only (see migrations/env.py).
        sa.Index(
            "ix_offers_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OfferKind] = mapped_column(enum_column(OfferKind))
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.PENDING)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Language the title and description are written in.
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    #: Goes up each time the title or the description changes: translations written for an
    #: older version are out of date (``OfferTranslation.source_version``).
    text_version: Mapped[int] = mapped_column(default=0, server_default="0")
    category: Mapped[Category] = mapped_column(enum_column(Category))
    dutch_level: Mapped[DutchLevel] = mapped_column(enum_column(DutchLevel), default=DutchLevel.NONE)
    #: Default place of new sessions.
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id", ondelete="SET NULL"))
    #: The person who runs it (a volunteer or a coordinator) and may change it.
    organiser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    #: Free text shown as "who to contact", e.g. "Sara, 030 123 4567".
    contact: Mapped[str] = mapped_column(sa.String(200), default="")
    waitlist_enabled: Mapped[bool] = mapped_column(default=True)
    #: A place from the waiting list is held for the person until they say yes (a reply, a tap),
    #: and goes to the next person when they do not; off: the place is simply theirs.
    promotion_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: How long such a place is held, at most (shorter when the session is near).
    promotion_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    #: Places held for the mix: before the opening moment (``held_days`` before the start) people
    #: who did not say ``held_for`` may take only ``capacity - held_places`` places (for an
    #: activity, of each session's places); see ``holding_of`` and ``einstein.bookings.held``.
    held_places: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Who the held places are for: people who said "neighbour" (the aim) or "newcomer".
    held_for: Mapped[Audience] = mapped_column(
        enum_column(Audience), default=Audience.NEIGHBOUR, server_default=Audience.NEIGHBOUR.value
    )
    #: How many days before the start (a course's first session, an activity session's own) the
    #: held places open to everyone.
    held_days: Mapped[int] = mapped_column(default=7, server_default="7")
    #: When reminders go out, e.g. ["24h", "morning"]; see einstein.notifications.reminders.
    reminder_offsets: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS))
    #: Lower-cased title, description and translations, for the catalogue's text search.
    search_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: Volunteers wanted to help at each session (0: none asked); see einstein.attendance.volunteering.
    helpers_wanted: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Share of sessions (percent) a participant must attend for a certificate.
    completion_threshold: Mapped[int] = mapped_column(default=80)
    #: What a course covers, in ``language``; printed on its certificates.
    covers: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    #: Why a coordinator did not publish it, as the volunteer is told and sees on "my offers".
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    location: Mapped[Location | None] = relationship()
    organiser: Mapped[User | None] = relationship(foreign_keys=[organiser_id])
    organisation: Mapped[Organisation | None] = relationship()
    sessions: Mapped[list[OfferSession]] = relationship(
        back_populates="offer", order_by="OfferSession.starts_at", cascade="all, delete-orphan"
    )
    translations: Mapped[list[OfferTranslation]] = relationship(back_populates="offer", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.kind.value} {self.title!r}>"

    @property
    def is_course(self) -> bool:
        return self.kind == OfferKind.COURSE

    @property
    def is_public(self) -> bool:
        return self.status == OfferStatus.PUBLISHED

    def text_in(self, locale: str) -> tuple[str, str]:
        """Return the title and description in ``locale`` when translated, else the original."""
        text = self.text_for(locale)
        return text.title, text.description

    def text_for(self, locale: str) -> OfferText:
        """The words a reader of ``locale`` sees, and the language each is written in."""
        if locale != self.language:
            for translation in self.translations:
                if translation.locale == locale:
                    if translation.description or not self.description:
                        description, description_lang = translation.description, locale
                    else:
                        description, description_lang = self.description, self.language
                    return OfferText(
                        translation.title, description, locale, description_lang, locale, translation.outdated
                    )
        return OfferText(self.title, self.description, self.language, self.language, locale)

    @property
    def holding(self) -> Holding | None:
        """The places this course holds for the mix now (for an activity, see its sessions)."""
        return holding_of(self)

    @property
    def organised_by(self) -> str | None:
        """Who runs it, as people know them: the partner organisation, else the organiser."""
        if self.organisation is not None:
            return self.organisation.name
        return self.organiser.name if self.organiser is not None else None


@dataclass(frozen=True)
class OfferText:
    """An offer's title and description as one reader sees them (``Offer.text_for``).

    A text not in the reader's language is the original: pages say which language it is in
    ("in Dutch") and mark it with ``lang``, so that screen readers and fonts read it right.
    """

    title: str
    description: str
    #: the language the title is written in (the reader's when translated, else the original's)
    title_lang: str
    #: the language of the description (an empty translated description shows the original's)
    description_lang: str
    #: the reader's language
    reader: str
    #: a translation written for an older version of the original
    outdated: bool = False

    @property
    def untranslated(self) -> bool:
        """The title is the original, in another language than the reader's."""
        return self.title_lang != self.reader

    @property
    def description_untranslated(self) -> bool:
        return bool(self.description) and self.description_lang != self.reader


class OfferTranslation(Model):
    """The title and description of an offer in another language."""

    __tablename__ = "offer_translations"
    __table_args__ = (sa.UniqueConstraint("offer_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(sa.String(8))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: The ``Offer.text_version`` this translation was written for; older means out of date.
    source_version: Mapped[int] = mapped_column(default=0, server_default="0")

    offer: Mapped[Offer] = relationship(back_populates="translations")

    def __repr__(self) -> str:
        return f"<OfferTranslation offer={self.offer_id} {self.locale}>"

    @property
    def outdated(self) -> bool:
        """The original's title or description changed since this was written."""
        return self.source_version < self.offer.text_version


class OfferSession(CapacityMixin, Model):
    """One dated meeting of an offer: start, end, place and (for activities) places."""

    __tablename__ = "offer_sessions"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("confirmed_count >= 0 AND waitlist_count >= 0", name="counts_not_negative"),
        sa.CheckConstraint("confirmed_count <= capacity", name="confirmed_within_capacity"),
        sa.Index("ix_offer_sessions_status_starts_at", "status", "starts_at"),
        sa.Index("ix_offer_sessions_offer_id_starts_at", "offer_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id", ondelete="SET NULL"))
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.SCHEDULED)
    #: Attendance counters, kept by einstein.attendance.services under the session's row lock.
    present_count: Mapped[int] = mapped_column(default=0, server_default="0")
    absent_count: Mapped[int] = mapped_column(default=0, server_default="0")
    excused_count: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    offer: Mapped[Offer] = relationship(back_populates="sessions")
    location: Mapped[Location | None] = relationship()
    languages: Mapped[list[SessionLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="SessionLanguage.language"
    )

    def __repr__(self) -> str:
        return f"<OfferSession {self.id} offer={self.offer_id} {self.starts_at:%Y-%m-%d %H:%M}>"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def unit(self) -> Offer | OfferSession:
        """What a booking for this session takes a place in: the course, or the session itself."""
        return places_of(self.offer, self)

    @property
    def holding(self) -> Holding | None:
        """The places held for the mix where a booking for this session takes its place, now."""
        return holding_of(self.offer, self)

    @property
    def language_codes(self) -> list[str]:
        return [lang.language for lang in self.languages]

    @property
    def place(self) -> Location | None:
        return self.location or self.offer.location


def places_of(offer: Offer, session: OfferSession | None) -> Offer | OfferSession:
    """Where the places are counted: on a course itself (one booking covers every session), on
    each session of an activity. ``places_column`` is the same rule in SQL."""
    return offer if offer.is_course or session is None else session


def places_column(name: str) -> sa.ColumnElement[int]:
    """SQL for one of the place counters (``capacity``, ``confirmed_count``, ``waitlist_count``)
    where they live (``places_of``), for a query that joins sessions to their offers."""
    return sa.case((Offer.kind == OfferKind.COURSE, getattr(Offer, name)), else_=getattr(OfferSession, name))


def has_started(offer: Offer, session: OfferSession | None = None, now: datetime | None = None) -> bool:
    """Whether it has begun: the session, or for a whole course its first scheduled session.

    The one place this is decided: booking closes, cancelling by the person stops, and cancel
    links die at this moment.
    """
    return began(session.starts_at if session is not None else first_start(offer), now)


def began(starts_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether something starting at ``starts_at`` (None: nothing planned) has begun (``has_started``)."""
    return starts_at is not None and starts_at <= (now or utcnow())


def first_start(offer: Offer) -> datetime | None:
    """When a course's first scheduled session starts (None when none is planned)."""
    if "sessions" not in sa.inspect(offer).unloaded:
        first = next((s for s in offer.sessions if s.status == SessionStatus.SCHEDULED), None)
        return first.starts_at if first is not None else None
    # not loaded: ask for the first start alone rather than load every session of the course
    starts = object_session(offer) or db.session
    found: datetime | None = starts.scalar(
        sa.select(sa.func.min(OfferSession.starts_at)).where(
            OfferSession.offer_id == offer.id, OfferSession.status == SessionStatus.SCHEDULED
        )
    )
    return found


#: Places held for the mix open to everyone at most this many days before the start (a CHECK too).
MAX_HELD_DAYS = 60


@dataclass(frozen=True)
class Holding:
    """Places of a course or a session held for the mix, and when they open to everyone."""

    #: how many of the places are held (never more than the places)
    places: int
    #: for whom: people who said this (``Audience.NEIGHBOUR`` or ``Audience.NEWCOMER``)
    held_for: Audience
    #: the moment they open to everyone
    opens_at: datetime


def held_opening(offer: Offer, session: OfferSession | None = None) -> datetime | None:
    """When the places ``offer`` holds for the mix open to everyone, or None (nothing held, no start).

    ``held_days`` before the start, at the same time of day in Utrecht (the clocks may change in
    between): the session's own start, or for a whole course its first scheduled session's.
    """
    if offer.held_places <= 0:
        return None
    if session is not None and not offer.is_course:
        start = session.starts_at
    else:
        first = next((s for s in offer.sessions if s.status == SessionStatus.SCHEDULED), None)
        if first is None:
            return None
        start = first.starts_at
    local = start.astimezone(TIMEZONE) - timedelta(days=offer.held_days)  # wall-clock arithmetic
    return local.astimezone(UTC)


def holding_of(offer: Offer, session: OfferSession | None = None, now: datetime | None = None) -> Holding | None:
    """The places held for the mix in a course (or an activity's ``session``) now; None when
    nothing is held, or once they opened to everyone. The one place this is decided."""
    if offer.held_places <= 0:  # most offers: no query for the sessions
        return None
    opens_at = held_opening(offer, session)
    if opens_at is None or opens_at <= (now or utcnow()):
        return None
    places = min(offer.held_places, places_of(offer, session).capacity)
    return Holding(places, offer.held_for, opens_at) if places > 0 else None


class SessionLanguage(Model):
    """A language spoken in a session (what the filter "language spoken" searches)."""

    __tablename__ = "session_languages"
    __table_args__ = (sa.Index("ix_session_languages_language_session_id", "language", "session_id"),)

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("offer_sessions.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)

    def __repr__(self) -> str:
        return f"<SessionLanguage {self.session_id} {self.language}>"


class RevisionStatus(enum.StrEnum):
    """A proposed change waits for a coordinator, who approves or rejects it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Decided:
    """Words proposed by someone and decided by a coordinator: who wrote them, whether they are
    waiting, approved or not, who decided when, and why not (for the author)."""

    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[RevisionStatus] = mapped_column(enum_column(RevisionStatus), default=RevisionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    #: Why a coordinator did not approve it, for its author.
    reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OfferRevision(Decided, Model):
    """Changes to the words or the place of a public offer, held until a coordinator has seen them.

    A volunteer who is not trusted may not put words in front of participants on their own: while
    a revision waits, the approved version stays online. An offer has at most one revision
    waiting; a second edit adds to it.
    """

    __tablename__ = "offer_revisions"
    __table_args__ = (
        sa.Index(
            "uq_offer_revisions_pending",
            "offer_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    #: The proposed values: "title", "description", "language", "contact", "location_id", and
    #: "translations" as {locale: {"title", "description"} or None to remove it}.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    offer: Mapped[Offer] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys="OfferRevision.author_id")

    def __repr__(self) -> str:
        return f"<OfferRevision {self.id} offer={self.offer_id} {self.status.value}>"


class TranslatorLanguage(Model):
    """A language a person may translate offers into, given by a coordinator.

    Bilingual volunteers (or participants) translate from a queue of what is untranslated or out
    of date; what they write waits for a coordinator unless they publish directly.
    """

    __tablename__ = "translator_languages"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    #: ``User.translator_languages`` is added here (the accounts know nothing of the catalogue),
    #: for ``policy.may_translate``.
    user: Mapped[User] = relationship(
        foreign_keys=[user_id],
        backref=backref(
            "translator_languages",
            cascade="all, delete-orphan",
            passive_deletes=True,
            order_by="TranslatorLanguage.locale",
        ),
    )

    def __repr__(self) -> str:
        return f"<TranslatorLanguage user={self.user_id} {self.locale}>"


class TranslationProposal(Decided, Model):
    """A translation held until a coordinator has seen it; the one online (if any) stays until then.

    One waits per offer and language: a second translator goes on from the first one's words.
    """

    __tablename__ = "translation_proposals"
    __table_args__ = (
        sa.Index(
            "uq_translation_proposals_pending",
            "offer_id",
            "locale",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_translation_proposals_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(sa.String(8))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: The ``Offer.text_version`` it was written for: approved after an edit, it is out of date.
    source_version: Mapped[int] = mapped_column(default=0)

    offer: Mapped[Offer] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys="TranslationProposal.author_id")

    def __repr__(self) -> str:
        return f"<TranslationProposal {self.id} offer={self.offer_id} {self.locale} {self.status.value}>"
