"""Helpers for booking tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from einstein.db import db, utcnow
from einstein.models import OfferKind, User
from tests import factories


@pytest.fixture
def activity(app, volunteer) -> Any:
    """An activity session with 2 places and a waiting list, organised by "volunteer"."""
    with app.app_context():
        session = factories.SessionFactory(
            offer__organiser=db.session.get(User, volunteer.id), offer__capacity=2, offer__title="Bike repair café"
        )
        return {"session_id": session.id, "offer_id": session.offer_id}


@pytest.fixture
def course(app, coordinator) -> Any:
    """A course of three weekly sessions with 2 places."""
    with app.app_context():
        offer = factories.OfferFactory(
            kind=OfferKind.COURSE, capacity=2, organiser=db.session.get(User, coordinator.id), title="Business English"
        )
        for week in range(3):
            factories.SessionFactory(
                offer=offer, starts_at=(utcnow() + timedelta(days=2 + 7 * week)).replace(second=0, microsecond=0)
            )
        return {"offer_id": offer.id}


def book(client, activity_or_course: dict[str, Any], waitlist: bool = False, **extra: Any):
    """POST the booking form, as the button on the offer page does."""
    data = {"waitlist": "1" if waitlist else "", **extra}
    if "session_id" in activity_or_course:
        return client.post(
            f"/sessions/{activity_or_course['session_id']}/book", data=data, headers={"Accept-Language": "en"}
        )
    return client.post(f"/offers/{activity_or_course['offer_id']}/book", data=data, headers={"Accept-Language": "en"})
