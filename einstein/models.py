"""Import every model so that Alembic and ``db.create_all`` see the whole schema."""

import enum

from einstein.attendance.feedback import Face, Feedback
from einstein.attendance.models import Attendance, AttendanceStatus, MixSnapshot
from einstein.audit.models import AuditEvent
from einstein.auth.messages import AccountMessage
from einstein.auth.models import Audience, LoginSession, Role, User
from einstein.bookings.messages import BookingMessage
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.courses.models import (
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferRevision,
    OfferSession,
    OfferStatus,
    OfferTranslation,
    Organisation,
    RevisionStatus,
    SessionLanguage,
    SessionStatus,
    TranslationProposal,
    TranslatorLanguage,
)
from einstein.notifications.models import Notification, NotificationStatus

#: Every kind of message einstein sends, from the areas that send them (for scripts and tests).
NotificationKind = enum.StrEnum(  # type: ignore[misc]
    "NotificationKind", [(m.name, m.value) for kinds in (AccountMessage, BookingMessage) for m in kinds]
)

__all__ = [
    "Attendance",
    "AttendanceStatus",
    "Audience",
    "AuditEvent",
    "Booking",
    "BookingSource",
    "BookingStatus",
    "CancelReason",
    "Category",
    "DutchLevel",
    "Face",
    "Feedback",
    "Location",
    "LoginSession",
    "MixSnapshot",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Offer",
    "OfferKind",
    "OfferRevision",
    "OfferSession",
    "OfferStatus",
    "OfferTranslation",
    "Organisation",
    "RevisionStatus",
    "Role",
    "SessionLanguage",
    "SessionStatus",
    "TranslationProposal",
    "TranslatorLanguage",
    "User",
]
