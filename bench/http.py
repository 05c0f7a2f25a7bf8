"""einstein's pages under load, against a bare Flask "hello" app under the same gunicorn settings.

    .venv/bin/python -m bench.http [--db postgresql|sqlite] [--sessions 5000] [--seconds 10]
                                   [--connections 1,16,64] [--workers 2] [--worker-class sync]
                                   [--parts pages,roundtrip,rush,redis] [--bookings 600]
                                   [--rush-rate 100] [--clients 16]

Needs wrk (`make bench-deps`). Starts its own database (and Redis with PostgreSQL, for the cache
and the broker, as in production), loads the demo data plus --sessions of realistic data, and
measures (--parts, all by default):

- pages: for each page and each number of connections, requests per second, p50 and p99, and
  each page's rate as a share of the hello app's rate measured in the same run; and einstein's
  frame alone (bench/floor.py: routes that do nothing, for anyone and signed in), the floor
  under every page;
- roundtrip: a booking as a browser makes it (open the offer page signed in, read the form's CSRF
  token, send the form, follow the redirect to "my bookings" with the cookie the answer set), in
  bookings per second from --clients browsers at once, beside the POST alone and the minimal
  booking (bench/minimal.py) measured in the same run; overbooked places must be 0;
- rush: the visitors' pages (wrk, --clients connections) without and during a rush of --rush-rate
  bookings a second, and each rate's share of its rate without the rush;
- redis: booking answers (p50, p95) in a rush of 300 people for 25 places in 15 seconds, with
  Redis answering, frozen (SIGSTOP: its port open, no answer) and stopped; frozen must be no
  slower than stopped.

Figures on this machine are noisy when others use it: run twice and compare ratios, not rates.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import minimal
from bench.booking import rush as post_rush
from bench.common import (
    SESSION_COOKIE,
    Load,
    database,
    make_app,
    production_env,
    redis,
    signed_cookie,
    temp_folder,
    wrk,
)
from tests.support.http import Browser, Gunicorn, signed_in_people

PAGES = {
    "home, with filters": ("/?kind=activity&language=nl&free=y", None),
    "offer page": ("/offers/{offer}", None),
    "offer page, signed in": ("/offers/{offer}", "participant@demo.einstein.test"),
    "my bookings": ("/my/bookings", "participant@demo.einstein.test"),
    "dashboard": ("/dashboard", "coordinator@demo.einstein.test"),
}

#: einstein's frame alone (bench/floor.py): the same app with routes that do nothing.
FLOOR_PAGES = {
    "floor, anyone": ("/_floor/anyone", None),
    "floor, signed in": ("/_floor/signed-in", "participant@demo.einstein.test"),
}

#: The visitors' pages measured without and during a booking rush ({rushed}: the offer being booked).
VISITOR_PAGES = {
    "home, with filters": "/?kind=activity&language=nl&free=y",
    "offer page (not booked)": "/offers/{offer}",
    "offer page (being booked)": "/offers/{rushed}",
}

PARTS = ("pages", "roundtrip", "rush", "redis")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str, folder: Path, sessions: int) -> tuple[Any, dict[str, str], int]:
    """Migrate, load the demo and a larger catalogue; return the app, the cookies of the people
    signed in, and the demo's bike repair café."""
    from einstein.db import db
    from einstein.models import Offer
    from seeding.demo import seed_demo
    from seeding.large import seed_large

    app = make_app(url, folder)
    with app.app_context():
        seed_demo()
        seed_large(sessions, sessions * 10)
        db.session.commit()
        offer = db.session.scalar(sa.select(Offer.id).where(Offer.title == "Bike repair café"))
    people = {email for _path, email in PAGES.values() if email}
    cookies = {email: signed_cookie(app, email) for email in people}
    with app.app_context():
        db.engine.dispose()
    return app, cookies, int(offer)


@dataclass
class Rushed:
    """Activities made for the booking parts: each a published offer with its sessions' ids."""

    offers: list[int]
    sessions: list[int]
    places: int


