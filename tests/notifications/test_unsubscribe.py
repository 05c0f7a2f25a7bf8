"""One click in the mail program stops the reminder e-mails (RFC 8058), and nothing else does.

A reminder's List-Unsubscribe address, POSTed with "List-Unsubscribe=One-Click" and no form
token, turns off the person's e-mails about bookings; opening the address (a mail scanner, a
curious click) only shows a page that asks, in the person's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from einstein.auth.unsubscribe import ONE_CLICK, unsubscribe_token
from einstein.db import db, utcnow
from einstein.mail import link_in
from einstein.models import User
from tests.support.hostile import HOSTILE_LINES


@pytest.fixture
def person(make_user) -> Any:
    return make_user(name="Semhar", locale="ti", email="semhar@example.org", email_verified_at=utcnow())


def _path(app: Any, person: Any, language: str = "ti") -> str:
    with app.test_request_context():
        user = db.session.get(User, person.id)
        link = link_in(language, "auth.unsubscribe", token=unsubscribe_token(user))
    return "/" + link.split("/", 3)[3]


def _emails_on(app: Any, person: Any) -> bool:
    with app.app_context():
        return bool(db.session.get(User, person.id).email_notifications)


def test_one_click_from_the_mail_program_stops_the_e_mails(app, person) -> None:
    path = _path(app, person)
    mail_program = app.test_client()  # no session, no form token: as RFC 8058 has it
    response = mail_program.post(path, data=ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not _emails_on(app, person)
    # a second click says the same, and changes nothing
    assert mail_program.post(path, data=ONE_CLICK).status_code == 200
    assert not _emails_on(app, person)


def test_opening_the_link_only_asks_in_the_persons_language(app, person) -> None:
    page = app.test_client().get(_path(app, person), headers={"Accept-Language": "nl"})
    assert page.status_code == 200
    assert '<html lang="ti"' in page.get_data(as_text=True)
    assert 'method="post"' in page.get_data(as_text=True)
    assert '<bdi dir="ltr">semhar@example.org</bdi>' in page.get_data(as_text=True)
    assert _emails_on(app, person)  # a scanner following links stops nothing


def test_the_link_dies_with_the_address_it_was_sent_to(app, person) -> None:
    path = _path(app, person)
    with app.app_context():
        db.session.get(User, person.id).email = "new@example.org"
        db.session.commit()
    response = app.test_client().post(path, data=ONE_CLICK)
    assert response.status_code == 404
    assert _emails_on(app, person)


TOKENS = ["x", "WzEsImFiYyJd.forged", "a" * 300, *(v for k, v in HOSTILE_LINES.items() if k not in ("empty", "huge"))]


@pytest.mark.parametrize("token", TOKENS)
def test_a_made_up_token_stops_nothing(app, person, token) -> None:
    client = app.test_client()
    path = f"/unsubscribe/{quote(token, safe='')}"
    assert client.get(path).status_code == 404
    assert client.post(path, data=ONE_CLICK).status_code == 404
    assert _emails_on(app, person)
