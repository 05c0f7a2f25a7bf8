"""pretix's and Indico's event pages beside a bare Flask "hello" app, on this machine, in one command.

    .venv/bin/python -m bench.peers [--peers pretix,indico] [--seconds 10] [--connections 16]
                                    [--cache ~/.cache/einstein-bench-peers] [--reinstall]

Optional, not part of `make test`. Each peer gets its own virtual environment under --cache
(made once, then reused; `--reinstall` makes it again), installed from PyPI with pip: pretix
(Django) and Indico (Flask). Both are set up minimally on a PostgreSQL of their own (and Indico,
which needs it, a Redis), with one published event each, and served by gunicorn with the settings
bench/http.py uses for einstein (2 sync workers). wrk (`make bench-deps`) measures each event page
at --connections, and the hello app in the same run; the script prints requests per second, p50,
p99 and each page's rate as a share of hello's. A peer that cannot be installed or set up here is
reported with the reason (the last lines of pip's or its own output), and the others still run.

Figures on this machine are noisy when others use it: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.common import Load, temp_folder, wrk
from tests.support.http import Gunicorn
from tests.support.servers import PostgresServer, RedisServer, end_process, free_port, wait_for

#: What pip installs in each peer's environment (gunicorn serves it; pretix needs a PostgreSQL driver).
PACKAGES = {
    "pretix": ["pretix", "gunicorn", "psycopg2-binary"],
    "indico": ["indico", "gunicorn"],
}

#: Interpreters to make a peer's environment with, tried in order until one installs it (any
#: other peer: the one running this script). Indico runs on no Python newer than 3.12: its 3.3
#: needs 3.12.2 or later, its 3.2 3.11 or earlier; einstein's own environment is on 3.13.
PYTHONS = {"indico": ("python3.12", "python3.11")}

#: The organiser and event each peer gets.
ORGANISER, EVENT = "utrecht", "bike-repair-cafe"


class PeerError(Exception):
    """A peer could not be installed, set up or served here; the message says why."""


@dataclass
class Peer:
    """A peer ready to serve: its environment's python, the WSGI app, its settings and its page."""

    name: str
    python: Path
    target: str
    env: dict[str, str]
    path: str
    cwd: Path
    port: int


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(command: list[str | Path], env: dict[str, str] | None = None, timeout: int = 1800, what: str = "") -> str:
    """Run a command; its output, or a PeerError with the end of it."""
    try:
        done = subprocess.run(
            [str(c) for c in command], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise PeerError(f"{what or command[0]} took more than {timeout} s") from error
    if done.returncode != 0:
        raise PeerError(f"{what or command[0]} failed (exit {done.returncode}):\n{_tail(done.stdout + done.stderr)}")
    return done.stdout


def install(name: str, cache: Path, reinstall: bool) -> Path:
    """The peer's virtual environment under ``cache`` (made and installed unless there already)."""
    venv = cache / name
    marker = venv / ".installed"
    if reinstall and venv.exists():
        shutil.rmtree(venv)
    if marker.exists():
        return venv
    found = [path for path in (shutil.which(python) for python in PYTHONS.get(name, ())) if path]
    pythons = found if name in PYTHONS else [sys.executable]
    if not pythons:
        raise PeerError(f"none of {', '.join(PYTHONS[name])} is installed, and {name} runs on no other Python")
    for python in pythons:
        print(
            f"{name}: installing {' '.join(PACKAGES[name])} from PyPI with {python} into {venv} (once; minutes) ...",
            flush=True,
        )
        try:
            _run([python, "-m", "venv", "--clear", venv], what="python -m venv")
            pip = [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q"]
            _run([*pip, "--upgrade", "pip", "wheel"], what="pip install --upgrade pip")
            _run([*pip, *PACKAGES[name]], what=f"pip install {' '.join(PACKAGES[name])}")
        except PeerError as problem:  # perhaps no release of the peer for this Python: the next one
            failed = problem
            continue
        marker.write_text(_run([venv / "bin" / "python", "-m", "pip", "freeze"]))
        return venv
    raise failed


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


# --- pretix ----------------------------------------------------------------------------------------------

PRETIX_EVENT = """
from django.utils.timezone import now
from datetime import timedelta
from django_scopes import scopes_disabled
from pretix.base.models import Organizer, Event, Item, Quota
with scopes_disabled():
    organizer, _ = Organizer.objects.get_or_create(slug="{organiser}", defaults={{"name": "Utrecht"}})
    event = Event.objects.filter(organizer=organizer, slug="{event}").first()
    if event is None:
        event = Event.objects.create(
            organizer=organizer, slug="{event}", name="Bike repair café", currency="EUR",
            date_from=now() + timedelta(days=3), live=True,
        )
        item = Item.objects.create(event=event, name="Place", default_price=0, admission=True)
        quota = Quota.objects.create(event=event, name="Places", size=20)
        quota.items.add(item)
    print("event", event.pk)
"""


def pretix(venv: Path, folder: Path, postgres: PostgresServer) -> Peer:
    """pretix on its own database, one organiser with one live event and a free ticket."""
    postgres.create_database("pretix")
    data = folder / "pretix-data"
    data.mkdir()
    port = free_port()
    config = folder / "pretix.cfg"
    config.write_text(
        textwrap.dedent(
            f"""\
            [pretix]
            instance_name=bench
            url=http://127.0.0.1:{port}
            datadir={data}
            trust_x_forwarded_for=off

            [django]
            secret=bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz
            debug=off

            [database]
            backend=postgresql
            name=pretix
            user=postgres
            host=127.0.0.1
            port={postgres.port}

            [mail]
            from=bench@example.org
            host=127.0.0.1
            port=1
            """
        )
    )
    env = {**_base_env(), "PRETIX_CONFIG_FILE": str(config), "DJANGO_SETTINGS_MODULE": "pretix.settings"}
    python = venv / "bin" / "python"
    _run([python, "-m", "pretix", "migrate", "--noinput"], env=env, what="pretix migrate")
    _run(
        [python, "-m", "pretix", "shell", "-c", PRETIX_EVENT.format(organiser=ORGANISER, event=EVENT)],
        env=env,
        what="pretix: making the event",
    )
    return Peer("pretix", python, "pretix.wsgi:application", env, f"/{ORGANISER}/{EVENT}/", data, port)


# --- Indico ----------------------------------------------------------------------------------------------

INDICO_EVENT = """
from datetime import timedelta
from indico.core.db import db
from indico.modules.categories import Category
from indico.modules.events import Event
from indico.modules.events.models.events import EventType
from indico.modules.users import User
from indico.util.date_time import now_utc
if not Event.query.filter_by(title="Bike repair café").has_rows():
    user = User.query.filter_by(is_system=False).first()
    if user is None:
        user = User(first_name="Samir", last_name="Bench", email="samir@example.org")
        db.session.add(user)
        db.session.flush()
    root = Category.get_root()
    start = now_utc() + timedelta(days=3)
    event = Event(category=root, title="Bike repair café", type_=EventType.meeting, creator=user,
                  start_dt=start, end_dt=start + timedelta(hours=2), timezone="Europe/Amsterdam")
    db.session.add(event)
    db.session.commit()
print("event", Event.query.filter_by(title="Bike repair café").one().id)
"""


def indico(venv: Path, folder: Path, postgres: PostgresServer, redis: RedisServer) -> Peer:
    """Indico on its own database, one meeting in the root category."""
    url = postgres.create_database("indico").replace("postgresql+psycopg://", "postgresql://")
    port = free_port()
    dirs = {name: folder / f"indico-{name}" for name in ("log", "tmp", "cache", "archive")}
    for path in dirs.values():
        path.mkdir()
    config = folder / "indico.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            SQLALCHEMY_DATABASE_URI = {url!r}
            SECRET_KEY = 'bench-secret-key-0123456789-abcdefghijklmnop'
            BASE_URL = 'http://127.0.0.1:{port}'
            CELERY_BROKER = {redis.url.replace("/0", "/1")!r}
            REDIS_CACHE_URL = {redis.url.replace("/0", "/2")!r}
            DEFAULT_TIMEZONE = 'Europe/Amsterdam'
            DEFAULT_LOCALE = 'en_GB'
            ENABLE_ROOMBOOKING = False
            CACHE_DIR = {str(dirs["cache"])!r}
            TEMP_DIR = {str(dirs["tmp"])!r}
            LOG_DIR = {str(dirs["log"])!r}
            STORAGE_BACKENDS = {{'default': 'fs:{dirs["archive"]}'}}
            ATTACHMENT_STORAGE = 'default'
            NO_REPLY_EMAIL = 'noreply@example.org'
            SUPPORT_EMAIL = 'support@example.org'
            SMTP_SERVER = ('127.0.0.1', 1)
            """
        )
    )
    env = {**_base_env(), "INDICO_CONFIG": str(config)}
    python = venv / "bin" / "python"
    indico_cli = venv / "bin" / "indico"
    _run(
        [indico_cli, "setup", "create-logging-config", dirs["log"]], env=env, what="indico setup create-logging-config"
    )
    # Indico's search needs two extensions that only a superuser may create (the bench's PostgreSQL
    # runs everything as its superuser, so create them here, as Indico's install guide says to)
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=indico", autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        db.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    _run([indico_cli, "db", "prepare"], env=env, what="indico db prepare")
    out = _run([python, "-c", _in_indico(INDICO_EVENT)], env=env, what="indico: making the event")
    event_id = out.split()[-1]
    return Peer("indico", python, "indico.web.flask.app:make_app()", env, f"/event/{event_id}/", folder, port)


def _in_indico(code: str) -> str:
    """Run ``code`` inside Indico's app context."""
    return "from indico.web.flask.app import make_app\napp = make_app()\nwith app.app_context():\n" + textwrap.indent(
        code, "    "
    )


# --- serving and measuring ------------------------------------------------------------------------------


class Served:
    """gunicorn from the peer's own environment: 2 sync workers, as bench/http.py serves einstein."""

    def __init__(self, peer: Peer, folder: Path, workers: int) -> None:
        self.peer = peer
        self.log = folder / f"gunicorn-{peer.name}.log"
        self.command = [
            str(peer.python),
            "-m",
            "gunicorn",
            peer.target,
            "--bind",
            f"127.0.0.1:{peer.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.peer.port}{self.peer.path}"

    def __enter__(self) -> Served:
        handle = open(self.log, "wb")
        self.process = subprocess.Popen(
            self.command, cwd=self.peer.cwd, env=self.peer.env, stdout=handle, stderr=subprocess.STDOUT
        )

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                log = self.log.read_text(errors="replace")
                # the worker's own error, not only the arbiter's traceback that follows it
                causes = [line for line in log.splitlines() if "Error" in line and "HaltServer" not in line]
                raise PeerError("gunicorn exited:\n" + "\n".join(causes[-5:]) + "\n" + _tail(log, 5))
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310 (127.0.0.1 only)
                    return response.status == 200
            except urllib.error.HTTPError as error:
                body = error.read().decode(errors="replace")
                raise PeerError(f"{self.url} answered {error.code}:\n{_tail(body, 5)}") from error
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        try:
            wait_for(up, timeout=120, interval=0.5, what=f"{self.peer.name}'s gunicorn")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            end_process(self.process)
            self.process = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default="pretix,indico")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "einstein-bench-peers")
    parser.add_argument("--reinstall", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.peers.split(",") if n]
    unknown = set(names) - set(PACKAGES)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))} (known: {', '.join(PACKAGES)})")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-deps` (apt-get install wrk)")
    args.cache.mkdir(parents=True, exist_ok=True)
    folder = temp_folder()
    problems: dict[str, str] = {}
    results: dict[str, Load] = {}
    gunicorn = ["--workers", str(args.workers), "--worker-class", "sync", "--threads", "1"]
    venvs = {}
    for name in names:
        try:
            venvs[name] = install(name, args.cache, args.reinstall)
        except PeerError as problem:
            problems[name] = f"not installed: {problem}"
    postgres, redis = PostgresServer(), RedisServer(folder)
    postgres.start()
    redis.start()
    try:
        with Gunicorn({}, folder, target="bench.hello:app", args=gunicorn, health="/") as hello:
            wrk(hello.url + "/", 4, 2)  # warm up
            results["hello (bare Flask)"] = wrk(hello.url + "/", args.connections, args.seconds)
        for name, venv in venvs.items():
            started = time.monotonic()
            try:
                peer = pretix(venv, folder, postgres) if name == "pretix" else indico(venv, folder, postgres, redis)
                print(f"{name}: set up in {time.monotonic() - started:.0f} s; measuring {peer.path}", flush=True)
                with Served(peer, folder, args.workers) as served:
                    wrk(served.url, 4, 2)  # warm up
                    results[f"{name} event page"] = wrk(served.url, args.connections, args.seconds)
            except PeerError as problem:
                problems[name] = f"not measured: {problem}"
    finally:
        redis.stop()
        postgres.stop()

    print()
    print(f"gunicorn {args.workers} sync workers; wrk {args.connections} connections, {args.seconds} s; PostgreSQL")
    print(f"{'page':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}")
    base = results["hello (bare Flask)"].rps
    for name, load in results.items():
        errors = f"  ({load.errors} errors)" if load.errors else ""
        share = load.rps / base if base else 0
        print(f"{name:<24}{load.rps:9.1f}{load.p50_ms:9.1f}{load.p99_ms:9.1f}{share:10.1%}{errors}")
    for name, problem in problems.items():
        print(f"\n{name}: {problem}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