def popular(app: Any, title: str, offers: int, places: int) -> Rushed:
    """``offers`` published activities of one session of ``places`` places each, waiting list on,
    three days ahead."""
    from einstein.db import db, utcnow
    from einstein.models import Category, Offer, OfferKind, OfferSession, OfferStatus

    with app.app_context():
        now = utcnow()
        made = []
        for i in range(offers):
            offer = Offer(
                kind=OfferKind.ACTIVITY,
                status=OfferStatus.PUBLISHED,
                title=f"{title} {i}",
                category=Category.SOCIAL,
                capacity=places,
                waitlist_enabled=True,
            )
            session = OfferSession(
                offer=offer,
                starts_at=now + timedelta(days=3, hours=i % 10),
                ends_at=now + timedelta(days=3, hours=i % 10 + 1),
                capacity=places,
            )
            made.append((offer, session))
            db.session.add_all([offer, session])
        db.session.commit()
        rushed = Rushed([o.id for o, _ in made], [s.id for _, s in made], places)
        db.engine.dispose()
    return rushed


def overbooked(app: Any, session_ids: list[int], places: int) -> tuple[int, int, int]:
    """Places confirmed beyond the places, over these sessions; confirmed and waiting bookings."""
    from einstein.db import db
    from einstein.models import Booking, BookingStatus

    with app.app_context():
        rows = db.session.execute(
            sa.select(Booking.session_id, Booking.status, sa.func.count())
            .where(Booking.session_id.in_(session_ids))
            .group_by(Booking.session_id, Booking.status)
        ).all()
        db.engine.dispose()
    confirmed = {sid: n for sid, status, n in rows if status == BookingStatus.CONFIRMED}
    waiting = sum(n for _sid, status, n in rows if status == BookingStatus.WAITLISTED)
    return sum(max(0, n - places) for n in confirmed.values()), sum(confirmed.values()), waiting


# --- a browser's booking ------------------------------------------------------------------------------


def _cookie_from(response: http.client.HTTPResponse, cookie: str) -> str:
    """The session cookie after this answer (a browser keeps what Set-Cookie says)."""
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        if name.strip() == SESSION_COOKIE:
            return rest.split(";", 1)[0]
    return cookie


def _settled(port: int, path: str, cookie: str) -> str:
    """The session cookie a browser holds after its first page: wrk sends one cookie over and over
    and never keeps what an answer sets, so it gets the one a browser would be sending by then. (The
    bench's cookies are signed without Flask-Login's mark of the device, which signing in sets:
    sent as they are, each page would note that the sign-in is no longer fresh, and sign and send
    a new cookie, which a browser does once.)"""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        answer = connection.getresponse()
        answer.read()
        return _cookie_from(answer, cookie)
    finally:
        connection.close()


