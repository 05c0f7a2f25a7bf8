"""Real servers for the test run: Redis, PostgreSQL, an SMTP sink and Celery workers.

Each is started on a free port on 127.0.0.1 by the tests themselves and stopped at the end.
"""

from __future__ import annotations

import asyncio
import errno
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.support import clock

ROOT = Path(__file__).resolve().parents[2]
_NOTIFICATION_ID = re.compile(rb"^X-Einstein-Notification: (\d+)", re.M)


#: Ports handed out in this process: the kernel may offer a port again once its socket is closed,
#: and two servers given the same one would fight over it (one of them never answers).
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """Return a TCP port nobody listens on right now, and never the same one twice."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_for(
    predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05, what: str = "condition"
) -> None:
    """Poll ``predicate`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def end_process(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Ask a server to stop (SIGTERM) and wait for it; kill it if it has not stopped in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _connect(port: int, timeout: float) -> int:
    """Try to connect to ``port`` on 127.0.0.1: 0, or the error number (EAGAIN when not taken in time)."""
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex(("127.0.0.1", port))


def port_open(port: int) -> bool:
    """Whether a connection to ``port`` is taken within 0.2 s (a wait for a server to come up).

    False is no proof that nothing listens: on a loaded machine the handshake can take longer.
    """
    return _connect(port, 0.2) == 0


def port_refused(port: int, timeout: float = 5.0) -> bool:
    """Whether connecting to ``port`` is refused: nothing listens there any more.

    A connection not taken in time is no refusal: the port may still be open, its server busy or
    the machine loaded (``not port_open`` would then claim a closed port too early).
    """
    return _connect(port, timeout) == errno.ECONNREFUSED


# --- Redis -------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server process that tests can stop, restart, freeze (SIGSTOP) and thaw."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.ping(), what="redis-server to answer")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """Stop the process without closing its port: clients connect but get no answer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it")


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary folder, with fsync off for speed."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="einstein-pg-")))
    port: int = field(default_factory=free_port)

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; run it as the postgres user the package made.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        bindir = _postgres_bindir()
        data = self.directory / "data"
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        os.chmod(self.directory, 0o700)
        self._run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
            "-c shared_buffers=128MB"
        )
        self._run(
            str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"
        )

    def stop(self) -> None:
        bindir = _postgres_bindir()
        try:
            self._run(str(bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


# --- SMTP --------------------------------------------------------------------------------------


class _DataOnly:
    """What the SMTP server calls for each message: only the sink's ``handle_DATA``.

    aiosmtpd looks through its handler's members on every new connection (``inspect.getmembers``);
    handed the sink itself, it read the ``messages`` property, which parses every message not yet
    parsed, in the server's one thread: each new connection waited for that (0.1-0.4 s once a
    few dozen messages had come in).
    """

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        return await self.sink.handle_DATA(server, session, envelope)


class SmtpSink:
    """An aiosmtpd server that keeps what it receives and can answer 451 on demand."""

    def __init__(self) -> None:
        self.port = free_port()
        #: What the server accepted, as raw bytes; parsed only when a test reads ``messages``.
        self.raw: list[bytes] = []
        self._parsed: list[EmailMessage] = []
        self.refusals = 0
        self._fail_next = 0
        self._fail_code = "451 4.3.0 Try again later"
        #: Seconds to wait before answering each message, like a slow mail server.
        self.delay = 0.0
        self._lock = threading.Lock()
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                self.refusals += 1
                return self._fail_code
            self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message accepted so far, parsed."""
        with self._lock:
            for content in self.raw[len(self._parsed) :]:
                self._parsed.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
            return list(self._parsed)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_DataOnly(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` messages with ``reply`` instead of accepting them."""
        with self._lock:
            self._fail_next = count
            self._fail_code = reply

    def reset(self) -> None:
        with self._lock:
            self.raw.clear()
            self._parsed.clear()
            self._fail_next = 0
            self.refusals = 0
            self.delay = 0.0

    def notification_ids(self) -> list[int]:
        """The outbox ids of the messages received (every einstein e-mail carries its id)."""
        with self._lock:
            raw = list(self.raw)
        return [int(match.group(1)) for content in raw if (match := _NOTIFICATION_ID.search(content))]

    def to(self, address: str) -> list[EmailMessage]:
        """Messages received for ``address``."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for_count(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        wait_for(lambda: len(self.raw) >= count, timeout=timeout, what=f"{count} e-mail(s)")
        return self.messages


# --- Celery ------------------------------------------------------------------------------------


class CeleryProcess:
    """A real ``celery -A worker worker`` (or ``celery -A einstein.beat beat``, as the Procfile
    runs beat) process with the given environment, on the test run's clock."""

    def __init__(self, env: dict[str, str], args: list[str], log_path: Path, app: str | None = None) -> None:
        self.env = env
        self.args = args
        #: the module ``celery -A`` loads
        self.app = app or ("einstein.beat" if args[0] == "beat" else "worker")
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if getattr(self, "_log", None) is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self._started_at = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", self.app, *self.args],
            cwd=ROOT,
            env=clock.environment(self.env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            return b"ready." in self.log_path.read_bytes()[self._started_at :] or self._dead()

        wait_for(ready, timeout=timeout, what="celery worker")
        if self._dead():
            raise RuntimeError("celery exited:\n" + self.log_path.read_text(errors="replace")[-3000:])

    def _dead(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its pool children die at once."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
