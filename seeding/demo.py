"""A realistic demo catalogue for Utrecht, safe to load again and again.

Everything is looked up by a natural key before it is created (e-mail for people, name for
places and organisations, title for offers), so a second run adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cache

import sqlalchemy as sa

from einstein.attendance.models import AttendanceStatus
from einstein.attendance.services import mark
from einstein.auth.models import Audience, Role, User
from einstein.auth.services import create_user, hash_password
from einstein.bookings import reminders
from einstein.bookings import services as bookings
from einstein.bookings.errors import BookingError
from einstein.bookings.models import BookingStatus
from einstein.bookings.targets import Target
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
)
from einstein.courses.revisions import refresh_search_text
from einstein.courses.schedule import series_times, session_times
from einstein.db import db, utcnow
from einstein.i18n import local_today

#: The password of every demo account; demo data is refused in production.
DEMO_PASSWORD = "utrecht-samen-leren"  # noqa: S105

DEMO_ACCOUNTS = [
    ("Noor de Vries", "coordinator@demo.einstein.test", Role.COORDINATOR, "nl"),
    ("Samir Haddad", "volunteer@demo.einstein.test", Role.VOLUNTEER, "ar"),
    ("Ruth Bekele", "volunteer2@demo.einstein.test", Role.VOLUNTEER, "en"),
    ("Amal Yusuf", "participant@demo.einstein.test", Role.PARTICIPANT, "ar"),
    ("Piet Jansen", "admin@demo.einstein.test", Role.ADMIN, "nl"),
]

#: Participants who fill the places; a mix of newcomers and neighbours, as the programme intends.
DEMO_PEOPLE = [
    ("Yonas Tesfay", "ti", Audience.NEWCOMER),
    ("Merhawit Gebre", "ti", Audience.NEWCOMER),
    ("Ahmad Rahimi", "fa", Audience.NEWCOMER),
    ("Fatemeh Karimi", "fa", Audience.NEWCOMER),
    ("Omar Al-Sayed", "ar", Audience.NEWCOMER),
    ("Rania Khalil", "ar", Audience.NEWCOMER),
    ("Hodan Abdi", "so", Audience.NEWCOMER),
    ("Abdirahman Warsame", "so", Audience.NEWCOMER),
    ("Olena Kovalenko", "uk", Audience.NEWCOMER),
    ("Dmytro Shevchenko", "uk", Audience.NEWCOMER),
    ("Elif Yılmaz", "tr", Audience.NEIGHBOUR),
    ("Mehmet Demir", "tr", Audience.NEWCOMER),
    ("Sanne Bakker", "nl", Audience.NEIGHBOUR),
    ("Daan Visser", "nl", Audience.NEIGHBOUR),
    ("Lotte Smit", "nl", Audience.NEIGHBOUR),
    ("Bram Mulder", "nl", Audience.NEIGHBOUR),
    ("Fleur de Boer", "nl", Audience.NEIGHBOUR),
    ("Jeroen Bos", "nl", Audience.UNSAID),
    ("Aisha Bakr", "ar", Audience.UNSAID),
    ("Tesfaye Haile", "en", Audience.NEWCOMER),
    ("Mariam Noori", "fa", Audience.NEWCOMER),
    ("Kees van Dijk", "nl", Audience.NEIGHBOUR),
    ("Ingrid Hendriks", "nl", Audience.NEIGHBOUR),
    ("Yusuf Aydın", "tr", Audience.NEIGHBOUR),
    ("Nadia Haidari", "fa", Audience.NEWCOMER),
    ("Salem Idris", "ti", Audience.NEWCOMER),
    ("Hanna Petrenko", "uk", Audience.NEWCOMER),
    ("Wim de Groot", "nl", Audience.NEIGHBOUR),
    ("Layla Hassan", "ar", Audience.NEWCOMER),
    ("Ayan Farah", "so", Audience.NEWCOMER),
]

LOCATIONS = {
    "einstein": ("Wijkcentrum Einsteindreef", "Einsteindreef 60", "3562 GX", True),
    "library": ("Bibliotheek Neude", "Neude 11", "3512 AE", True),
    "lombok": ("Buurthuis Lombok", "Kanaalstraat 120", "3531 CL", False),
    "maxima": ("Máximapark, entrance Leidsche Rijn", "Vlinderweg 2", "3544 NS", True),
    "bikes": ("Fietswerkplaats Overvecht", "Zamenhofdreef 45", "3562 JV", True),
}

ORGANISATIONS = {
    "school": ("Taalschool Domstad", "https://taalschool.example.org", "info@taalschool.example.org"),
    "business": ("Ondernemershuis Utrecht", "https://ondernemershuis.example.org", "hallo@ondernemershuis.example.org"),
}


@dataclass
class DemoOffer:
    """An offer of the demo catalogue and how full it should look."""

    title: str
    kind: OfferKind
    category: Category
    organiser: str
    location: str
    description: str
    weekday: int
    start: time
    end: time
    count: int
    capacity: int
    every_weeks: int = 1
    language: str = "en"
    languages: tuple[str, ...] = ("nl", "en")
    dutch_level: DutchLevel = DutchLevel.NONE
    organisation: str | None = None
    waitlist: bool = True
    #: Share of places to fill (above 1 puts people on the waiting list).
    fill: float = 0.5
    status: OfferStatus = OfferStatus.PUBLISHED
    contact: str = ""
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)


DEMO_OFFERS = [
    DemoOffer(
        "International entrepreneurship",
        OfferKind.COURSE,
        Category.WORK,
        "coordinator@demo.einstein.test",
        "einstein",
        "Eight evenings on starting a business in the Netherlands: your idea, the market, the "
        "Chamber of Commerce (KvK), taxes and a pitch. Newcomers and neighbours work in mixed teams.",
        weekday=3,
        start=time(19, 0),
        end=time(21, 30),
        count=8,
        capacity=20,
        fill=0.6,
        organisation="business",
        contact="Noor de Vries, 030 123 4567",
        translations={
            "nl": ("Internationaal ondernemen", "Acht avonden over een eigen bedrijf starten in Nederland."),
            "ar": ("ريادة الأعمال الدولية", "ثماني أمسيات عن بدء عمل تجاري في هولندا."),
        },
    ),
    DemoOffer(
        "Business English",
        OfferKind.COURSE,
        Category.LANGUAGE,
        "coordinator@demo.einstein.test",
        "library",
        "Practical English for work: e-mails, meetings, phone calls and job interviews. "
        "For people who already speak some English.",
        weekday=1,
        start=time(19, 0),
        end=time(21, 0),
        count=8,
        capacity=16,
        fill=0.95,
        organisation="school",
        languages=("en",),
        contact="Taalschool Domstad, 030 765 4321",
        translations={"nl": ("Zakelijk Engels", "Praktisch Engels voor je werk.")},
    ),
    DemoOffer(
        "Nederlands praten",
        OfferKind.COURSE,
        Category.LANGUAGE,
        "coordinator@demo.einstein.test",
        "einstein",
        "Oefen Nederlands spreken in kleine groepen, met een buurtbewoner als gesprekspartner. "
        "Iedereen is welkom, op elk niveau.",
        weekday=0,
        start=time(10, 0),
        end=time(12, 0),
        count=10,
        capacity=12,
        fill=1.4,
        language="nl",
        languages=("nl",),
        dutch_level=DutchLevel.BEGINNER,
        organisation="school",
        translations={
            "en": (
                "Dutch conversation",
                "Practise speaking Dutch in small groups, with a neighbour as conversation partner.",
            ),
            "ar": ("محادثة باللغة الهولندية", "تدرّب على التحدث بالهولندية في مجموعات صغيرة مع أحد الجيران."),
            "ti": ("ዝርርብ ብሆላንድኛ", "ብንኣሽቱ ጉጅለታት ሆላንድኛ ምዝራብ ተለማመድ።"),
        },
    ),
    DemoOffer(
        "Cooking evening: dishes from home",
        OfferKind.ACTIVITY,
        Category.SOCIAL,
        "volunteer@demo.einstein.test",
        "lombok",
        "Every other Friday someone shows the group a dish from home; we cook together and eat at "
        "one long table. Bring nothing but an appetite.",
        weekday=4,
        start=time(17, 30),
        end=time(20, 30),
        count=4,
        every_weeks=2,
        capacity=14,
        fill=0.7,
        languages=("nl", "ar", "en"),
        contact="Samir, 06 1234 5678",
    ),
    DemoOffer(
        "Walking group Máximapark",
        OfferKind.ACTIVITY,
        Category.SOCIAL,
        "volunteer2@demo.einstein.test",
        "maxima",
        "A relaxed walk of about an hour through the park, followed by coffee. Good shoes help.",
        weekday=5,
        start=time(10, 0),
        end=time(11, 30),
        count=5,
        capacity=25,
        fill=0.3,
        languages=("nl", "en", "ti"),
    ),
    DemoOffer(
        "Bike repair café",
        OfferKind.ACTIVITY,
        Category.SOCIAL,
        "volunteer@demo.einstein.test",
        "bikes",
        "Learn to fix a flat tyre, brakes and lights on your own bike. Tools and spare parts are here.",
        weekday=2,
        start=time(14, 0),
        end=time(17, 0),
        count=5,
        capacity=8,
        fill=1.2,
        waitlist=True,
        languages=("nl", "ar", "fa"),
    ),
    DemoOffer(
        "CV workshop",
        OfferKind.ACTIVITY,
        Category.WORK,
        "volunteer2@demo.einstein.test",
        "library",
        "Write a Dutch CV and a short cover letter with help from volunteers who hire people. "
        "Bring your diplomas or a list of your work if you have them.",
        weekday=3,
        start=time(13, 30),
        end=time(16, 0),
        count=1,
        capacity=10,
        fill=0.9,
        waitlist=False,
        languages=("nl", "en", "ar"),
        dutch_level=DutchLevel.NONE,
    ),
    DemoOffer(
        "Chess afternoon",
        OfferKind.ACTIVITY,
        Category.CULTURE,
        "volunteer@demo.einstein.test",
        "lombok",
        "Play chess with neighbours. Boards are provided; beginners get a short lesson.",
        weekday=6,
        start=time(14, 0),
        end=time(16, 0),
        count=3,
        capacity=16,
        fill=0,
        languages=("nl", "ar"),
        status=OfferStatus.PENDING,
    ),
]


@dataclass
class SeedReport:
    """What a run of the seed added."""

    users: int = 0
    offers: int = 0
    sessions: int = 0
    bookings: int = 0


def _next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7 or 7)


@cache
def _demo_password_hash() -> str:
    # One hash for every demo account: argon2 is slow on purpose, and these share a password.
    return hash_password(DEMO_PASSWORD)


def _get_or_create_user(name: str, email: str, role: Role, locale: str, audience: Audience, report: SeedReport) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = create_user(name, email=email, role=role, locale=locale, audience=audience)
        user.password_hash = _demo_password_hash()
        user.email_verified_at = utcnow()
        if role == Role.VOLUNTEER:
            user.trusted = email == "volunteer@demo.einstein.test"
        report.users += 1
    return user


def _get_or_create_location(key: str) -> Location:
    name, address, postcode, step_free = LOCATIONS[key]
    location = db.session.scalar(sa.select(Location).where(Location.name == name, Location.address == address))
    if location is None:
        location = Location(
            name=name, address=address, postcode=postcode, city="Utrecht", step_free=step_free, approved_at=utcnow()
        )
        db.session.add(location)
        db.session.flush()
    return location


def _get_or_create_organisation(key: str) -> Organisation:
    name, website, email = ORGANISATIONS[key]
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name, website=website, email=email)
        db.session.add(organisation)
        db.session.flush()
    return organisation


def seed_demo(today: date | None = None) -> SeedReport:
    """Load the demo catalogue and accounts; the caller commits."""
    report = SeedReport()
    rng = random.Random(2026)  # noqa: S311  (demo data, not security)
    today = today or local_today()
    accounts = {
        email: _get_or_create_user(name, email, role, locale, Audience.UNSAID, report)
        for name, email, role, locale in DEMO_ACCOUNTS
    }
    people = [
        _get_or_create_user(
            name, f"{name.split()[0].lower()}.{index}@demo.einstein.test", Role.PARTICIPANT, locale, audience, report
        )
        for index, (name, locale, audience) in enumerate(DEMO_PEOPLE, start=1)
    ]
    coordinator = accounts["coordinator@demo.einstein.test"]
    # The demo participant has a booking or two to look at, and waits for the bike repair café.
    people.insert(0, accounts["participant@demo.einstein.test"])

    for spec in DEMO_OFFERS:
        organiser = accounts[spec.organiser]
        exists = db.session.scalar(
            sa.select(Offer.id).where(Offer.title == spec.title, Offer.organiser_id == organiser.id)
        )
        if exists is not None:
            continue
        location = _get_or_create_location(spec.location)
        offer = Offer(
            kind=spec.kind,
            status=spec.status,
            title=spec.title,
            description=spec.description,
            language=spec.language,
            category=spec.category,
            dutch_level=spec.dutch_level,
            location=location,
            organiser=organiser,
            organisation=_get_or_create_organisation(spec.organisation) if spec.organisation else None,
            contact=spec.contact,
            capacity=spec.capacity,
            waitlist_enabled=spec.waitlist,
        )
        if spec.status == OfferStatus.PUBLISHED:
            offer.approved_by_id = coordinator.id
            offer.approved_at = utcnow()
        for locale, (title, description) in spec.translations.items():
            offer.translations.append(OfferTranslation(locale=locale, title=title, description=description))
        refresh_search_text(offer)
        first = _next_weekday(today, spec.weekday)
        for starts_at, ends_at in series_times(first, spec.start, spec.end, spec.count, spec.every_weeks):
            session = OfferSession(starts_at=starts_at, ends_at=ends_at, location=location, capacity=spec.capacity)
            session.languages = [SessionLanguage(language=code) for code in spec.languages]
            offer.sessions.append(session)
            report.sessions += 1
        db.session.add(offer)
        db.session.flush()
        report.offers += 1
        if spec.status != OfferStatus.PUBLISHED:
            continue
        targets = [Target(offer, None)] if offer.is_course else [Target(offer, s) for s in offer.sessions]
        for target in targets:
            wanted = round(spec.capacity * spec.fill * rng.uniform(0.8, 1.1))
            for person in rng.sample(people, min(wanted, len(people))):
                try:
                    bookings.book(person, target)
                except BookingError:
                    continue
                report.bookings += 1
        if not offer.is_course:
            report.bookings += _last_week(offer, spec, today, people, coordinator, rng)
    return report


def _last_week(offer: Offer, spec: DemoOffer, today: date, people: list[User], by: User, rng: random.Random) -> int:
    """Give an activity a session that took place on its weekday in the week before today, with
    attendance taken, so the dashboard and "my bookings" have some history to show."""
    first = offer.sessions[0]
    # before today, so that it is over whatever the hour (today's session may still be to come)
    day = today - timedelta(days=(today.weekday() - spec.weekday) % 7 or 7)
    past = OfferSession(
        starts_at=first.starts_at + timedelta(days=1),
        ends_at=first.ends_at + timedelta(days=1),
        location=first.location,
        capacity=offer.capacity,
    )
    past.languages = [SessionLanguage(language=lang.language) for lang in first.languages]
    offer.sessions.append(past)
    db.session.flush()
    target = Target(offer, past)
    booked = []
    for person in rng.sample(people, min(round(offer.capacity * 0.8), len(people))):
        try:
            booked.append(bookings.book(person, target))
        except BookingError:
            continue
    # it took place last week
    past.starts_at, past.ends_at = session_times(day, spec.start, spec.end)
    db.session.flush()
    reminders.cancel_for_session(past)
    statuses = [AttendanceStatus.PRESENT] * 7 + [AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED]
    for booking in booked:
        if booking.status == BookingStatus.CONFIRMED:
            mark(past, booking, rng.choice(statuses), by)
    return len(booked)
