"""The rules of accounts: passwords, sign-in sessions and who may do what."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from einstein.auth.models import Audience, LoginSession, Role, User
from einstein.db import db, utcnow


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Check a password, upgrading the stored hash when the parameters have been raised."""
    if user.password_hash is None:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, remember: bool = False) -> str:
    """Record a new sign-in for ``user`` and return the token that identifies it."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["LOGIN_SESSION_DAYS"] if remember else 1
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_token_hash(token),
            remember=remember,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    user.last_login_at = utcnow()
    user.login_token = token
    return token


#: Built once: it runs on every request of everyone signed in.
_LOAD_USER = (
    sa.select(User)
    .join(LoginSession)
    .where(
        LoginSession.token_hash == sa.bindparam("token_hash"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > sa.bindparam("now"),
    )
)


def load_user(token: str) -> User | None:
    """Return the user of a live sign-in session, or None if it ended, expired or never was."""
    if not token or len(token) > 128:
        return None
    user = db.session.scalar(_LOAD_USER, {"token_hash": _token_hash(token), "now": utcnow()})
    if user is not None:
        user.login_token = token
    return user


def end_login_session(token: str | None) -> None:
    """End one sign-in session on the server, so its cookie is refused from now on."""
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_login_sessions(user: User) -> None:
    """End every sign-in session of ``user`` (after a password change or a role change)."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def normalise_email(email: str | None) -> str | None:
    """Lower-case and trim an e-mail address; empty means none."""
    email = (email or "").strip().lower()
    return email or None


def find_by_identifier(identifier: str) -> User | None:
    """Find an account by e-mail address or phone number."""
    from einstein.auth.phones import normalise_phone

    identifier = identifier.strip()
    if "@" in identifier:
        return db.session.scalar(sa.select(User).where(User.email == normalise_email(identifier)))
    phone = normalise_phone(identifier)
    if phone is None:
        return None
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def create_user(
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    role: Role = Role.PARTICIPANT,
    locale: str = "nl",
    audience: Audience = Audience.UNSAID,
) -> User:
    """Add an account (the caller commits)."""
    user = User(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        password_hash=hash_password(password) if password else None,
        role=role,
        locale=locale,
        audience=audience,
        calendar_token=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.flush()
    return user


# --- signing up and in -------------------------------------------------------------------------

#: Verified against when no account matches, so "unknown account" takes as long as "wrong password".
_DUMMY_HASH: list[str] = []


def _dummy_check(password: str) -> None:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("an account that does not exist"))
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher().verify(_DUMMY_HASH[0], password)


class AccountExistsError(Exception):
    """The e-mail address or phone number belongs to another account."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def contact_taken(email: str | None, phone: str | None, exclude: User | None = None) -> str | None:
    """Return "email" or "phone" if another account uses it, else None."""
    for field, value in (("email", email), ("phone", phone)):
        if not value:
            continue
        query = sa.select(User.id).where(getattr(User, field) == value)
        if exclude is not None:
            query = query.where(User.id != exclude.id)
        if db.session.scalar(query) is not None:
            return field
    return None


def sign_up(
    name: str,
    *,
    email: str | None,
    phone: str | None,
    password: str | None,
    locale: str,
    audience: Audience,
) -> User:
    """Make a participant account and queue the e-mail that confirms the address.

    Without a password (made at the desk) the person signs in after a password reset.
    """
    taken = contact_taken(email, phone)
    if taken:
        raise AccountExistsError(taken)
    user = create_user(name, email=email, phone=phone, password=password, locale=locale, audience=audience)
    if user.email:
        request_verification(user)
    return user


def authenticate(identifier: str, password: str) -> User | None:
    """Return the account if the identifier and password match, else None (same time either way)."""
    user = find_by_identifier(identifier)
    if user is None or user.password_hash is None:
        _dummy_check(password)
        return None
    return user if check_password(user, password) else None


def request_verification(user: User) -> None:
    """Queue an e-mail with a link that confirms the person's address."""
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    queue(NotificationKind.VERIFY_EMAIL, user, payload={"email": user.email})


def confirm_email(user: User) -> bool:
    """Mark the address confirmed; return False if it already was."""
    if user.email_verified_at is not None:
        return False
    user.email_verified_at = utcnow()
    return True


def request_password_reset(email: str) -> None:
    """Queue a reset link if an account has this address; do nothing (visibly) otherwise."""
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is not None:
        queue(NotificationKind.PASSWORD_RESET, user)


def set_password(user: User, password: str) -> None:
    """Store a new password and end every sign-in session (the caller starts a new one)."""
    user.password_hash = hash_password(password)
    end_all_login_sessions(user)


# --- the profile -------------------------------------------------------------------------------


def update_profile(
    user: User,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    locale: str,
    audience: Audience,
    email_notifications: bool,
) -> bool:
    """Change what a person can change about themselves; return True if a new address needs confirming."""
    from einstein.bookings.models import Booking

    taken = contact_taken(email, phone, exclude=user)
    if taken:
        raise AccountExistsError(taken)
    new_address = normalise_email(email) != user.email
    user.name = name
    user.email = normalise_email(email)
    user.phone = phone
    user.locale = locale
    user.email_notifications = email_notifications
    if audience != user.audience:
        user.audience = audience
        # Reports count bookings by the answer given; keep open bookings in step with it.
        db.session.execute(sa.update(Booking).where(Booking.user_id == user.id).values(audience=audience))
    if new_address:
        user.email_verified_at = None
        if user.email:
            request_verification(user)
    return new_address and user.email is not None


