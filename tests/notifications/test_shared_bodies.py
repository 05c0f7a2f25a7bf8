"""A session's reminders are written once per batch, and each is given the person's own values.

Every reminder must read exactly as the templates write it for that person alone: the names
with HTML, quotes, SQL, right-to-left text, astral characters, a household member's name, and a
name that is the very mark the shared bodies hold for another value.
"""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
import sqlalchemy as sa
from flask import template_rendered

from einstein.bookings import messages
from einstein.bookings import services as bookings
from einstein.db import db
from einstein.mail import _MARK, WIRE, render_email
from einstein.models import Booking, Notification, NotificationKind, User
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from tests import factories

#: (language, name) of the people booked on one session.
PEOPLE = [
    ("en", "Amal <b>Participant</b>"),
    ("en", 'O\'Brien & "Co" <script>alert(1)</script>'),
    ("ar", "سارة أحمد"),
    ("nl", "Robert'); DROP TABLE users;--"),
    ("fa", "\u202e" + "𝓐" * 50 + "\u0301\u200f"),
    ("en", f"{_MARK}reference\x1a"),  # the mark where the booking reference goes, as a name
]


def _booked() -> int:
    """Book each of PEOPLE, and a household member of the first, on one session; its id."""
    session = factories.SessionFactory(offer__capacity=20, capacity=20)
    people = [factories.UserFactory(locale=language, name=name) for language, name in PEOPLE]
    member = factories.UserFactory(name="Yusuf & <i>Son</i>", email=None, household_of_id=people[0].id)
    db.session.commit()
    for person in [*people, member]:
        bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
    db.session.commit()
    return session.id


def _reminders(session_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.kind == NotificationKind.REMINDER, Notification.session_id == session_id)
            .order_by(Notification.id)
        )
    )


def _read(out: Any) -> tuple[str, str, str]:
    """The subject, the text and the HTML of a written reminder, as a mail program reads them."""
    assert isinstance(out, Outgoing)
    message = email.message_from_bytes(out.content.as_bytes(policy=WIRE), policy=default)
    assert isinstance(message, EmailMessage)
    return (
        str(message["Subject"]),
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


@pytest.mark.postgres
def test_each_reminder_of_a_batch_reads_as_if_written_for_that_person_alone(app, monkeypatch) -> None:
    with app.app_context():
        session_id = _booked()
        ids = [row.id for row in _reminders(session_id)]
    assert len(ids) >= len(PEOPLE) + 1
    with app.app_context():  # one batch: the worker's task
        batch = [_read(registry.render(row)) for row in _reminders(session_id)]

    def alone(*args: Any, shared: Any = None, **kwargs: Any) -> Any:
        return render_email(*args, **kwargs)  # the templates rendered with the person's values

    monkeypatch.setattr(messages, "render_email", alone)
    written_alone = []
    for notification_id in ids:
        with app.app_context():
            written_alone.append(_read(registry.render(db.session.get(Notification, notification_id))))
    assert batch == written_alone
    texts = "".join(text + html for _subject, text, html in batch)
    assert "\x1a" not in texts.replace(PEOPLE[-1][1], "")  # no mark left but the name that is one
    for _language, name in PEOPLE:
        assert any(name in text for _subject, text, _html in batch), name
    assert any("Yusuf & <i>Son</i>" in text and "Yusuf &amp; &lt;i&gt;Son" in html for _s, text, html in batch)
    with app.app_context():
        references = set(db.session.scalars(sa.select(Booking.reference).where(Booking.session_id == session_id)))
    assert all(sum(reference in text for reference in references) == 1 for _subject, text, _html in batch)


def test_a_sessions_reminders_are_written_once_a_batch_for_each_language(app) -> None:
    with app.app_context():
        session_id = _booked()
    written: list[str] = []

    def seen(_sender: Any, template: Any, **_: Any) -> None:
        written.append(template.name)

    template_rendered.connect(seen, app)
    try:
        with app.app_context():
            rows = _reminders(session_id)
            for row in rows:
                registry.render(row)
    finally:
        template_rendered.disconnect(seen, app)
    # one for each language, and one more for the household's holder (their member is named)
    assert written.count("emails/bookings/reminder.html") == len({language for language, _ in PEOPLE}) + 1
    assert len(rows) > written.count("emails/bookings/reminder.html")
