"""Large data made quickly with bulk inserts, for tests that count queries at scale."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import sqlalchemy as sa
from flask import Flask

from einstein.db import db, utcnow
from einstein.models import (
    Attendance,
    AttendanceStatus,
    Audience,
    Booking,
    BookingStatus,
    Category,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    User,
)

_batch = count(1)


def course_with_bookings(app: Flask, size: int, marked: int = 0) -> int:
    """A course that has begun, with ``size`` confirmed bookings and ``marked`` of them marked present
    in its first session; returns that session's id."""
    batch = next(_batch)
    now = utcnow()
    with app.app_context():
        location = Location(name=f"Bulk place {batch}", address=f"Bulkstraat {batch}")
        offer = Offer(
            kind=OfferKind.COURSE,
            status=OfferStatus.PUBLISHED,
            title=f"Bulk course {batch}",
            category=Category.LANGUAGE,
            location=location,
            capacity=size,
            confirmed_count=size,
        )
        sessions = [
            OfferSession(
                offer=offer,
                starts_at=now + timedelta(days=7 * week - 1),
                ends_at=now + timedelta(days=7 * week - 1, hours=2),
                location=location,
                capacity=size,
                present_count=marked if week == 0 else 0,
            )
            for week in range(3)
        ]
        db.session.add_all([location, offer, *sessions])
        db.session.flush()
        audiences = list(Audience)
        db.session.execute(
            sa.insert(User),
            [
                {
                    "name": f"Person {batch}-{i}",
                    "email": f"bulk{batch}-{i}@example.org",
                    "calendar_token": f"bulk-{batch}-{i:06d}-abcdefghij",
                    "audience": audiences[i % 3],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(size)
            ],
        )
        user_ids = db.session.scalars(sa.select(User.id).where(User.email.like(f"bulk{batch}-%"))).all()
        db.session.execute(
            sa.insert(Booking),
            [
                {
                    "reference": f"B{batch:03d}{i:05d}"[:9],
                    "user_id": uid,
                    "offer_id": offer.id,
                    "status": BookingStatus.CONFIRMED,
                    "audience": audiences[i % 3],
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now,
                }
                for i, uid in enumerate(user_ids)
            ],
        )
        booking_ids = db.session.scalars(
            sa.select(Booking.id).where(Booking.offer_id == offer.id).order_by(Booking.id)
        ).all()
        if marked:
            db.session.execute(
                sa.insert(Attendance),
                [
                    {
                        "session_id": sessions[0].id,
                        "booking_id": bid,
                        "status": AttendanceStatus.PRESENT,
                        "marked_at": now,
                    }
                    for bid in booking_ids[:marked]
                ],
            )
        db.session.commit()
        return sessions[0].id
