"""A rush of sign-ups for a few popular sessions, through gunicorn, on PostgreSQL and on SQLite.

    .venv/bin/python -m bench.booking [--db both|postgresql|sqlite] [--sessions 20] [--places 20]
                                      [--signups 2000] [--warmup 200] [--clients 32] [--workers 2]
                                      [--worker-class sync]

Every sign-up is a real einstein booking (signed in, CSRF-checked form, the lock on the session,
the waiting list, the e-mail and reminders written to the outbox) sent by one of --clients client
processes at once. A warm-up of --warmup sign-ups to another session comes first and is not
counted, as a rush meets a server that has been running. Prints bookings per second, p50 and p99,
error answers, the number of overbooked places (must be 0), and whether every e-mail that was
due reached the broker's queue exactly once. Baseline, measured in the same run with the same
warm-up: bench/minimal.py, the least a booking can be (one conditional UPDATE and one INSERT)
under the same gunicorn settings."""

from __future__ import annotations

import argparse
import collections
import http.client
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench.common import SESSION_COOKIE, database, make_app, production_env, redis, temp_folder
from tests.support.http import Gunicorn, signed_in_people
from tests.support.outbox import ids_in_mail_queue


def _client(job: tuple[int, list[tuple[str, dict[str, str], str]], Any]) -> list[tuple[int, float]]:
    port, requests, barrier = job
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    barrier.wait(timeout=120)
    results = []
    for path, headers, body in requests:
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        results.append((response.status, time.perf_counter() - started))
    connection.close()
    return results


def rush(
    port: int,
    requests: list[Any],
    clients: int,
    client: Callable[[tuple[int, list[Any], Any]], list[tuple[int, float]]] = _client,
    timeout: float = 600,
) -> tuple[float, list[tuple[int, float]]]:
    """Send the requests from ``clients`` processes at once (each runs ``client`` on its share,
    starting together); return the wall time and the answers."""
    context = multiprocessing.get_context("fork")
    shares = [requests[i::clients] for i in range(clients)]
    with context.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with context.Pool(clients) as pool:
            pending = pool.map_async(client, [(port, share, barrier) for share in shares])
            barrier.wait(timeout=120)
            started = time.perf_counter()
            answers = [a for share in pending.get(timeout=timeout) for a in share]
            return time.perf_counter() - started, answers


def summary(label: str, seconds: float, answers: list[tuple[int, float]], ok: set[int]) -> dict[str, float]:
    latencies = sorted(t for _, t in answers)
    errors = sum(1 for status, _ in answers if status not in ok)
    result = {
        "rate": len(answers) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }
    print(
        f"  {label:<34} {result['rate']:8.0f}/s   p50 {result['p50']:6.1f} ms   p99 {result['p99']:7.1f} ms   "
        f"errors {errors}",
        flush=True,
    )
    if errors:
        wrong = collections.Counter(status for status, _ in answers if status not in ok)
        print(f"  answers that are not a booking: {dict(wrong)}", flush=True)
    return result


def run(kind: str, args: argparse.Namespace) -> None:
    from bench import minimal
    from einstein.bookings import integrity
    from einstein.db import db, utcnow
    from einstein.models import (
        Booking,
        BookingStatus,
        Category,
        Notification,
        Offer,
        OfferKind,
        OfferSession,
        OfferStatus,
    )

    folder = temp_folder()
    gunicorn = ["--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads)]
    people = args.warmup + args.signups
    with database(kind, folder) as url, redis(folder) as broker:
        app = make_app(url, folder)
        with app.app_context():
            now = utcnow()
            offer = Offer(
                kind=OfferKind.ACTIVITY,
                status=OfferStatus.PUBLISHED,
                title="Popular",
                category=Category.SOCIAL,
                capacity=args.places,
                waitlist_enabled=True,
            )
            # the last session is the warm-up's
            sessions = [
                OfferSession(
                    offer=offer,
                    starts_at=now + timedelta(days=3, hours=i),
                    ends_at=now + timedelta(days=3, hours=i + 1),
                    capacity=args.places,
                )
                for i in range(args.sessions + 1)
            ]
            db.session.add_all([offer, *sessions])
            db.session.commit()
            session_ids = [s.id for s in sessions]
        browsers = signed_in_people(app, people, "Rush")
        with app.app_context():
            db.engine.dispose()
        requests = [
            (
                f"/sessions/{session_ids[i % args.sessions] if i >= args.warmup else session_ids[-1]}/book",
                {"Cookie": f"{SESSION_COOKIE}={b.cookie}", "Content-Type": "application/x-www-form-urlencoded"},
                f"csrf_token={b.csrf}&waitlist=1",
            )
            for i, b in enumerate(browsers)
        ]
        # as in production: Redis for the broker (the e-mails are queued; no worker sends them here) and
        # for the cache
        env = production_env(url, broker.url, folder)
        print(
            f"{kind}: {args.signups} sign-ups for {args.sessions} sessions of {args.places} places, "
            f"{args.clients} clients, gunicorn {' '.join(gunicorn)}, after {args.warmup} warm-up sign-ups",
            flush=True,
        )
        with Gunicorn(env, folder, args=gunicorn) as einstein:
            rush(einstein.port, requests[: args.warmup], args.clients)
            seconds, answers = rush(einstein.port, requests[args.warmup :], args.clients)
        # gunicorn has stopped: its workers handed their last e-mails to the queue on the way out
        result = summary("einstein booking (form, lock, list)", seconds, answers, {303})
        with app.app_context():
            confirmed = dict(
                db.session.execute(
                    sa.select(Booking.session_id, sa.func.count())
                    .where(Booking.status == BookingStatus.CONFIRMED)
                    .group_by(Booking.session_id)
                ).all()
            )
            waiting = db.session.scalar(sa.select(sa.func.count()).where(Booking.status == BookingStatus.WAITLISTED))
            drift = len(integrity.counter_drift())
            due = set(db.session.scalars(sa.select(Notification.id).where(Notification.due_at <= utcnow())))
            db.engine.dispose()
        overbooked = sum(max(0, count - args.places) for count in confirmed.values())
        published = [i for message in ids_in_mail_queue(broker.url) for i in message]
        missing, doubled = len(due - set(published)), len(published) - len(set(published))
        print(
            f"  confirmed {sum(confirmed.values())}, waiting {waiting}, "
            f"overbooked places: {overbooked}, counters off: {drift}\n"
            f"  e-mails due {len(due)}, in the queue {len(set(published))}, missing {missing}, twice {doubled}"
        )

        minimal.reset(url, args.sessions + 1, args.places)
        baseline_requests = [
            (f"/book/{(i % args.sessions) + 1 if i >= args.warmup else args.sessions + 1}/{i}", {}, "")
            for i in range(people)
        ]
        with Gunicorn({"DATABASE_URL": url}, folder, target="bench.minimal:app", args=gunicorn, health="/") as bare:
            rush(bare.port, baseline_requests[: args.warmup], args.clients)
            seconds, answers = rush(bare.port, baseline_requests[args.warmup :], args.clients)
        base = summary("baseline (UPDATE ... WHERE booked < capacity; INSERT)", seconds, answers, {201, 409})
        print(f"  einstein / baseline: {result['rate'] / base['rate']:.2f}\n", flush=True)
        if overbooked or drift or missing or doubled:
            sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--signups", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200, help="sign-ups to another session first, not counted")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for kind in ["postgresql", "sqlite"] if args.db == "both" else [args.db]:
        run(kind, args)


if __name__ == "__main__":
    main()