def _browse(job: tuple[int, list[tuple[int, int, str]], Any]) -> list[tuple[int, float]]:
    """One browser after another on one keep-alive connection: open the offer page, send its
    booking form, follow the redirect. (status of the POST, seconds for all three)"""
    port, people, barrier = job
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    barrier.wait(timeout=120)
    results = []
    for offer, session, cookie in people:
        started = time.perf_counter()
        connection.request("GET", f"/offers/{offer}", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        page = connection.getresponse()
        html = page.read().decode()
        cookie = _cookie_from(page, cookie)
        token = CSRF.search(html)
        if page.status != 200 or token is None:
            results.append((page.status if page.status != 200 else 599, time.perf_counter() - started))
            continue
        body = f"csrf_token={token.group(1)}&waitlist=1"
        headers = {**FORM, "Cookie": f"{SESSION_COOKIE}={cookie}"}
        connection.request("POST", f"/sessions/{session}/book", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        cookie = _cookie_from(answer, cookie)
        location = answer.headers.get("Location", "")
        if answer.status == 303 and location:
            path = re.sub(r"^https?://[^/]+", "", location)
            connection.request("GET", path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
            landed = connection.getresponse()
            landed.read()
            if landed.status != 200:
                results.append((landed.status, time.perf_counter() - started))
                continue
        results.append((answer.status, time.perf_counter() - started))
    connection.close()
    return results


def browse(port: int, people: list[tuple[int, int, str]], clients: int) -> tuple[float, list[tuple[int, float]]]:
    """Run the browsers' bookings from ``clients`` processes at once; the wall time and the answers."""
    return post_rush(port, people, clients, client=_browse, timeout=900)


def _summary(label: str, seconds: float, answers: list[tuple[int, float]], ok: set[int]) -> dict[str, float]:
    latencies = sorted(t for _, t in answers) or [float("nan")]
    result = {
        "rate": len(answers) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
        "errors": sum(1 for status, _ in answers if status not in ok),
    }
    print(
        f"  {label:<44} {result['rate']:7.1f}/s   p50 {result['p50']:7.1f} ms   p95 {result['p95']:7.1f} ms"
        f"   errors {result['errors']:.0f}",
        flush=True,
    )
    return result


def _posts(targets: list[tuple[int, int]], browsers: list[Browser]) -> list[tuple[str, dict[str, str], str]]:
    """The booking form's POST for each (session, browser), as booking.py sends it."""
    return [
        (
            f"/sessions/{session}/book",
            {**FORM, "Cookie": f"{SESSION_COOKIE}={b.cookie}"},
            f"csrf_token={b.csrf}&waitlist=1",
        )
        for (_offer, session), b in zip(targets, browsers, strict=True)
    ]


def roundtrip(app: Any, url: str, env: dict[str, str], folder: Path, gunicorn: list[str], args: Any) -> None:
    """The booking as a browser makes it, the POST alone and the minimal booking, in one run."""
    count, warmup, clients = args.bookings, max(args.clients * 4, 50), args.clients
    made = popular(app, "Round trip", 20, 20)
    alone = popular(app, "POST alone", 20, 20)
    warm = popular(app, "Warm-up", 1, 10_000)
    people = signed_in_people(app, 2 * (count + warmup), "Browser")
    round_trips = [
        (made.offers[i % 20], made.sessions[i % 20], b.cookie)
        if i >= warmup
        else (warm.offers[0], warm.sessions[0], b.cookie)
        for i, b in enumerate(people[: count + warmup])
    ]
    second = people[count + warmup :]
    post_targets = [
        (0, alone.sessions[i % 20]) if i >= warmup else (0, warm.sessions[0]) for i in range(count + warmup)
    ]
    posts = _posts(post_targets, second)
    print(f"\nbooking round trip: {count} bookings after {warmup} warm-up ones, {clients} browsers at once", flush=True)
    with Gunicorn(env, folder, args=gunicorn) as einstein:
        browse(einstein.port, round_trips[:warmup], clients)
        seconds, answers = browse(einstein.port, round_trips[warmup:], clients)
        trip = _summary("as a browser (GET page, POST, follow 303)", seconds, answers, {303})
        post_rush(einstein.port, posts[:warmup], clients)
        seconds, answers = post_rush(einstein.port, posts[warmup:], clients)
        post = _summary("the POST alone", seconds, answers, {303})
    minimal.reset(url, 21, 20)
    bare_requests = [(f"/book/{(i % 20) + 1 if i >= warmup else 21}/{i}", {}, "") for i in range(count + warmup)]
    with Gunicorn({"DATABASE_URL": url}, folder, target="bench.minimal:app", args=gunicorn, health="/") as bare:
        post_rush(bare.port, bare_requests[:warmup], clients)
        seconds, answers = post_rush(bare.port, bare_requests[warmup:], clients)
    base = _summary("minimal booking (UPDATE ... WHERE; INSERT)", seconds, answers, {201, 409})
    over, confirmed, waiting = overbooked(app, made.sessions + alone.sessions, 20)
    over += overbooked(app, warm.sessions, 10_000)[0]
    print(
        f"  as a browser / minimal: {trip['rate'] / base['rate']:.2f} (target 0.25)   "
        f"POST alone / minimal: {post['rate'] / base['rate']:.2f} (target 0.45)   "
        f"as a browser / POST alone: {trip['rate'] / post['rate']:.2f}\n"
        f"  confirmed {confirmed}, waiting {waiting}, overbooked places: {over}",
        flush=True,
    )


# --- the visitors' pages during a rush -------------------------------------------------------------


def _paced(job: tuple[int, list[tuple[str, dict[str, str], str]], float, float, Any]) -> list[tuple[int, float]]:
    """Send one request every ``interval`` seconds from ``start`` (a wall-clock time) until told to
    stop or out of requests; (status, seconds) for each."""
    port, requests, interval, start, stop = job
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    results = []
    for k, (path, headers, body) in enumerate(requests):
        wait = start + k * interval - time.time()
        if wait > 0:
            time.sleep(wait)
        if stop.is_set():
            break
        began = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            results.append((response.status, time.perf_counter() - began))
        except (OSError, http.client.HTTPException):
            results.append((598, time.perf_counter() - began))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.close()
    return results


class PacedRush:
    """Bookings sent at a steady ``rate`` a second from ``clients`` processes, in the background."""

    def __init__(self, port: int, requests: list[tuple[str, dict[str, str], str]], rate: float, clients: int) -> None:
        context = multiprocessing.get_context("fork")
        self._manager = context.Manager()
        self.stop = self._manager.Event()
        self._pool = context.Pool(clients)
        start = time.time() + 0.5
        interval = clients / rate
        shares = [requests[i::clients] for i in range(clients)]
        jobs = [(port, share, interval, start + i / rate, self.stop) for i, share in enumerate(shares)]
        self.started = start
        self._pending = self._pool.map_async(_paced, jobs)

    def finish(self) -> tuple[float, list[tuple[int, float]]]:
        """Stop sending; the seconds it ran and the answers."""
        self.stop.set()
        seconds = time.time() - self.started
        answers = [a for share in self._pending.get(timeout=300) for a in share]
        self._pool.close()
        self._pool.join()
        self._manager.shutdown()
        return seconds, answers


def visitors_in_a_rush(app: Any, env: dict[str, str], folder: Path, gunicorn: list[str], args: Any, offer: int) -> None:
    """The visitors' pages with wrk, without a rush and during one of ``--rush-rate`` bookings a second."""
    seconds = args.seconds
    rushed = popular(app, "Rushed", 10, 100)
    pages = {name: path.format(offer=offer, rushed=rushed.offers[0]) for name, path in VISITOR_PAGES.items()}
    # every booking in the rush is one person's first on that session: enough people for all pages
    needed = int(args.rush_rate * (len(pages) * (seconds + 3) + 10))
    browsers = signed_in_people(app, needed, "Rusher")
    targets = [(0, rushed.sessions[i % 10]) for i in range(needed)]
    requests = _posts(targets, browsers)
    connections = args.clients
    print(
        f"\nvisitors' pages, wrk {connections} connections {seconds} s, without and during a rush of "
        f"{args.rush_rate:.0f} bookings/s",
        flush=True,
    )
    calm: dict[str, Load] = {}
    busy: dict[str, Load] = {}
    with Gunicorn(env, folder, args=gunicorn) as einstein:
        for name, path in pages.items():
            wrk(einstein.url + path, 4, 2)  # warm up
            calm[name] = wrk(einstein.url + path, connections, seconds)
        booking = PacedRush(einstein.port, requests, args.rush_rate, min(args.clients, 16))
        time.sleep(2)
        for name, path in pages.items():
            busy[name] = wrk(einstein.url + path, connections, seconds)
        ran, answers = booking.finish()
    for name in pages:
        share = busy[name].rps / calm[name].rps if calm[name].rps else 0
        print(
            f"  {name:<28} {calm[name].rps:7.0f} req/s calm, {busy[name].rps:7.0f} in the rush "
            f"(p99 {busy[name].p99_ms:.0f} ms, errors {busy[name].errors}): {share:.0%} (target 80 %)",
            flush=True,
        )
    _summary("the rush's bookings", ran, answers, {303, 409})
    over, confirmed, waiting = overbooked(app, rushed.sessions, 100)
    print(f"  confirmed {confirmed}, waiting {waiting}, overbooked places: {over}", flush=True)


# --- booking answers with Redis frozen or stopped -------------------------------------------------------


def redis_outage(app: Any, env: dict[str, str], folder: Path, gunicorn: list[str], args: Any, broker: Any) -> None:
    """300 people pressing "book" for 25 places within 15 seconds, with Redis answering, frozen and stopped."""
    states = ("answering", "frozen (SIGSTOP)", "stopped")
    rushed = popular(app, "Outage", len(states), 25)
    people, within = 300, 15.0
    browsers = signed_in_people(app, people, "Outage")
    print(f"\nbooking answers: {people} people, 25 places, within {within:.0f} s, Redis in three states", flush=True)
    results = {}
    with Gunicorn(env, folder, args=gunicorn) as einstein:
        wrk(einstein.url + "/", 4, 2)  # warm up the workers (and their connections to Redis)
        for index, state in enumerate(states):
            if state.startswith("frozen"):
                broker.freeze()
            elif state == "stopped":
                broker.thaw()
                broker.stop()
            requests = _posts([(0, rushed.sessions[index])] * people, browsers)
            booking = PacedRush(einstein.port, requests, people / within, min(args.clients, 16))
            time.sleep(within)
            booking.stop.set()
            ran, answers = booking.finish()
            results[state] = _summary(f"Redis {state}", ran, answers, {303, 409})
        broker.thaw()
    over, confirmed, waiting = overbooked(app, rushed.sessions, 25)
    frozen, stopped = results["frozen (SIGSTOP)"], results["stopped"]
    verdict = "met" if frozen["p95"] <= stopped["p95"] * 1.1 else "NOT met"
    print(
        f"  frozen p95 / stopped p95: {frozen['p95'] / stopped['p95']:.2f} (target: no slower, {verdict})\n"
        f"  confirmed {confirmed}, waiting {waiting}, overbooked places: {over}",
        flush=True,
    )


# --- pages ---------------------------------------------------------------------------------------------


def pages(
    env: dict[str, str], folder: Path, gunicorn: list[str], args: Any, cookies: dict[str, str], offer: int
) -> None:
    """Each page and the hello app at each number of connections."""
    connections = [int(c) for c in args.connections.split(",")]
    results: dict[str, dict[int, Load]] = {}
    with Gunicorn({}, folder, target="bench.hello:app", args=gunicorn, health="/") as hello:
        wrk(hello.url + "/", 4, 2)  # warm up
        results["hello (bare Flask)"] = {c: wrk(hello.url + "/", c, args.seconds) for c in connections}
    for target, pages_there in (("einstein.wsgi:app", PAGES), ("bench.floor:app", FLOOR_PAGES)):
        with Gunicorn(env, folder, target=target, args=gunicorn) as einstein:
            for name, (path, who) in pages_there.items():
                url_path = path.format(offer=offer)
                cookie = _settled(einstein.port, url_path, cookies[who]) if who else None
                headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
                wrk(einstein.url + url_path, 4, 2, headers)  # warm up: templates, catalogues, the cache
                results[name] = {c: wrk(einstein.url + url_path, c, args.seconds, headers) for c in connections}

    print()
    print(f"gunicorn {' '.join(gunicorn)}; wrk {args.seconds} s per run; {args.db}; {args.sessions} extra sessions")
    header = f"{'page':<22}" + "".join(f"{f'c={c}':>34}" for c in connections)
    print(header)
    print(f"{'':<22}" + "".join(f"{'req/s   p50 ms  p99 ms  vs hello':>34}" for _ in connections))
    base = results["hello (bare Flask)"]
    for name, by_c in results.items():
        cells = []
        for c in connections:
            load = by_c[c]
            share = load.rps / base[c].rps if base[c].rps else 0
            errors = f" ({load.errors} errors)" if load.errors else ""
            cells.append(f"{load.rps:8.0f} {load.p50_ms:8.1f} {load.p99_ms:7.1f} {share:8.0%}{errors}")
        print(f"{name:<22}" + "".join(f"{cell:>34}" for cell in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parts", default=",".join(PARTS), help="which measurements: " + ",".join(PARTS))
    parser.add_argument("--bookings", type=int, default=600, help="bookings measured in the round trip")
    parser.add_argument("--rush-rate", type=float, default=100.0, help="bookings a second during the rush")
    parser.add_argument("--clients", type=int, default=16, help="browsers (or connections) at once")
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    gunicorn = ["--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads)]
    folder = temp_folder()
    with database(args.db, folder) as url, redis(folder) as broker:
        print(f"preparing the data ({args.db}, {args.sessions} sessions) ...", flush=True)
        app, cookies, offer = prepare(url, folder, args.sessions)
        env = production_env(url, broker.url, folder)
        if "pages" in parts:
            pages(env, folder, gunicorn, args, cookies, offer)
        if "roundtrip" in parts:
            roundtrip(app, url, env, folder, gunicorn, args)
        if "rush" in parts:
            visitors_in_a_rush(app, env, folder, gunicorn, args, offer)
        if "redis" in parts:  # last: it stops Redis
            redis_outage(app, env, folder, gunicorn, args, broker)


if __name__ == "__main__":
    main()
