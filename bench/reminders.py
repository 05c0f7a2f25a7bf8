"""Push due reminders through Redis, a Celery worker and an SMTP sink; count lost and duplicates.

    .venv/bin/python -m bench.reminders [--count 10000] [--db sqlite|postgresql] [--concurrency 2]

Baseline, measured in the same run: the same number of messages sent straight to the same SMTP
sink over one connection by one process (no database, no queue). The ratio shows what the
pipeline's guarantees cost.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys
import time
from collections import Counter
from email.message import EmailMessage

from bench.common import bulk_due_reminders, database, make_app, production_env, redis, temp_folder
from tests.support.servers import CeleryProcess, SmtpSink


def smtp_baseline(port: int, count: int) -> float:
    """Messages per second sent directly to the sink by one process, over one connection."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "baseline"
    message.set_content("Hello " * 80)
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.send_message(message)
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    folder = temp_folder()
    sink = SmtpSink()
    sink.start()
    try:
        baseline = smtp_baseline(sink.port, min(args.count, 5000))
        sink.reset()
        with database(args.db, folder) as url, redis(folder) as broker:
            app = make_app(url, folder)
            print(f"preparing {args.count} due reminders on {args.db} ...", flush=True)
            ids = bulk_due_reminders(app, args.count)
            env = {
                **os.environ,
                **production_env(
                    url,
                    broker.url,
                    folder,
                    SMTP_HOST="127.0.0.1",
                    SMTP_PORT=str(sink.port),
                    EINSTEIN_SWEEP_SECONDS="2",
                ),
            }
            worker = CeleryProcess(
                env,
                [
                    "worker",
                    "--loglevel",
                    "WARNING",
                    "--queues",
                    "default,mail",
                    "--concurrency",
                    str(args.concurrency),
                    "--without-gossip",
                    "--without-mingle",
                ],
                folder / "worker.log",
            )
            beat = CeleryProcess(
                env, ["beat", "--loglevel", "WARNING", "--schedule", str(folder / "beat")], folder / "beat.log"
            )
            worker.start()
            time.sleep(3)
            started = time.monotonic()
            beat.start()
            try:
                deadline = started + args.timeout
                while len(set(sink.notification_ids())) < len(ids) and time.monotonic() < deadline:
                    time.sleep(0.2)
                elapsed = time.monotonic() - started
                time.sleep(5)  # more sweeps: would anything come twice?
            finally:
                beat.stop()
                worker.stop()
    finally:
        sink.stop()

    received = Counter(sink.notification_ids())
    delivered = len(set(received) & set(ids))
    lost = len(ids) - delivered
    duplicated = sum(received.values()) - len(received)
    rate = delivered / elapsed
    print(
        f"reminders: {delivered} delivered in {elapsed:.1f} s = {rate:.0f} per second "
        f"(worker concurrency {args.concurrency}, {args.db}, first sweep included)"
    )
    print(f"lost: {lost}   duplicated: {duplicated}")
    print(
        f"baseline, plain SMTP from one process: {baseline:.0f} per second; pipeline/baseline = {rate / baseline:.2f}"
    )
    if lost or duplicated:
        sys.exit(1)


if __name__ == "__main__":
    main()
