"""The desk: coordinators find or register people and book them in."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from einstein.auth import services as accounts
from einstein.auth.models import Audience, User
from einstein.bookings.targets import Target
from einstein.bounds import as_id
from einstein.courses.models import Offer, OfferKind, OfferSession, OfferStatus, SessionStatus
from einstein.db import db, utcnow
from einstein.i18n import format_when


@dataclass
class DeskTarget:
    """Something the desk can book: a course, or one activity session."""

    key: str
    label: str
    target: Target


def desk_targets(limit: int = 200) -> list[DeskTarget]:
    """Upcoming courses and activity sessions, soonest first, for the desk's list."""
    now = utcnow()
    sessions = db.session.scalars(
        sa.select(OfferSession)
        .join(OfferSession.offer)
        .where(
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.ends_at > now,  # sessions under way too: someone may walk in
            Offer.status == OfferStatus.PUBLISHED,
        )
        .options(contains_eager(OfferSession.offer))
        .order_by(OfferSession.starts_at, OfferSession.id)
        .limit(limit)
    )
    targets: list[DeskTarget] = []
    seen_courses: set[int] = set()
    for session in sessions:
        offer = session.offer
        if offer.kind == OfferKind.COURSE:
            if offer.id in seen_courses:
                continue
            seen_courses.add(offer.id)
            unit: Offer | OfferSession = offer
            label = f"{offer.title} · {format_when(session.starts_at)} …"
            target = Target(offer, None)
            key = f"offer-{offer.id}"
        else:
            unit = session
            label = f"{offer.title} · {format_when(session.starts_at, session.ends_at)}"
            target = Target(offer, session)
            key = f"session-{session.id}"
        label += f" ({unit.free_places} / {unit.capacity})"
        targets.append(DeskTarget(key, label, target))
    return targets


def target_from_key(key: str) -> Target | None:
    """Turn a desk list key ("offer-12", "session-34") back into what it books."""
    kind, _, raw_id = (key or "").partition("-")
    target_id = as_id(raw_id)
    if target_id is None:
        return None
    if kind == "offer":
        offer = db.session.get(Offer, target_id)
        return Target(offer, None) if offer is not None and offer.is_course else None
    if kind == "session":
        session = db.session.get(OfferSession, target_id)
        return Target(session.offer, session) if session is not None and not session.offer.is_course else None
    return None


def register_at_desk(
    coordinator: User, *, name: str, phone: str | None, email: str | None, locale: str, audience: Audience
) -> User:
    """Make an account for someone at the desk, recording who took their consent and when."""
    person = accounts.register(
        name, email=email, phone=phone, password=None, locale=locale, audience=audience, at_desk=True
    )
    person.consent_recorded_by_id = coordinator.id
    person.consent_recorded_at = utcnow()
    return person


def find_participants(query: str, limit: int = 20) -> list[User]:
    """Find people by name, phone or e-mail for the desk."""
    return list(db.session.scalars(accounts.search_people(query).limit(limit)))
