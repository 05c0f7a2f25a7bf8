"""The rules of accounts: passwords, sign-in sessions and who may do what."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from einstein.auth.models import Audience, LoginSession, Role, User
from einstein.auth.phones import normalise_phone
from einstein.db import db, reading_request, utcnow, write_aside


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


def start_login_session(user: User, remember: bool = False, device: str = "") -> str:
    """Record a new sign-in for ``user`` on ``device`` and return the token that identifies it."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["LOGIN_SESSION_DAYS"] if remember else 1
    now = utcnow()
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_token_hash(token),
            remember=remember,
            expires_at=now + timedelta(days=days),
            last_seen_at=now,
            device=device[:80],
        )
    )
    user.last_login_at = now
    user.login_token = token
    return token


#: Built once: it runs on every request of everyone signed in.
_LOAD_USER = (
    sa.select(User, LoginSession.id, LoginSession.remember, LoginSession.last_seen_at)
    .join(LoginSession)
    .where(
        LoginSession.token_hash == sa.bindparam("token_hash"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > sa.bindparam("now"),
    )
)


def idle_limit(remember: bool) -> timedelta:
    """How long a sign-in may go unused before it ends (longer for "remember me")."""
    config = current_app.config
    return timedelta(seconds=config["REMEMBER_IDLE_SECONDS"] if remember else config["LOGIN_IDLE_SECONDS"])


def load_user(token: str) -> User | None:
    """Return the user of a live sign-in session, or None if it ended, expired, sat idle too long
    or never was. A sign-in in use is marked seen, at most every few minutes, on a page that only
    reads (a writing request on SQLite holds the write lock already; people read pages often)."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    row = db.session.execute(_LOAD_USER, {"token_hash": _token_hash(token), "now": now}).one_or_none()
    if row is None:
        return None
    user, session_id, remember, last_seen_at = row
    if last_seen_at + idle_limit(remember) <= now:
        return None
    every = timedelta(seconds=current_app.config["LOGIN_SEEN_EVERY_SECONDS"])
    if now - last_seen_at >= every and reading_request():
        write_aside(sa.update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))
    user.login_token = token
    return user


def live_login_sessions(user: User) -> list[LoginSession]:
    """The person's sign-ins that still work, the most recently used first."""
    now = utcnow()
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None), LoginSession.expires_at > now)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return [row for row in rows if row.last_seen_at + idle_limit(row.remember) > now]


def is_current(login_session: LoginSession, token: str | None) -> bool:
    """Whether ``login_session`` is the sign-in this request came with."""
    return token is not None and login_session.token_hash == _token_hash(token)


def end_login_session_by_id(user: User, session_id: int) -> bool:
    """End one of the person's own sign-ins (from the list of devices)."""
    result = db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_login_session(token: str | None) -> None:
    """End one sign-in session on the server, so its cookie is refused from now on."""
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_login_sessions(user: User, *, keep: str | None = None) -> int:
    """End every sign-in session of ``user`` (but the one of token ``keep``); return how many."""
    query = sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep:
        query = query.where(LoginSession.token_hash != _token_hash(keep))
    result = db.session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def normalise_email(email: str | None) -> str | None:
    """Lower-case and trim an e-mail address; empty means none."""
    email = (email or "").strip().lower()
    return email or None


def normalise_identifier(identifier: str | None) -> str | None:
    """An e-mail address or phone number the one way it is stored, or None if it is neither.

    ``06-11111111``, ``+31 6 1111 1111`` and ``0031611111111`` are all ``+31611111111``.
    """
    identifier = (identifier or "").strip()[:254]
    if "@" in identifier:
        return normalise_email(identifier)
    return normalise_phone(identifier)


def find_by_identifier(identifier: str) -> User | None:
    """Find an account by e-mail address or phone number."""
    normal = normalise_identifier(identifier)
    if normal is None:
        return None
    column = User.email if "@" in normal else User.phone
    return db.session.scalar(sa.select(User).where(column == normal))


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


