"""factory_boy factories for einstein's models. Use them inside an app context."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import factory
from factory.alchemy import SQLAlchemyModelFactory

from einstein.db import db, utcnow
from einstein.models import (
    Audience,
    Category,
    Location,
    Offer,
    OfferKind,
    OfferSession,
    OfferStatus,
    Organisation,
    Role,
    SessionLanguage,
    User,
)
from tests.support.clock import days_ahead

#: Every factory-made account has this password (hashed once: argon2 is slow on purpose).
PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(Base):
    class Meta:
        model = User

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    phone = None
    password_hash = factory.LazyFunction(password_hash)
    role = Role.PARTICIPANT
    locale = "en"
    audience = Audience.UNSAID
    email_verified_at = factory.LazyFunction(utcnow)
    calendar_token = factory.Sequence(lambda n: f"calendar-token-{n:06d}-abcdefghijklmnop")


class LocationFactory(Base):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Buurthuis {n}")
    address = factory.Sequence(lambda n: f"Kanaalstraat {n}")
    postcode = "3531 CL"
    city = "Utrecht"
    step_free = True
    #: places in the catalogue were published by someone who may publish
    approved_at = factory.LazyFunction(utcnow)


class OrganisationFactory(Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Partner {n}")


class OfferFactory(Base):
    class Meta:
        model = Offer

    kind = OfferKind.ACTIVITY
    status = OfferStatus.PUBLISHED
    title = factory.Sequence(lambda n: f"Activity {n}")
    description = "Something to do together."
    language = "en"
    category = Category.SOCIAL
    location = factory.SubFactory(LocationFactory)
    organiser = factory.SubFactory(UserFactory, role=Role.VOLUNTEER)
    capacity = 10
    waitlist_enabled = True
    reminder_offsets = factory.LazyFunction(lambda: ["24h", "morning"])
    search_text = factory.LazyAttribute(lambda o: f"{o.title} {o.description}".lower())


class SessionFactory(Base):
    class Meta:
        model = OfferSession

    offer = factory.SubFactory(OfferFactory)
    starts_at = factory.LazyFunction(lambda: days_ahead(3))  # 10:00 in Utrecht, whatever the hour now
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    location = factory.SelfAttribute("offer.location")
    capacity = factory.SelfAttribute("offer.capacity")

    @factory.post_generation
    def languages(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for code in extracted if extracted is not None else ["nl", "en"]:
            self.languages.append(SessionLanguage(language=code))
        if create:
            db.session.commit()
