"""The production stack, as `make run-prod` starts it (honcho and the Procfile: gunicorn, a Celery
worker and beat), on PostgreSQL and Redis, with production settings: book through it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

import psycopg
import pytest

from einstein.db import utcnow
from tests.support import clock
from tests.support.http import NoRedirect
from tests.support.i18n import compiled_translations
from tests.support.servers import ROOT, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "a-production-secret-that-is-long-and-random-0123456789"


class CookieBrowser:
    """Keeps cookies by hand: production cookies are Secure, and this test talks plain HTTP to
    gunicorn as the TLS proxy in front of it would (saying X-Forwarded-Proto: https)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.last_headers: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        # a browser on https sends the page it came from; Flask-WTF checks it on secure requests
        host = urllib.parse.urlsplit(self.base).netloc
        headers = {"X-Forwarded-Proto": "https", "Accept-Language": "en", "Referer": f"https://{host}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=20) as response:
                status, text, headers_out = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers_out = error.code, error.read().decode(), error.headers
        self.last_headers = dict(headers_out)
        for raw in headers_out.get_all("Set-Cookie") or []:
            self.set_cookies.append(raw)
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return status, text, headers_out.get("Location", "")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def test_the_production_stack_books_end_to_end(postgres_server, fresh_redis, smtp, tmp_path) -> None:
    url = postgres_server.create_database("einstein_production")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EINSTEIN_")},
        "EINSTEIN_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "REDIS_URL": fresh_redis.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "BASE_URL": "https://einstein.example.org",
        "PORT": str(port),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "EINSTEIN_PROXY_FIX": "1",
        "EINSTEIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "EINSTEIN_SWEEP_SECONDS": "2",
        "EINSTEIN_BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations()),
        "PYTHONUNBUFFERED": "1",
    }
    env = clock.environment(env)  # gunicorn, the worker, beat and flask on the test run's clock
    flask = [sys.executable, "-m", "flask", "--app", "einstein"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    # demo accounts have a published password: never in production, whatever one asks
    for args in (["seed-demo"], ["seed-demo", "--force"]):
        refused = subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert refused.returncode != 0, refused.stdout
    # this test's database is no production database: it is filled as a test set-up would
    testing = {**env, "EINSTEIN_ENV": "testing"}
    subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=testing, check=True, capture_output=True)

    log = open(tmp_path / "honcho.log", "wb")  # noqa: SIM115
    stack = subprocess.Popen(
        [sys.executable, "-m", "honcho", "--procfile", "Procfile", "start"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        browser = CookieBrowser(f"http://127.0.0.1:{port}")

        def healthy() -> bool:
            try:
                return browser.request("/healthz")[0] == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_for(healthy, timeout=90, interval=0.5, what="the production stack")
        assert "Strict-Transport-Security" in browser.last_headers

        status, page, _ = browser.request("/login")
        status, _, location = browser.request(
            "/login",
            {
                "identifier": "participant@demo.einstein.test",
                "password": "utrecht-samen-leren",
                "csrf_token": _csrf(page),
            },
        )
        assert status == 302, (tmp_path / "honcho.log").read_text()[-3000:]
        cookies = [c for c in browser.set_cookies if c.startswith(("__Host-session=", "__Host-remember"))]
        assert cookies and all("Secure" in c and "HttpOnly" in c and "Path=/" in c for c in cookies)

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            session_id = conn.execute(
                "SELECT s.id FROM offer_sessions s JOIN offers o ON o.id = s.offer_id "
                "WHERE o.title = 'Walking group Máximapark' "
                "AND s.starts_at > %s AND NOT EXISTS (SELECT 1 FROM bookings b JOIN users u ON u.id = b.user_id "
                "WHERE b.session_id = s.id AND u.email = 'participant@demo.einstein.test') "
                "ORDER BY s.starts_at LIMIT 1",
                (utcnow(),),  # the test run's clock, not the database server's
            ).fetchone()[0]
        status, page, _ = browser.request(f"/offers/{_offer_of(url, session_id)}")
        status, _, location = browser.request(
            f"/sessions/{session_id}/book", {"csrf_token": _csrf(page), "waitlist": "1"}
        )
        assert status == 303 and location.endswith("/my/bookings")

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            notification_id = conn.execute(
                "SELECT n.id FROM notifications n JOIN bookings b ON b.id = n.booking_id WHERE b.session_id = %s "
                "AND n.kind = 'booking_confirmed' "
                "AND n.user_id = (SELECT id FROM users WHERE email = 'participant@demo.einstein.test')",
                (session_id,),
            ).fetchone()[0]
        wait_for(lambda: notification_id in smtp.notification_ids(), timeout=60, what="the confirmation e-mail")
        message = next(m for m in smtp.messages if m["X-Einstein-Notification"] == str(notification_id))
        assert "https://einstein.example.org/cancel/" in message.get_body(preferencelist=("plain",)).get_content()
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(timeout=30)
            stopped_on_request = True
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
            stopped_on_request = False
        log.close()
    assert stopped_on_request, "the stack did not stop within 30 s of SIGTERM"


def _offer_of(url: str, session_id: int) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute("SELECT offer_id FROM offer_sessions WHERE id = %s", (session_id,)).fetchone()[0]