def by_calendar_token(token: str) -> User | None:
    """The person whose calendar feed has this secret address, if any."""
    if not 16 <= len(token) <= 64:
        return None
    return db.session.scalar(sa.select(User).where(User.calendar_token == token))


def reset_calendar_token(user: User) -> None:
    """Give the personal calendar feed a new secret address; the old one stops working."""
    user.calendar_token = secrets.token_urlsafe(24)


# --- privacy -----------------------------------------------------------------------------------


def export_data(user: User) -> dict[str, object]:
    """Everything einstein holds about ``user``, for "download my data"."""
    from einstein.attendance.models import Attendance
    from einstein.bookings.models import Booking
    from einstein.courses.models import Offer
    from einstein.notifications.models import Notification

    def when(value: object) -> object:
        return value.isoformat() if hasattr(value, "isoformat") else value

    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.user_id == user.id)
        .options(joinedload(Booking.offer), joinedload(Booking.session))
        .order_by(Booking.created_at)
    )
    marks: dict[int, list[Attendance]] = {}
    for mark in db.session.scalars(
        sa.select(Attendance)
        .join(Booking, Booking.id == Attendance.booking_id)
        .where(Booking.user_id == user.id)
        .options(joinedload(Attendance.session))
        .order_by(Attendance.id)
    ):
        marks.setdefault(mark.booking_id, []).append(mark)
    booking_rows = []
    for booking in bookings:
        attendance = marks.get(booking.id, [])
        booking_rows.append(
            {
                "reference": booking.reference,
                "offer": booking.offer.title,
                "kind": booking.offer.kind.value,
                "session_start": when(booking.session.starts_at) if booking.session else None,
                "status": booking.status.value,
                "waitlist_position": booking.waitlist_position,
                "booked_at": when(booking.created_at),
                "cancelled_at": when(booking.cancelled_at),
                "attendance": [
                    {"session_start": when(a.session.starts_at), "status": a.status.value} for a in attendance
                ],
            }
        )
    notifications = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at)
    )
    offers = db.session.scalars(sa.select(Offer).where(Offer.organiser_id == user.id))
    return {
        "exported_at": when(utcnow()),
        "account": {
            "name": user.name,
            "email": user.email,
            "email_confirmed_at": when(user.email_verified_at),
            "phone": user.phone,
            "role": user.role.value,
            "language": user.locale,
            "about_you": user.audience.value,
            "email_notifications": user.email_notifications,
            "created_at": when(user.created_at),
            "last_sign_in_at": when(user.last_login_at),
            "consent_recorded_at": when(user.consent_recorded_at),
        },
        "sign_in_sessions": [
            {"started_at": when(s.created_at), "expires_at": when(s.expires_at), "ended_at": when(s.revoked_at)}
            for s in user.login_sessions
        ],
        "bookings": booking_rows,
        "emails": [
            {
                "kind": n.kind.value,
                "status": n.status.value,
                "created_at": when(n.created_at),
                "sent_at": when(n.sent_at),
            }
            for n in notifications
        ],
        "offers_organised": [{"title": o.title, "status": o.status.value} for o in offers],
    }


def delete_account(user: User) -> None:
    """Remove a person and their personal data; bookings and attendance stay as anonymous counts.

    Upcoming bookings are cancelled first, so their places go to the waiting list.
    """
    from einstein.bookings import services as bookings
    from einstein.bookings.models import CancelReason

    for booking in bookings.upcoming_bookings_of(user):
        bookings.cancel(booking, reason=CancelReason.ACCOUNT_DELETED)
    # Foreign keys do the rest: bookings keep no user (SET NULL), sign-ins and e-mails go (CASCADE).
    db.session.delete(user)
    db.session.flush()


# --- roles -------------------------------------------------------------------------------------


def set_trusted(user: User, trusted: bool) -> bool:
    """Let a volunteer's activities skip approval, or not; only volunteers can be trusted."""
    if user.role != Role.VOLUNTEER:
        return False
    user.trusted = trusted
    return True


def set_role(user: User, role: Role) -> None:
    """Give ``user`` a new role; a volunteer who stops being one is no longer trusted."""
    user.role = role
    if not user.has_role(Role.VOLUNTEER):
        user.trusted = False


def search_people(query: str | None, role: Role | None = None) -> sa.Select[tuple[User]]:
    """Build the query for the people list (and the desk's search), by name."""
    statement = sa.select(User).order_by(User.name, User.id)
    if role is not None:
        statement = statement.where(User.role == role)
    if query:
        from einstein.auth.phones import normalise_phone

        needle = query.lower()
        conditions = [
            sa.func.lower(User.name).contains(needle, autoescape=True),
            User.email.contains(needle, autoescape=True),
        ]
        phone = normalise_phone(query)
        if phone:
            conditions.append(User.phone == phone)
        statement = statement.where(sa.or_(*conditions))
    return statement
