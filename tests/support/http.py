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
from itsdangerous import URLSafeTimedSerializer

from tests.support.servers import ROOT, free_port, wait_for


class Gunicorn:
    """``gunicorn einstein.wsgi:app`` with several workers, on a free port."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 4, threads: int = 4) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "EINSTEIN_INSTANCE_PATH": str(folder / "instance")}
        self.args = [
            sys.executable,
            "-m",
            "gunicorn",
            "einstein.wsgi:app",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
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
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:  # noqa: S310
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_for(up, timeout=60, interval=0.2, what="gunicorn")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
            self._log.close()

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
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    return Browser(cookie, csrf)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(job: tuple[str, str, Browser, dict[str, str], Any]) -> tuple[int, float]:
    base, path, browser, data, barrier = job
    opener = urllib.request.build_opener(_NoRedirect)
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
