"""gunicorn serving einstein for a test, and many clients in separate processes."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from tests.support import clock
from tests.support.client import signed_csrf
from tests.support.servers import ROOT, end_process, free_port, wait_for

#: Settings from the developer's shell that must never reach a server under test.
_PRIVATE = ("EINSTEIN_", "DATABASE_URL", "REDIS_URL", "SMTP_", "SECRET_KEY", "BASE_URL", "BIND", "PORT", "GUNICORN_")


def server_env(database_url: str, folder: Path, secret_key: str, *, locks: bool = True) -> dict[str, str]:
    """einstein's settings for a gunicorn under test: this database, no broker, mail to files."""
    from tests.support.i18n import compiled_translations

    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "EINSTEIN_ENV": "testing",
        "EINSTEIN_BOOKING_LOCKS": "true" if locks else "false",
        "EINSTEIN_RATELIMIT_ENABLED": "false",
        "EINSTEIN_CELERY__broker_url": "memory://",
        "EINSTEIN_MAIL_FILE_DIR": str(folder / "mail"),
        "EINSTEIN_BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations()),
    }


class Gunicorn:
    """gunicorn serving an app (einstein unless told) on a free port of 127.0.0.1.

    The environment is the given settings only (nothing private from the shell), with
    gunicorn's access log off. Use ``start()``/``stop()`` or ``with Gunicorn(...) as server``.
    """

    def __init__(
        self,
        env: dict[str, str],
        folder: Path,
        workers: int = 4,
        threads: int = 4,
        *,
        target: str = "einstein.wsgi:app",
        args: list[str] | None = None,
        health: str = "/healthz",
    ) -> None:
        self.port = free_port()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE)}
        self.env = clock.environment(
            {**inherited, "EINSTEIN_INSTANCE_PATH": str(folder / "instance"), "GUNICORN_ACCESS_LOG": "", **env}
        )
        worker_args = ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
        self.args = [
            sys.executable,
            "-m",
            "gunicorn",
            target,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            *(worker_args if args is None else args),
        ]
        self.health = health
        self.log_path = folder / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=2) as response:  # noqa: S310
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        try:
            wait_for(up, timeout=60, interval=0.2, what="gunicorn")
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def stop(self) -> None:
        if self.process is not None:
            end_process(self.process)
            self.process = None
            self._log.close()

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass(frozen=True)
class Browser:
    """What one signed-in browser sends: its session cookie and the CSRF token of its forms."""

    cookie: str
    csrf: str


def browser_for(app: Flask, login_token: str) -> Browser:
    """Sign cookies exactly as einstein would for a person signed in with ``login_token``."""
    raw = os.urandom(16).hex()
    cookie = app.session_interface.get_signing_serializer(app).dumps(  # type: ignore[attr-defined]
        {"_user_id": login_token, "_fresh": True, "csrf_token": raw}
    )
    return Browser(cookie, signed_csrf(app, raw))


def signed_in_people(app: Flask, count: int, label: str = "Person") -> list[Browser]:
    """Make ``count`` participants at once (one password hash for all) and a signed-in browser each.

    For the races and the booking rush: the tests and the benchmarks make their crowds alike.
    """
    import sqlalchemy as sa

    from einstein.auth.sessions import start_login_session
    from einstein.db import db, utcnow
    from einstein.models import User
    from tests.factories import password_hash

    with app.app_context():
        hashed = password_hash()
        start = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
        slug = label.lower().replace(" ", "-")
        users = [
            User(
                name=f"{label} {i}",
                email=f"{slug}{i}@example.org",
                email_verified_at=utcnow(),  # a confirmed address: their messages go by e-mail
                password_hash=hashed,
                calendar_token=f"{slug}-{i:07d}-abcdefghijklmnop"[:64],
            )
            for i in range(start, start + count)
        ]
        db.session.add_all(users)
        db.session.flush()
        tokens = [start_login_session(user) for user in users]
        db.session.commit()
    return [browser_for(app, token) for token in tokens]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(job: tuple[str, str, Browser, dict[str, str], Any]) -> tuple[int, float]:
    base, path, browser, data, barrier = job
    opener = urllib.request.build_opener(NoRedirect)
    body = urllib.parse.urlencode({**data, "csrf_token": browser.csrf}).encode()
    request = urllib.request.Request(base + path, data=body, headers={"Cookie": f"session={browser.cookie}"})  # noqa: S310
    barrier.wait(timeout=60)
    started = time.monotonic()
    try:
        with opener.open(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def fire(base: str, requests: list[tuple[str, Browser, dict[str, str]]]) -> list[tuple[int, float]]:
    """Send every request at once, each from its own process; return (status, seconds) in order."""
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(len(requests))
        with context.Pool(processes=len(requests)) as pool:
            jobs = [(base, path, browser, data, barrier) for path, browser, data in requests]
            return pool.map(_post, jobs, chunksize=1)
