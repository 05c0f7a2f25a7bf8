"""Does einstein stay as fast with a city's worth of data? The home page and the dashboard at
--small and at --large sessions (ten bookings a session), same machine, same run.

    .venv/bin/python -m bench.scale [--db postgresql|sqlite] [--small 1000] [--large 100000]
                                    [--requests 300] [--only dashboard]

For each size: a fresh database with the demo and that many sessions; gunicorn (2 sync workers);
--requests sequential requests per page after a warm-up; the p50 of each. Printed twice: with
the cache of listing fragments as in production ("warm"), and with it switched off ("cold"),
so that the database's share is visible too. The figure that counts is large p50 / small p50;
the dashboard with the cache off is printed on a line of its own against its target (at most
1.5: its figures come from summary rows, einstein.attendance.summary). ``--only dashboard``
measures just that (the loading of the large data set still takes its ten minutes or so).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import time

from bench.common import SESSION_COOKIE, database, make_app, production_env, redis, signed_cookie, temp_folder
from tests.support.http import Gunicorn

PAGES = {
    "home": ("/", False),
    "home, filtered": ("/?category=language&free=y", False),
    "dashboard": ("/dashboard", True),
}


def p50(port: int, path: str, cookie: str | None, count: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    timings = []
    for index in range(count + 10):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        if index >= 10:  # the first ten warm up
            timings.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(timings) * 1000


#: The dashboard uncached: p50 at --large sessions at most this many times p50 at --small.
DASHBOARD_TARGET = 1.5


def measure(kind: str, sessions: int, count: int, only: str | None = None) -> dict[tuple[str, str], float]:
    from einstein.attendance import summary
    from einstein.db import db
    from seeding.demo import seed_demo
    from seeding.large import seed_large

    folder = temp_folder()
    results = {}
    with database(kind, folder) as url, redis(folder) as broker:
        app = make_app(url, folder)
        print(f"  loading {sessions} sessions and about {sessions * 10} bookings ...", flush=True)
        started = time.monotonic()
        with app.app_context():
            seed_demo()
            report = seed_large(sessions, sessions * 10)
            db.session.commit()
            summary.rebuild()  # a bulk load: the dashboard's summary rows counted once, as the migration does
            db.session.commit()
        print(
            f"  ({report.sessions} sessions, {report.bookings} bookings, {report.attendance} attendance marks "
            f"in {time.monotonic() - started:.0f} s)",
            flush=True,
        )
        cookie = signed_cookie(app, "coordinator@demo.einstein.test")
        with app.app_context():
            db.engine.dispose()
        modes = (("cold", "NullCache"),) if only else (("warm", "RedisCache"), ("cold", "NullCache"))
        for mode, cache in modes:
            env = production_env(url, broker.url, folder, EINSTEIN_CACHE_TYPE=cache)
            with Gunicorn(env, folder, args=["--workers", "2", "--worker-class", "sync", "--threads", "1"]) as server:
                for name, (path, signed_in) in PAGES.items():
                    if only and name != only:
                        continue
                    results[(name, mode)] = p50(server.port, path, cookie if signed_in else None, count)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", choices=["dashboard"], help="measure only this page, with the cache off")
    args = parser.parse_args()
    print(f"{args.db}, {args.small} sessions:", flush=True)
    small = measure(args.db, args.small, args.requests, args.only)
    print(f"{args.db}, {args.large} sessions:", flush=True)
    large = measure(args.db, args.large, args.requests, args.only)
    print()
    print(f"{'page':<16}{'cache':<7}{f'p50 @ {args.small}':>14}{f'p50 @ {args.large}':>16}{'ratio':>8}")
    for (name, mode), value in small.items():
        print(f"{name:<16}{mode:<7}{value:11.1f} ms{large[(name, mode)]:13.1f} ms{large[(name, mode)] / value:8.2f}")
    ratio = large[("dashboard", "cold")] / small[("dashboard", "cold")]
    verdict = "met" if ratio <= DASHBOARD_TARGET else "NOT met"
    print(
        f"\ndashboard uncached: p50 @ {args.large} / p50 @ {args.small} = {ratio:.2f}"
        f" (target <= {DASHBOARD_TARGET}: {verdict})"
    )


if __name__ == "__main__":
    main()
