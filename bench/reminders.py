"""Push due reminders through Redis, a Celery worker and an SMTP sink (or a real Kannel with a
fake operator); count lost and duplicates.

    .venv/bin/python -m bench.reminders [--count 10000] [--db sqlite|postgresql] [--concurrency 2]
    .venv/bin/python -m bench.reminders --channel sms [--count 2000]

Baselines, measured in the same run, before the pipeline and again after it (the mean counts):
the same number of messages sent straight to the same SMTP sink (or Kannel's sendsms) over one
connection by one process (no database, no queue). For e-mail there are two: a short plain
message (the first yardstick, and the one the target names), and one of einstein's reminders,
written once and sent as it is (what the channel can take of these messages; measured on
2026-12-02, the sink took it about as fast as the short one). The ratios show what the
pipeline's guarantees cost.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import smtplib
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

from bench.common import bulk_due_reminders, database, make_app, production_env, redis, temp_folder
from einstein.db import db
from einstein.mail import WIRE
from einstein.models import Booking, Notification
from einstein.notifications import registry
from einstein.notifications.channels import Outgoing
from tests.support.kannel import KannelGateway
from tests.support.servers import CeleryProcess, SmtpSink

#: Every e-mail einstein sends carries its outbox id in this header.
_NOTIFICATION_ID = re.compile(rb"^X-Einstein-Notification: (\d+)", re.M)
#: Every reminder by text names its booking's reference, after a word in the person's language
#: ("Ref", "Code", "رمز" ...): the reference itself is the same in every language.
_REFERENCE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b")


class Sink(SmtpSink):
    """The test suite's SMTP sink, noting when the first message came and counting the outbox ids
    received by reading only what arrived since it last looked."""

    def start(self) -> None:
        self.reset()
        super().start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.first_at is None:
            self.first_at = time.monotonic()
        return await super().handle_DATA(server, session, envelope)

    def reset(self) -> None:
        super().reset()
        #: When the first message since the last reset arrived (``time.monotonic()``).
        self.first_at: float | None = None
        self._counted = 0
        self._ids: Counter[int] = Counter()

    def received(self) -> Counter[int]:
        """How often each outbox id arrived (the wait polls this: it must not rescan everything)."""
        with self._lock:
            new = self.raw[self._counted :]
            self._counted += len(new)
        self._ids.update(int(match.group(1)) for content in new if (match := _NOTIFICATION_ID.search(content)))
        return self._ids


def smtp_baseline(port: int, count: int) -> float:
    """Short plain messages per second sent directly to the sink by one process, over one connection."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "baseline"
    message.set_content("Hello " * 80)
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.send_message(message)
    return count / (time.monotonic() - started)


def written_reminder(app: Any, notification_id: int) -> bytes:
    """One of the run's reminders as einstein writes it for the SMTP server (nothing is recorded)."""
    with app.app_context():
        outgoing = registry.render(db.session.get(Notification, notification_id))
        db.session.rollback()
    assert isinstance(outgoing, Outgoing), outgoing
    return outgoing.content.as_bytes(policy=WIRE)


def same_mail_baseline(port: int, count: int, data: bytes) -> float:
    """That written reminder per second, sent directly to the sink by one process over one connection."""
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.sendmail("a@example.org", ["b@example.org"], data)
    return count / (time.monotonic() - started)


class _ReportSink(BaseHTTPRequestHandler):
    """Stands in for einstein's /sms/dlr in this benchmark: answers 200 to every delivery report."""

    received = 0

    def do_GET(self) -> None:
        type(self).received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def sendsms_baseline(gateway: KannelGateway, report_url: str, count: int) -> float:
    """Texts per second handed straight to Kannel's sendsms by one process over one connection,
    asking for delivery reports as einstein does (which costs Kannel more than the text itself)."""
    url = urlsplit(gateway.sendsms_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=10)
    started = time.monotonic()
    for i in range(count):
        query = urlencode(
            {
                "username": gateway.username,
                "password": gateway.password,
                "from": "einstein",
                "to": f"+3169{i:07d}",
                "text": f"Herinnering: Bike repair café, do 3/12 10:00, Buurthuis Lombok. Ref BASE-{i:04d}",
                "charset": "UTF-8",
                "coding": "0",
                "dlr-mask": "31",
                "dlr-url": f"{report_url}/sms/dlr?secret=x&id={i}&status=%d",
            }
        )
        connection.request("GET", f"{url.path}?{query}")
        response = connection.getresponse()
        response.read()
        if response.status != 202:
            raise RuntimeError(f"sendsms answered {response.status}")
    connection.close()
    return count / (time.monotonic() - started)