def _owner_of(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _tell_owner(owner: User, reason: str) -> None:
    """Tell the owner of an address that someone tried to use it (the person who tried is told
    nothing they could not know already: the answer looks as for a new address)."""
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    queue(NotificationKind.ACCOUNT_EXISTS, owner, payload={"reason": reason})


def register(
    name: str,
    *,
    email: str | None,
    phone: str | None,
    password: str | None,
    locale: str,
    audience: Audience,
) -> User:
    """Make a participant account (at the desk, or for a new address) and ask to confirm the address.

    Raises AccountExistsError when the address or number is taken: for staff who may look people up.
    """
    taken = contact_taken(normalise_email(email), phone)
    if taken:
        raise AccountExistsError(taken)
    user = create_user(name, email=email, phone=phone, password=password, locale=locale, audience=audience)
    if user.email:
        request_verification(user)
    return user


def sign_up(
    name: str,
    *,
    email: str | None,
    phone: str | None,
    password: str | None,
    locale: str,
    audience: Audience,
) -> User | None:
    """A stranger makes an account; return it, or None when the address belongs to someone already.

    Signing up with an address that has an account looks the same as with a new one ("we sent you
    an e-mail"): the owner is told instead, so the form cannot be used to learn who has an account.
    A phone number is still refused openly when taken, until numbers are confirmed by a code.
    """
    owner = _owner_of(email)
    if owner is not None:
        if password:
            hash_password(password)  # as long as making the account would take: time tells nothing either
        _tell_owner(owner, "signup")
        return None
    return register(name, email=email, phone=phone, password=password, locale=locale, audience=audience)


def authenticate(identifier: str, password: str) -> User | None:
    """Return the account if the identifier and password match, else None (same time either way)."""
    user = find_by_identifier(identifier)
    if user is None or user.password_hash is None:
        _dummy_check(password)
        return None
    return user if check_password(user, password) else None


def request_verification(user: User) -> bool:
    """Queue an e-mail with a link that confirms the address being confirmed; False if there is none."""
    from einstein.auth.tokens import address_to_confirm
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    email = address_to_confirm(user)
    if email is None:
        return False
    queue(NotificationKind.VERIFY_EMAIL, user, payload={"email": email})
    return True


def confirm_email(user: User, email: str) -> bool:
    """Confirm ``email`` for ``user`` (the link came to it); return False if nothing changed.

    A new address replaces the old one only now, and only if nobody took it meanwhile; the old
    address is told.
    """
    if user.pending_email == email:
        if contact_taken(email, None, exclude=user):
            user.pending_email = None
            return False
        old = user.email if user.email_verified else None
        user.email, user.pending_email = email, None
        user.email_verified_at = utcnow()
        user.security_stamp = secrets.token_hex(16)
        if old and old != email:
            _tell_old_address(user, old, "email")
        return True
    if user.email == email and user.email_verified_at is None:
        user.email_verified_at = utcnow()
        return True
    return False


def _tell_old_address(user: User, old_email: str, what: str) -> None:
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    queue(NotificationKind.CONTACT_CHANGED, user, payload={"to": old_email, "what": what})


def request_password_reset(email: str) -> None:
    """Queue a reset link if an account has this address confirmed; do nothing (visibly) otherwise.

    A link that sets a password goes only to an address the person has shown is theirs. For an
    address not confirmed yet, the confirmation link goes instead: once it is followed, the
    person can ask again (or, without a password yet, choose one at once).
    """
    from einstein.notifications.models import NotificationKind
    from einstein.notifications.services import queue

    user = _owner_of(email)
    if user is None:
        return
    if user.email_verified:
        queue(NotificationKind.PASSWORD_RESET, user)
    else:
        request_verification(user)


def set_password(user: User, password: str, *, keep: str | None = None) -> None:
    """Store a new password and end every other sign-in session."""
    user.password_hash = hash_password(password)
    end_all_login_sessions(user, keep=keep)


# --- the profile -------------------------------------------------------------------------------


def update_profile(
    user: User,
    *,
    name: str,
    locale: str,
    audience: Audience,
    email_notifications: bool,
) -> None:
    """Change what a person can change about themselves without their password."""
    from einstein.bookings.models import Booking

    user.name = name
    user.locale = locale
    user.email_notifications = email_notifications
    if audience != user.audience:
        user.audience = audience
        # Reports count bookings by the answer given. Only bookings still to come follow a new
        # answer: figures about what is over must not change, or comparing them before and
        # after would tell what this one person answered.
        db.session.execute(sa.update(Booking).where(*_coming_bookings(user)).values(audience=audience))


def _coming_bookings(user: User) -> list[sa.ColumnElement[bool]]:
    """Conditions for the person's active bookings whose first session has not started."""
    from einstein.bookings.models import Booking, BookingStatus
    from einstein.courses.models import OfferSession

    first_start = (
        sa.select(sa.func.min(OfferSession.starts_at))
        .where(
            sa.or_(
                OfferSession.id == Booking.session_id,
                sa.and_(Booking.session_id.is_(None), OfferSession.offer_id == Booking.offer_id),
            )
        )
        .scalar_subquery()
    )
    return [Booking.user_id == user.id, Booking.status != BookingStatus.CANCELLED, first_start > utcnow()]


@dataclass
class ContactChange:
    """What changing the contact details did."""

    #: A link went to the new address (or seemed to: the answer is the same if it is taken).
    email_sent: bool = False
    email_removed: bool = False
    phone_changed: bool = False


def change_contact(user: User, *, email: str | None, phone: str | None) -> ContactChange:
    """Change the e-mail address and phone number; the caller has checked the password.

    A new address is only *asked for*: it replaces the old one when its link is followed, so a
    stranger with a minute on an unlocked phone cannot move the account to their own mailbox.
    If another account has it, that owner is told and this person sees the usual answer. The old
    address hears of every change.

    Raises AccountExistsError("phone") for a phone number another account has.
    """
    email, change = normalise_email(email), ContactChange()
    if phone != user.phone:
        if contact_taken(None, phone, exclude=user):
            raise AccountExistsError("phone")
        user.phone = phone
        change.phone_changed = True
    if email != user.email:
        if email is None:
            change.email_removed = True
            old = user.email
            user.email, user.email_verified_at, user.pending_email = None, None, None
            if old:
                _tell_old_address(user, old, "email")
        else:
            owner = _owner_of(email)
            if owner is not None:
                _tell_owner(owner, "profile")
                user.pending_email = None
            else:
                user.pending_email = email
                request_verification(user)
            change.email_sent = True
    elif user.pending_email:
        user.pending_email = None  # back to the address it had: nothing to confirm
    if change.phone_changed:
        user.security_stamp = secrets.token_hex(16)
        if user.email_verified:
            _tell_old_address(user, user.email or "", "phone")
    return change


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
