"""Every text einstein sends, written for every language: the segment counts of the README's
table and of ``tests/notifications/test_sms.py``.

    .venv/bin/python -m tests.support.sms          # prints the table (Markdown), with long titles
    .venv/bin/python -m tests.support.sms ar fa    # every text in these languages, for translators
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from einstein.bookings.links import short_code
from einstein.bookings.messages import BookingMessage
from einstein.bookings.services import new_reference
from einstein.db import db, utcnow
from einstein.i18n import LANGUAGES
from einstein.models import Booking, BookingStatus, Notification, User
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from einstein.notifications.segments import cost
from einstein.notifications.sms import bare
from einstein.urls import external_url
from tests import factories

#: A title and a place name as long as the forms allow (200 and 120 characters): the worst case.
LONG_TITLE = (
    "Internationaal ondernemen: van idee tot eerste klant, met gastsprekers uit de wijk en daarbuiten, "
    "een middag per week in het buurthuis, samen met nieuwkomers en buren uit Leidsche Rijn en Overvecht, elke week"
)[:200]
LONG_PLACE = (
    "Buurthuis De Meern, Plan Einstein-zaal op de tweede verdieping, ingang via de achterkant naast de "
    "fietsenstalling bij het plein"
)[:120]
#: What the demo's texts look like.
SHORT_TITLE = "Bike repair café"
SHORT_PLACE = "Buurthuis Oost"
#: A production-like address: the link in each text is this plus /b/ and a 14-letter code.
BASE_URL = "https://einstein.example.org"
#: Budget per text, in segments (the README says so too).
BUDGET = 2


@dataclass(frozen=True)
class Text:
    """One text as it would go out, and what it costs."""

    language: str
    message: str
    content: str
    reference: str | None
    link: str | None

    @property
    def segments(self) -> int:
        return cost(self.content).segments

    @property
    def coding(self) -> str:
        return cost(self.content).coding


#: (message, how the booking is, payload) for each booking text: cancelled has three reasons.
BOOKING_TEXTS: list[tuple[str, str, BookingStatus, dict[str, Any]]] = [
    ("booking_confirmed", BookingMessage.BOOKING_CONFIRMED, BookingStatus.CONFIRMED, {}),
    ("booking_waitlisted", BookingMessage.BOOKING_WAITLISTED, BookingStatus.WAITLISTED, {}),
    ("booking_promoted", BookingMessage.BOOKING_PROMOTED, BookingStatus.CONFIRMED, {}),
    ("booking_promoted (held for a yes)", BookingMessage.BOOKING_PROMOTED, BookingStatus.CONFIRMED, {"held": True}),
    ("booking_cancelled (by them)", BookingMessage.BOOKING_CANCELLED, BookingStatus.CANCELLED, {"why": "participant"}),
    ("booking_cancelled (organiser)", BookingMessage.BOOKING_CANCELLED, BookingStatus.CANCELLED, {"why": "organiser"}),
    ("booking_cancelled (no answer)", BookingMessage.BOOKING_CANCELLED, BookingStatus.CANCELLED, {"why": "no_answer"}),
    ("reminder", BookingMessage.REMINDER, BookingStatus.CONFIRMED, {}),
    ("session_changed", BookingMessage.SESSION_CHANGED, BookingStatus.CONFIRMED, {}),
    ("session_cancelled", BookingMessage.SESSION_CANCELLED, BookingStatus.CONFIRMED, {}),
    ("offer_cancelled", BookingMessage.OFFER_CANCELLED, BookingStatus.CONFIRMED, {}),
]
ACCOUNT_TEXTS: list[tuple[str, str, dict[str, Any]]] = [
    ("phone_code", "phone_code", {"code": "482913"}),
    ("account_exists (sign-up)", "account_exists", {"reason": "signup"}),
    ("account_exists (profile)", "account_exists", {"reason": "profile"}),
    ("contact_changed", "contact_changed", {"to": "+31611111111"}),
]


def _render(row: Notification) -> Outgoing:
    out = registry.render(row)
    assert isinstance(out, Outgoing), f"{row.kind} was not written: {out!r}"
    return out


def texts(app: Flask, title: str, place: str) -> list[Text]:
    """Every text for a phone-only person in every language, about an activity called ``title``
    at ``place`` (the app's clock must let texts go: no quiet hours)."""
    found: list[Text] = []
    with app.app_context():
        location = factories.LocationFactory(name=place)
        session = factories.SessionFactory(offer__title=title, offer__location=location, location=location)
        for number, language in enumerate(LANGUAGES):
            person = factories.UserFactory(
                email=None,
                phone=f"+3161000{number:04d}",
                phone_verified_at=utcnow(),
                locale=language,
                email_verified_at=None,
            )
            for name, kind, status, details in BOOKING_TEXTS:
                booking = _booking(person, session, status, held=details.get("held", False))
                row = Notification(
                    kind=str(kind),
                    user_id=person.id,
                    booking_id=booking.id,
                    session_id=session.id,
                    channel="sms",
                    payload={k: v for k, v in details.items() if k != "held"},
                )
                out = _render(row)
                link = bare(external_url("bookings.short", code=short_code(booking)))
                found.append(Text(language, name, out.content, booking.reference, link))
                db.session.delete(booking)
                db.session.commit()
            for name, kind, payload in ACCOUNT_TEXTS:
                address = person.phone
                row = Notification(kind=kind, user_id=person.id, channel="sms", address=address, payload=payload)
                if kind == "phone_code":
                    person.pending_phone = "+31699999999"
                    row.address = person.pending_phone
                out = _render(row)
                person.pending_phone = None
                found.append(Text(language, name, out.content, None, None))
    return found


def _booking(person: User, session: Any, status: BookingStatus, held: bool) -> Booking:
    booking = Booking(
        user_id=person.id,
        offer_id=session.offer_id,
        session_id=session.id,
        status=status,
        reference=new_reference(),
        hold_until=utcnow() + timedelta(hours=20) if held else None,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def table(found: list[Text]) -> str:
    """The Markdown table of the README: segments per message and language."""
    languages = list(dict.fromkeys(t.language for t in found))
    messages = list(dict.fromkeys(t.message for t in found))
    cell = {(t.message, t.language): t for t in found}
    lines = [
        "| message | " + " | ".join(languages) + " |",
        "|---|" + "---|" * len(languages),
    ]
    for message in messages:
        row = [
            f"{cell[message, lang].segments}{'' if cell[message, lang].coding == 'gsm7' else 'ᵘ'}" for lang in languages
        ]
        lines.append(f"| {message} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - a developer's command
    from einstein import create_app
    from tests.conftest import base_config

    folder = Path(tempfile.mkdtemp(prefix="einstein-sms-"))
    app = create_app(
        base_config(
            f"sqlite:///{folder / 'sms.sqlite'}", folder, BASE_URL=BASE_URL, SMS_QUIET_FROM=24, SMS_QUIET_UNTIL=0
        )
    )
    with app.app_context():
        db.create_all()
    found = texts(app, LONG_TITLE, LONG_PLACE)
    languages = sys.argv[1:]
    if not languages:
        print(table(found))
        print("\nᵘ: UCS-2 (70 characters a segment, 67 when split); the others GSM-7 (160, 153).")
        return
    for text in found:
        if text.language in languages:
            mark = "OVER BUDGET " if text.segments > BUDGET else ""
            print(f"{mark}{text.language} {text.message}: {text.segments} segment(s), {text.coding}\n  {text.content}")


if __name__ == "__main__":
    main()
