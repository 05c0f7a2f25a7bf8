"""The smaller findings of the security review (2026, item 9), each written as the attack."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from einstein.accesslog import MaskingLogger, mask
from einstein.bookings import services as bookings
from einstein.bookings.links import cancel_token
from einstein.db import db, utcnow
from einstein.models import Booking, OfferSession, User
from tests import factories


def test_tokens_never_reach_the_access_log() -> None:
    secrets = {
        "/reset/eyJ1Ijo0LCJwIjoiMTIzIn0.ZaBc.xyz": "/reset/[token]",
        "/verify/eyJ1IjoxfQ.abc.def?x=1": "/verify/[token]?x=1",
        "/cancel/WzEsMSwiYWJjIl0.sig": "/cancel/[token]",
        "/calendar/calendar-token-000001-abcdefghijklmnop.ics": "/calendar/[token]",
        "/offers/12": "/offers/12",
    }
    for path, logged in secrets.items():
        assert mask(path) == logged
    # every part of the line: the request line, the path, and the page it came from
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/reset/SECRET.TOKEN.SIG",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/reset/SECRET.TOKEN.SIG",
        "QUERY_STRING": "",
        "HTTP_REFERER": "https://einstein.example.org/reset/SECRET.TOKEN.SIG",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="302 FOUND", headers=[], sent=10)
    request = SimpleNamespace(headers=[("Referer", environ["HTTP_REFERER"])])
    atoms = MaskingLogger.atoms(MaskingLogger.__new__(MaskingLogger), response, request, environ, timedelta(0))
    assert not any("SECRET" in str(value) for value in atoms.values())


def test_gunicorn_uses_the_masking_logger() -> None:
    from tests.support.servers import ROOT

    assert 'logger_class = "einstein.accesslog.MaskingLogger"' in (ROOT / "gunicorn.conf.py").read_text()


def test_sqlite_overwrites_what_is_deleted(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA secure_delete")).scalar() == 1


@pytest.mark.usefixtures("steady_cache_minute")
def test_a_page_cached_over_http_is_not_served_over_https(app) -> None:
    with app.app_context():
        factories.SessionFactory(offer__title="Walking group")
    visitor = app.test_client()
    plain = visitor.get("/", base_url="http://einstein.test", headers={"Accept-Language": "en"})
    again = visitor.get("/", base_url="http://einstein.test", headers={"Accept-Language": "en"})
    secure = visitor.get("/", base_url="https://einstein.test", headers={"Accept-Language": "en"})
    other_host = visitor.get("/", base_url="http://evil.test", headers={"Accept-Language": "en"})
    assert plain.status_code == secure.status_code == 200
    assert again.headers.get("X-Einstein-Cache") == "hit"
    assert secure.headers.get("X-Einstein-Cache") is None
    assert other_host.headers.get("X-Einstein-Cache") is None


def _booked(app, person) -> tuple[int, str]:
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=1)
        booking = bookings.book(db.session.get(User, person.id), bookings.Target(session.offer, session))
        db.session.commit()
        return session.id, cancel_token(booking)


def test_a_cancel_link_ends_when_the_session_starts(app, participant) -> None:
    session_id, token = _booked(app, participant)
    with app.app_context():
        session = db.session.get(OfferSession, session_id)
        session.starts_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    stranger = app.test_client()
    response = stranger.get(f"/cancel/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "can no longer cancel" in response.get_data(as_text=True)
    assert stranger.post(f"/cancel/{token}").status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(Booking.status)).value == "confirmed"


def test_a_cancel_link_dies_when_the_booking_changes(app, participant, other_participant) -> None:
    # a waiting-list e-mail's link must not cancel the place the person was given since
    with app.app_context():
        session = factories.SessionFactory(offer__capacity=1)
        first = bookings.book(db.session.get(User, other_participant.id), bookings.Target(session.offer, session))
        waiting = bookings.book(db.session.get(User, participant.id), bookings.Target(session.offer, session))
        db.session.commit()
        old_link = cancel_token(waiting)
        bookings.cancel(first)  # the place goes to the person waiting
        db.session.commit()
        waiting_id = waiting.id
    stranger = app.test_client()
    assert stranger.post(f"/cancel/{old_link}").status_code == 400
    with app.app_context():
        assert db.session.get(Booking, waiting_id).status.value == "confirmed"