@contextmanager
def sms_gateway(
    folder: Path, count: int
) -> Iterator[tuple[dict[str, str], Callable[[], list[str]], float, Callable[[], float]]]:
    """A real Kannel with a fake operator, and a stand-in for einstein's delivery-report endpoint:
    the worker's settings, what reached the operator (the texts), the baseline measured on it
    before, and how to measure it again after."""
    reports = ThreadingHTTPServer(("127.0.0.1", 0), _ReportSink)
    threading.Thread(target=reports.serve_forever, daemon=True).start()
    report_url = f"http://127.0.0.1:{reports.server_address[1]}"
    directory = folder / "kannel"
    directory.mkdir()
    gateway = KannelGateway("http://127.0.0.1:9/sms/inbound", directory=directory, queue_limit=count + 10)
    gateway.start()
    try:

        def measure() -> float:
            return sendsms_baseline(gateway, report_url, min(count, 2000))

        baseline = measure()
        gateway.wait_for_mt(min(count, 2000), timeout=120)
        gateway.clear_mt()

        env = {
            "SMS_GATEWAY_URL": gateway.sendsms_url,
            "SMS_USERNAME": gateway.username,
            "SMS_PASSWORD": gateway.password,
            "BASE_URL": report_url,
            "SMS_CALLBACK_SECRET": "bench-sms-callback-secret",
            "EINSTEIN_SMS_QUIET_FROM": "24",
            "EINSTEIN_SMS_QUIET_UNTIL": "0",
        }
        yield env, lambda: [message.text for message in gateway.mt_messages], baseline, measure
    finally:
        gateway.stop()
        reports.shutdown()


