"""People and their sign-in sessions.

There is deliberately no column for legal status, V-number, BSN or nationality: einstein must
never hold them. ``audience`` is the only self-description, optional and shown in aggregate only.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from einstein.auth.names import name_key
from einstein.db import LabelledEnum, Model, enum_column, utcnow


class Role(LabelledEnum):
    """What a person may do; each role can do everything the roles before it can."""

    PARTICIPANT = "participant"
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    @classmethod
    def labels(cls) -> dict[Role, Any]:
        return {
            cls.PARTICIPANT: _l("Participant"),
            cls.VOLUNTEER: _l("Volunteer"),
            cls.COORDINATOR: _l("Coordinator"),
            cls.ADMIN: _l("Admin"),
        }


#: Each role's place in the order above (every page asks, for the menu and the permissions).
_ROLE_RANKS = {role: rank for rank, role in enumerate(Role)}


class Audience(LabelledEnum):
    """How a participant describes themselves, if they want to; never a legal status."""

    NEWCOMER = "newcomer"
    NEIGHBOUR = "neighbour"
    UNSAID = "unsaid"

    @classmethod
    def labels(cls) -> dict[Audience, Any]:
        return {
            cls.NEWCOMER: _l("New in the Netherlands"),
            cls.NEIGHBOUR: _l("From the neighbourhood"),
            cls.UNSAID: _l("Did not say"),
        }


class AgeGroup(LabelledEnum):
    """How old a household member is, roughly: enough to book the right activities, no birth date."""

    CHILD = "child"
    TEEN = "teen"
    ADULT = "adult"

    @classmethod
    def labels(cls) -> dict[AgeGroup, Any]:
        return {
            cls.CHILD: _l("Child (under 12)"),
            cls.TEEN: _l("Young person (12 to 17)"),
            cls.ADULT: _l("Adult (18 or older)"),
        }


class User(UserMixin, Model):  # type: ignore[misc]  # Flask-Login ships no types: UserMixin is Any to mypy
    """A person with an account: participant, volunteer, coordinator or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: The name folded for finding duplicates at the desk (``auth.names.name_key``); kept by ``_keep_name_key``.
    name_key: Mapped[str] = mapped_column(sa.String(120), default="", server_default="", index=True)
    #: Lower-cased; optional because many participants have none.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: E.164, e.g. +31612345678; optional.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    #: Set when the person typed the code we texted to ``phone`` (or the desk registered them in
    #: person): only then do messages go to it by SMS, and only then is the number theirs alone.
    phone_verified_at: Mapped[datetime | None]
    #: A new number the person asked for, kept apart until the code texted to it is typed.
    pending_phone: Mapped[str | None] = mapped_column(sa.String(20))
    #: SHA-256 of the last code texted, when, and how often a wrong code was typed since.
    phone_code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    phone_code_sent_at: Mapped[datetime | None]
    phone_code_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The number answered STOP: no more SMS to it until it answers START.
    sms_stopped_at: Mapped[datetime | None]
    #: How the person wants to be told, when both work: "email" or "sms" (None: e-mail first).
    notify_by: Mapped[str | None] = mapped_column(sa.String(8))
    #: argon2id hash; None for people booked in at the desk who have not set a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.PARTICIPANT, index=True)
    #: Language of the pages and of every e-mail to this person.
    locale: Mapped[str] = mapped_column(sa.String(8), default="nl")
    audience: Mapped[Audience] = mapped_column(enum_column(Audience), default=Audience.UNSAID)
    #: Set when the person followed the signed link; reminders go only to verified addresses.
    email_verified_at: Mapped[datetime | None]
    #: A new address the person asked for, kept apart until its link is followed: until then
    #: e-mails (and password resets) go to the confirmed address above.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: Random, renewed when the password, e-mail address or phone number changes: links signed
    #: with it (password reset) stop working then. Accounts without a password each have their own.
    security_stamp: Mapped[str] = mapped_column(sa.String(32), default=lambda: secrets.token_hex(16))
    #: The person's own switch for reminders and other e-mails.
    email_notifications: Mapped[bool] = mapped_column(default=True)
    #: A volunteer whose activities are published without waiting for approval.
    trusted: Mapped[bool] = mapped_column(default=False)
    #: Secret in the personal calendar feed URL; the person can reset it.
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: For accounts made at the desk: who recorded the person's consent, and when.
    consent_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    consent_recorded_at: Mapped[datetime | None]
    #: A member of this account holder's household (a child, a partner): no account of their own,
    #: no e-mail, no phone, never signs in; messages about their bookings go to the holder.
    household_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: A household member's age group (None for everyone else).
    age_group: Mapped[AgeGroup | None] = mapped_column(enum_column(AgeGroup))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]

    #: The account holder of a household member's household (messages about the member go there).
    household_of: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[household_of_id])
    login_sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    #: The sign-in session this object was loaded for (set by the user loader, not stored).
    login_token = None  # type: str | None
    #: Whether the person had household members when the user loader read them (None: not read).
    has_household = None  # type: bool | None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)
        return name

    def get_id(self) -> str | None:
        """Identify the sign-in session, not the user, so that it can be revoked on the server."""
        return self.login_token

    def has_role(self, role: Role) -> bool:
        """Return whether this person has ``role`` or a role above it."""
        return self.role.rank >= role.rank

    @property
    def is_volunteer(self) -> bool:
        return self.has_role(Role.VOLUNTEER)

    @property
    def is_coordinator(self) -> bool:
        return self.has_role(Role.COORDINATOR)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None

    @property
    def wants_email(self) -> bool:
        """Booking e-mails go only to a confirmed address of someone who wants them."""
        return self.email_verified and self.email_notifications

    @property
    def phone_verified(self) -> bool:
        return self.phone is not None and self.phone_verified_at is not None

    @property
    def phone_to_verify(self) -> str | None:
        """The number a code is for: a new one asked for, else one not verified yet."""
        if self.pending_phone:
            return self.pending_phone
        return self.phone if self.phone and self.phone_verified_at is None else None

    @property
    def wants_sms(self) -> bool:
        """Texts go only to a verified number that has not answered STOP."""
        return self.phone_verified and self.sms_stopped_at is None

    @property
    def can_sign_in(self) -> bool:
        return self.password_hash is not None

    @property
    def is_household_member(self) -> bool:
        return self.household_of_id is not None


class LoginSession(Model):
    """One sign-in on one device; deleting or revoking it signs that device out."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the random token kept in the cookie; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    #: Last request seen, to within a few minutes: a sign-in idle for too long ends.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What the device said it is, shortened ("Firefox on Android"), for the list of sign-ins.
    device: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")

    user: Mapped[User] = relationship(back_populates="login_sessions")

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"
