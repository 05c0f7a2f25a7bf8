"""einstein's pages under load, against a bare Flask "hello" app under the same gunicorn settings.

    .venv/bin/python -m bench.http [--db postgresql|sqlite] [--sessions 5000] [--seconds 10]
                                   [--connections 1,16,64] [--workers 2] [--worker-class sync]

Needs wrk (`make bench-deps`). Starts its own database (and Redis with PostgreSQL, for the cache
and the broker, as in production), loads the demo data plus --sessions of realistic data, and
measures, for each page and each number of connections, requests per second, p50 and p99, and
each page's rate as a share of the hello app's rate measured in the same run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import SESSION_COOKIE, database, make_app, production_env, redis, signed_cookie, temp_folder, wrk
from tests.support.http import Gunicorn

PAGES = {
    "home, with filters": ("/?kind=activity&language=nl&free=y", None),
    "offer page": ("/offers/{offer}", None),
    "offer page, signed in": ("/offers/{offer}", "participant@demo.einstein.test"),
    "my bookings": ("/my/bookings", "participant@demo.einstein.test"),
    "dashboard": ("/dashboard", "coordinator@demo.einstein.test"),
}


def prepare(url: str, folder: Path, sessions: int) -> tuple[dict[str, str], int]:
    """Migrate, load the demo and a larger catalogue; return the cookies of the people signed in."""
    import sqlalchemy as sa

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
    return cookies, int(offer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    gunicorn = ["--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads)]
    folder = temp_folder()
    with database(args.db, folder) as url, redis(folder) as broker:
        print(f"preparing the data ({args.db}, {args.sessions} sessions) ...", flush=True)
        cookies, offer = prepare(url, folder, args.sessions)
        env = production_env(url, broker.url, folder)
        results: dict[str, dict[int, object]] = {}
        with Gunicorn({}, folder, target="bench.hello:app", args=gunicorn, health="/") as hello:
            wrk(hello.url + "/", 4, 2)  # warm up
            results["hello (bare Flask)"] = {c: wrk(hello.url + "/", c, args.seconds) for c in connections}
        with Gunicorn(env, folder, args=gunicorn) as einstein:
            for name, (path, who) in PAGES.items():
                headers = {"Cookie": f"{SESSION_COOKIE}={cookies[who]}"} if who else {}
                url_path = path.format(offer=offer)
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
            share = load.rps / base[c].rps if base[c].rps else 0  # type: ignore[attr-defined]
            errors = f" ({load.errors} errors)" if load.errors else ""  # type: ignore[attr-defined]
            cells.append(f"{load.rps:8.0f} {load.p50_ms:8.1f} {load.p99_ms:7.1f} {share:8.0%}{errors}")  # type: ignore[attr-defined]
        print(f"{name:<22}" + "".join(f"{cell:>34}" for cell in cells))


if __name__ == "__main__":
    main()