def group_cpu_seconds(group: int) -> float:
    """CPU seconds (user and system) used so far by the live processes of a process group: a
    Celery worker and its pool, which run in a session of their own."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 12 and 13
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def group_wait_seconds(group: int) -> float:
    """Seconds the threads of a process group's live processes waited, ready to run, for a CPU
    (the kernel's schedstat): what the machine's other load cost them."""
    total = 0
    for schedstat in Path("/proc").glob("[0-9]*/task/[0-9]*/schedstat"):
        try:
            fields = (schedstat.parents[2] / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                total += int(schedstat.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def stolen_seconds() -> float:
    """CPU seconds the hypervisor gave to other machines so far (``steal`` in /proc/stat): on a
    shared virtual machine the same run is slower when its neighbours are busy."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


#: CPU seconds stolen by the hypervisor while the pipeline sent.
STOLEN: list[float] = []
#: The worker's CPU seconds while it sent (what the machine's other load does not change).
WORKER_CPU: list[float] = []
#: The seconds its processes waited for a CPU meanwhile (what the other load does change).
WORKER_WAIT: list[float] = []
#: When beat was started (``time.monotonic()``): the time measured begins there.
STARTED: list[float] = []


def run_pipeline(
    env: dict[str, str], folder: Path, concurrency: int, timeout: float, done: Callable[[], bool]
) -> float:
    """Start a worker, then the beat whose first sweep queues the reminders; return the seconds
    until ``done()``, then let more sweeps pass (would anything come twice?)."""
    worker = CeleryProcess(
        env,
        [
            "worker",
            "--loglevel",
            "WARNING",
            "--queues",
            "default,mail",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
        ],
        folder / "worker.log",
    )
    beat = CeleryProcess(
        env, ["beat", "--loglevel", "WARNING", "--schedule", str(folder / "beat")], folder / "beat.log"
    )
    worker.start()
    assert worker.process is not None
    time.sleep(3)
    cpu_before = group_cpu_seconds(worker.process.pid)
    for _ in range(30):  # until the worker has started (it idles): its start is not sending
        time.sleep(1)
        cpu_before, idle = group_cpu_seconds(worker.process.pid), cpu_before
        if cpu_before - idle < 0.05:
            break
    wait_before = group_wait_seconds(worker.process.pid)
    stolen_before = stolen_seconds()
    started = time.monotonic()
    STARTED.append(started)
    beat.start()
    try:
        deadline = started + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        WORKER_CPU.append(group_cpu_seconds(worker.process.pid) - cpu_before)
        WORKER_WAIT.append(group_wait_seconds(worker.process.pid) - wait_before)
        STOLEN.append(stolen_seconds() - stolen_before)
        time.sleep(5)
    finally:
        beat.stop()
        worker.stop()
    return elapsed


def report(
    baselines: dict[str, tuple[float, float]],
    ids: int,
    received: Counter[object],
    elapsed: float,
    args: argparse.Namespace,
    first_at: float | None = None,
) -> None:
    """Print the rate, the lost and duplicated, and the ratio to each baseline (measured before
    and after the pipeline: their mean); fail on a loss."""
    delivered = len(received)
    lost = ids - delivered
    duplicated = sum(received.values()) - len(received)
    rate = delivered / elapsed
    print(
        f"reminders by {args.channel}: {delivered} delivered in {elapsed:.1f} s = {rate:.0f} per second "
        f"(worker concurrency {args.concurrency}, {args.db}, first sweep included)"
    )
    print(f"lost: {lost}   duplicated: {duplicated}")
    for what, (before, after) in baselines.items():
        mean = (before + after) / 2
        print(
            f"baseline, {what} from one process: {before:.0f} before, {after:.0f} after = {mean:.0f} per second; "
            f"pipeline/baseline = {rate / mean:.2f}"
        )
    if WORKER_CPU and delivered:
        print(f"worker CPU (all its processes) per message: {WORKER_CPU[-1] / delivered * 1000:.1f} ms")
        print(f"worker's processes waited {WORKER_WAIT[-1]:.1f} s in all for a CPU (the machine's other load)")
        print(f"the hypervisor took {STOLEN[-1]:.1f} CPU seconds from this machine meanwhile (steal)")
    if first_at is not None and STARTED:
        # before the first e-mail: beat starting and its first sweep, SWEEP_SECONDS after that
        before = first_at - STARTED[-1]
        rest = delivered / (elapsed - before)
        print(f"first e-mail {before:.1f} s after beat started; from it to the last: {rest:.0f} per second")
    if lost or duplicated:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--channel", choices=["email", "sms"], default="email")
    args = parser.parse_args()

    folder = temp_folder()
    with database(args.db, folder) as url, redis(folder) as broker:
        app = make_app(url, folder)
        print(f"preparing {args.count} due reminders by {args.channel} on {args.db} ...", flush=True)
        ids = bulk_due_reminders(app, args.count, channel=args.channel)
        env = {**os.environ, **production_env(url, broker.url, folder, EINSTEIN_SWEEP_SECONDS="2")}
        if args.channel == "sms":
            with app.app_context():
                references = set(db.session.scalars(sa.select(Booking.reference)))
            with sms_gateway(folder, args.count) as (settings, texts, before, again):

                def arrived() -> Counter[object]:
                    return Counter(found.group() for text in texts() if (found := _REFERENCE.search(text)))

                elapsed = run_pipeline(
                    {**env, **settings}, folder, args.concurrency, args.timeout, lambda: len(arrived()) >= len(ids)
                )
                received = arrived()
                after = again()  # (the texts it sends are not counted: received is taken)
            assert set(received) <= references, "a text for a booking that was not reminded"
            report({"Kannel sendsms": (before, after)}, len(ids), received, elapsed, args)
            return
        sink = Sink()
        sink.start()
        written = written_reminder(app, ids[0])
        baseline_count = min(args.count, 5000)

        def measure() -> tuple[float, float]:
            return smtp_baseline(sink.port, baseline_count), same_mail_baseline(sink.port, baseline_count, written)

        try:
            before = measure()
            sink.reset()
            smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)}
            elapsed = run_pipeline(
                {**env, **smtp},
                folder,
                args.concurrency,
                args.timeout,
                lambda: len(sink.received()) >= len(ids),
            )
            wanted = set(ids)
            received = Counter({i: n for i, n in sink.received().items() if i in wanted})
            first_at = sink.first_at
            after = measure()
        finally:
            sink.stop()
    baselines = {
        "short plain SMTP message": (before[0], after[0]),
        f"einstein's reminder ({len(written):,} bytes) over SMTP": (before[1], after[1]),
    }
    report(baselines, len(ids), received, elapsed, args, first_at)


if __name__ == "__main__":
    main()
