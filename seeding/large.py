"""A realistic large database, made quickly with bulk inserts: for scale tests and benchmarks.

The shape follows a city-wide deployment: many participants (about one per 25 bookings), offers
of about 20 sessions each (a fifth of them courses), sessions from a year ago to ten months
ahead, full and half-full sessions with waiting lists, and attendance for what took place. Every
counter is consistent with the rows, as the booking service would have left it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from einstein.attendance.models import Attendance, AttendanceStatus
from einstein.attendance.services import COUNTER
from einstein.auth.models import Audience, User
from einstein.auth.services import hash_password
from einstein.bookings.models import REFERENCE_ALPHABET, Booking, BookingSource, BookingStatus
from einstein.courses.models import (
    DEFAULT_REMINDER_OFFSETS,
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    SessionLanguage,
    SessionStatus,
)
from einstein.db import db, utcnow
from seeding.demo import SeedReport

CHUNK = 5000
LANGS = ["nl", "en", "ar", "ti", "fa", "tr", "so", "uk"]
TITLES = [
    "Dutch conversation",
    "Business English",
    "Cooking evening",
    "Walking group",
    "Bike repair café",
    "CV workshop",
    "Sewing café",
    "Homework help",
    "Football in the park",
    "Money matters",
    "Parents' coffee",
    "Computer skills",
    "Job interview practice",
    "Women's swimming",
    "Choir",
    "Chess afternoon",
]


@dataclass
class LargeReport(SeedReport):
    """What seed-large added: what the demo seed counts, and attendance marks."""

    attendance: int = 0


def reference_for(number: int) -> str:
    """A unique booking reference for a bulk row: ``number`` written in the reference alphabet."""
    base = len(REFERENCE_ALPHABET)
    digits = []
    for _ in range(8):
        number, digit = divmod(number, base)
        digits.append(REFERENCE_ALPHABET[digit])
    code = "".join(digits)
    return f"{code[:4]}-{code[4:]}"


def _next_id(model: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))) or 0) + 1


def _insert(model: Any, rows: Iterator[dict[str, Any]] | list[dict[str, Any]], tick: Callable[[int], None]) -> int:
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            db.session.execute(sa.insert(model), chunk)
            count += len(chunk)
            tick(len(chunk))
            chunk = []
    if chunk:
        db.session.execute(sa.insert(model), chunk)
        count += len(chunk)
        tick(len(chunk))
    return count


def seed_large(
    sessions: int, bookings: int, tick: Callable[[int], None] = lambda n: None, seed: int = 2026
) -> LargeReport:
    """Add ``sessions`` sessions and about ``bookings`` bookings (the caller commits)."""
    rng = random.Random(seed)  # noqa: S311  (test data, not security)
    now = utcnow().replace(second=0, microsecond=0)
    report = LargeReport()
    password = hash_password("large-data-password-not-for-use")

    # places and people
    first_location = _next_id(Location)
    locations = [
        {
            "id": first_location + i,
            "name": f"Buurthuis {i}",
            "address": f"Kanaalstraat {i + 1}",
            "postcode": "3531 CL",
            "city": "Utrecht",
            "step_free": i % 3 != 0,
            "approved_at": now,
            "created_at": now,
        }
        for i in range(max(sessions // 500, 10))
    ]
    _insert(Location, locations, tick)
    user_count = max(bookings // 25, 200)
    first_user = _next_id(User)
    audiences = [Audience.NEWCOMER] * 11 + [Audience.NEIGHBOUR] * 5 + [Audience.UNSAID] * 4
    report.users = _insert(
        User,
        (
            {
                "id": first_user + i,
                "name": f"Participant {first_user + i}",
                "email": f"p{first_user + i}@large.einstein.test",
                "password_hash": password,
                "role": "participant",
                "locale": LANGS[i % len(LANGS)],
                "audience": rng.choice(audiences),
                "email_verified_at": now,
                "email_notifications": True,
                "trusted": False,
                "calendar_token": f"large-{first_user + i:08d}-abcdefghijklmnop",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(user_count)
        ),
        tick,
    )
    organisers = [first_user + i for i in range(min(50, user_count))]
    db.session.execute(sa.update(User).where(User.id.in_(organisers)).values(role="volunteer"))

    # offers and their sessions: about twenty sessions each, weekly
    offer_count = max(sessions // 20, 1)
    first_offer, first_session = _next_id(Offer), _next_id(OfferSession)
    offers: list[dict[str, Any]] = []
    session_rows: list[dict[str, Any]] = []
    languages: list[dict[str, Any]] = []
    per_offer = [sessions // offer_count + (1 if i < sessions % offer_count else 0) for i in range(offer_count)]
    session_id = first_session
    for index in range(offer_count):
        offer_id = first_offer + index
        kind = OfferKind.COURSE if index % 5 == 0 else OfferKind.ACTIVITY
        capacity = rng.choice([8, 10, 12, 15, 20, 25, 30])
        start = now + timedelta(days=rng.randint(-365, 300), hours=rng.randint(0, 10))
        title = f"{rng.choice(TITLES)} {index + 1}"
        offers.append(
            {
                "id": offer_id,
                "kind": kind,
                "status": OfferStatus.PUBLISHED if index % 20 else OfferStatus.PENDING,
                "title": title,
                "description": "A session together with neighbours and newcomers.",
                "language": "nl",
                "category": rng.choice(list(Category)),
                "dutch_level": rng.choice(list(DutchLevel)),
                "location_id": first_location + index % len(locations),
                "organiser_id": rng.choice(organisers),
                "contact": "",
                "capacity": capacity,
                "confirmed_count": 0,
                "waitlist_count": 0,
                "waitlist_enabled": index % 4 != 0,
                "reminder_offsets": list(DEFAULT_REMINDER_OFFSETS),
                "completion_threshold": 80,
                "search_text": title.lower(),
                "created_at": now,
                "updated_at": now,
            }
        )
        spoken = rng.sample(LANGS, 2)
        for week in range(per_offer[index]):
            starts = start + timedelta(weeks=week)
            session_rows.append(
                {
                    "id": session_id,
                    "offer_id": offer_id,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "location_id": first_location + index % len(locations),
                    "capacity": capacity,
                    "confirmed_count": 0,
                    "waitlist_count": 0,
                    "present_count": 0,
                    "absent_count": 0,
                    "excused_count": 0,
                    "status": SessionStatus.CANCELLED if rng.random() < 0.02 else SessionStatus.SCHEDULED,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            languages += [{"session_id": session_id, "language": code} for code in spoken]
            session_id += 1

    # bookings: spread over the units (a course, or an activity's session), filling them unevenly
    units: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    sessions_of: dict[int, list[dict[str, Any]]] = {}
    for row in session_rows:
        sessions_of.setdefault(row["offer_id"], []).append(row)
    for offer in offers:
        if offer["status"] != OfferStatus.PUBLISHED:
            continue
        if offer["kind"] == OfferKind.COURSE:
            units.append((offer, None))
        else:
            units += [(offer, s) for s in sessions_of[offer["id"]] if s["status"] == SessionStatus.SCHEDULED]
    weights = [len(sessions_of[o["id"]]) if s is None else 1 for o, s in units]
    share = bookings / max(sum(weights), 1)
    booking_rows: list[dict[str, Any]] = []
    attendance_rows: list[dict[str, Any]] = []
    first_booking, first_attendance = _next_id(Booking), _next_id(Attendance)
    booking_id = first_booking
    for (offer, session), weight in zip(units, weights, strict=True):
        wanted = (
            max(0, round(rng.gauss(share * weight, share * weight / 3)))
            if offer["kind"] == OfferKind.ACTIVITY
            else max(0, round(rng.gauss(share * weight / len(sessions_of[offer["id"]]), 4)))
        )
        wanted = min(wanted, user_count)
        unit = session if session is not None else offer
        capacity = offer["capacity"]
        people = rng.sample(range(user_count), wanted)
        held_sessions = [
            s
            for s in ([session] if session else sessions_of[offer["id"]])
            if s["starts_at"] < now and s["status"] == SessionStatus.SCHEDULED
        ]
        position = 0
        for number, person in enumerate(people):
            if rng.random() < 0.08:
                status = BookingStatus.CANCELLED
            elif unit["confirmed_count"] < capacity:
                status = BookingStatus.CONFIRMED
                unit["confirmed_count"] += 1
            elif offer["waitlist_enabled"]:
                status = BookingStatus.WAITLISTED
                unit["waitlist_count"] += 1
                position += 1
            else:
                continue
            booking_rows.append(
                {
                    "id": booking_id,
                    "reference": reference_for(booking_id),
                    "user_id": first_user + person,
                    "offer_id": offer["id"],
                    "session_id": session["id"] if session else None,
                    "status": status,
                    "waitlist_position": position if status == BookingStatus.WAITLISTED else None,
                    "audience": Audience.UNSAID,
                    "source": BookingSource.DESK if number % 10 == 0 else BookingSource.SELF,
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": now if status == BookingStatus.CONFIRMED else None,
                    "cancelled_at": now if status == BookingStatus.CANCELLED else None,
                }
            )
            if status == BookingStatus.CONFIRMED:
                for held in held_sessions[-8:]:  # the last eight meetings of a course are on record
                    mark = rng.choices(list(AttendanceStatus), weights=[80, 14, 6])[0]
                    held[COUNTER[mark]] += 1
                    attendance_rows.append(
                        {
                            "id": first_attendance + len(attendance_rows),
                            "session_id": held["id"],
                            "booking_id": booking_id,
                            "status": mark,
                            "marked_at": held["starts_at"],
                        }
                    )
            booking_id += 1
    # a course's places are the course's; its sessions keep a copy of the capacity only
    report.offers = _insert(Offer, offers, tick)
    report.sessions = _insert(OfferSession, session_rows, tick)
    _insert(SessionLanguage, languages, tick)
    report.bookings = _insert(Booking, booking_rows, tick)
    report.attendance = _insert(Attendance, attendance_rows, tick)
    db.session.execute(
        sa.update(Booking)
        .where(Booking.id >= first_booking)
        .values(audience=sa.select(User.audience).where(User.id == Booking.user_id).scalar_subquery())
    )
    if db.engine.dialect.name == "postgresql":
        for table in ("locations", "users", "offers", "offer_sessions", "bookings", "attendance"):
            db.session.execute(
                # The table names are the fixed list above, never user input.
                sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
            )
        db.session.execute(sa.text("ANALYZE"))
    return report
