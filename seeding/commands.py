"""The seeding commands: ``flask --app einstein seed-demo`` and ``seed-large``."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from einstein.db import db
from seeding.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from seeding.large import seed_large


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill the database with a demo catalogue and one account per role (safe to run twice).

    Never in production: the demo accounts, an admin among them, have a published password.
    """
    if current_app.config["ENV"] == "production":
        raise click.ClickException("demo accounts have a published password: never in a production database")
    report = seed_demo()
    db.session.commit()
    click.echo(
        f"Demo data: added {report.users} people, {report.offers} offers, "
        f"{report.sessions} sessions and {report.bookings} bookings."
    )
    _print_accounts()


@click.command("demo-accounts")
def demo_accounts_command() -> None:
    """Print the demo accounts and their password (``make run`` does at every start)."""
    _print_accounts()


def _print_accounts() -> None:
    click.echo(f"Demo accounts, each with the password {DEMO_PASSWORD}:")
    for _name, email, role, _locale in DEMO_ACCOUNTS:
        click.echo(f"  {role.value:<12} {email}")


@click.command("seed-large")
@with_appcontext
@click.option("--sessions", default=100_000, show_default=True, help="How many sessions to add.")
@click.option("--bookings", default=1_000_000, show_default=True, help="About how many bookings to add.")
@click.option("--force", is_flag=True, help="Allow it in production mode.")
def seed_large_command(sessions: int, bookings: int, force: bool) -> None:
    """Fill the database with a large, realistic data set for scale tests and benchmarks."""
    if current_app.config["ENV"] == "production" and not force:
        raise click.ClickException("this adds made-up people: not in production (use --force)")
    if sessions < 1 or bookings < 0 or sessions > 5_000_000 or bookings > 50_000_000:
        raise click.BadParameter("choose between 1 and 5,000,000 sessions and at most 50,000,000 bookings")
    started = time.monotonic()
    estimate = sessions * 2 + bookings * 2 + max(bookings // 25, 200)
    with click.progressbar(length=estimate, label="Adding rows", show_eta=True, show_percent=True) as bar:
        report = seed_large(sessions, bookings, tick=bar.update)
        bar.update(0)
        db.session.commit()
    click.echo(
        f"Added {report.users} people, {report.offers} offers, {report.sessions} sessions, "
        f"{report.bookings} bookings and {report.attendance} attendance marks "
        f"in {time.monotonic() - started:.0f} s."
    )


#: Registered on the app's command line by ``einstein.cli``.
seed_commands = (seed_demo_command, demo_accounts_command, seed_large_command)
