"""A public programme to read: two places, a translated course, activities (one full with a
waiting list, one cancelled session), a title that tries to break out of a script, and what
must never be read (an activity waiting for approval, a participant's booking)."""

from __future__ import annotations

from typing import Any

import pytest

from einstein.bookings import services as bookings
from einstein.db import db
from einstein.models import (
    Category,
    OfferKind,
    OfferStatus,
    OfferTranslation,
    Organisation,
    Role,
    SessionStatus,
    User,
)
from tests import factories
from tests.support.clock import days_ahead

#: A title as someone hostile would write it: it must stay text in JSON-LD, HTML and feeds.
BREAKOUT = "Koken </script><script>alert(1)</script> & meer"
#: The name of a participant who books: it must appear in no answer of the API, feed or widget.
PARTICIPANT_NAME = "Hanna Verborgen-Deelnemer"


@pytest.fixture
def programme(app: Any) -> dict[str, Any]:
    """The programme, and the ids the tests ask about."""
    with app.app_context():
        library = factories.LocationFactory(name="Bibliotheek Kanaleneiland", address="Bisschopsweg 1")
        centre = factories.LocationFactory(name="Buurthuis De Pijp", address="Kanaalstraat 2", postcode=None)
        partner = Organisation(name="Taalschool Utrecht", website="https://taalschool.example")
        db.session.add(partner)
        course = factories.OfferFactory(
            kind=OfferKind.COURSE,
            title="Zakelijk Engels",
            description="Acht weken Engels voor je werk.",
            language="nl",
            category=Category.LANGUAGE,
            location=library,
            organisation=partner,
            capacity=12,
        )
        db.session.add(
            OfferTranslation(offer=course, locale="ar", title="الإنجليزية للأعمال", description="ثمانية أسابيع")
        )
        course_sessions = [factories.SessionFactory(offer=course, starts_at=days_ahead(d)) for d in (2, 9, 16)]
        walk = factories.OfferFactory(title="Samen wandelen", category=Category.SOCIAL, location=centre, capacity=1)
        walk_session = factories.SessionFactory(offer=walk, starts_at=days_ahead(3), languages=["nl", "ar"])
        cancelled = factories.SessionFactory(offer=walk, starts_at=days_ahead(4))
        cancelled.status = SessionStatus.CANCELLED
        cooking = factories.OfferFactory(title=BREAKOUT, category=Category.CULTURE, location=centre)
        cooking_session = factories.SessionFactory(offer=cooking, starts_at=days_ahead(5))
        # more published activities, so that lists have several pages
        extra = [
            factories.SessionFactory(
                offer__category=Category.WORK, offer__location=library, starts_at=days_ahead(6 + n)
            )
            for n in range(4)
        ]
        pending = factories.OfferFactory(title="Nog niet goedgekeurd", status=OfferStatus.PENDING, location=centre)
        factories.SessionFactory(offer=pending, starts_at=days_ahead(3))
        person = factories.UserFactory(name=PARTICIPANT_NAME, email="hanna@example.org", role=Role.PARTICIPANT)
        db.session.commit()
        # the walk's only place is taken: its session is full, the waiting list open
        bookings.book(db.session.get(User, person.id), bookings.Target(walk, walk_session))
        db.session.commit()
        return {
            "library": library.id,
            "centre": centre.id,
            "course": course.id,
            "course_sessions": [s.id for s in course_sessions],
            "walk": walk.id,
            "walk_session": walk_session.id,
            "cancelled_session": cancelled.id,
            "cooking": cooking.id,
            "cooking_session": cooking_session.id,
            "extra_offers": [s.offer_id for s in extra],
            "pending": pending.id,
            "published_offers": 3 + len(extra),
        }
