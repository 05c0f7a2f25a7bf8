"""Import every model so that Alembic and ``db.create_all`` see the whole schema."""

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.auth.models import Audience, LoginSession, Role, User
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.courses.models import (
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    OfferTranslation,
    Organisation,
    SessionLanguage,
    SessionStatus,
)
from einstein.notifications.models import Notification, NotificationKind, NotificationStatus

__all__ = [
    "Attendance",
    "AttendanceStatus",
    "Audience",
    "Booking",
    "BookingSource",
    "BookingStatus",
    "CancelReason",
    "Category",
    "DutchLevel",
    "Location",
    "LoginSession",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Offer",
    "OfferKind",
    "OfferSession",
    "OfferStatus",
    "OfferTranslation",
    "Organisation",
    "Role",
    "SessionLanguage",
    "SessionStatus",
    "User",
]
