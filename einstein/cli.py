"""Commands for operators and scripts: ``flask --app einstein <command>``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from einstein.auth.models import Role, User
from einstein.db import db


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill the database with a demo catalogue and one account per role (safe to run twice).

    Never in production: the demo accounts, an admin among them, have a published password.
    """
    from einstein.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    if current_app.config["ENV"] == "production":
        raise click.ClickException("demo accounts have a published password: never in a production database")
    report = seed_demo()
    db.session.commit()
    click.echo(
        f"Demo data: added {report.users} people, {report.offers} offers, "
        f"{report.sessions} sessions and {report.bookings} bookings."
    )
    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for _name, email, role, _locale in DEMO_ACCOUNTS:
        click.echo(f"  {role.value:<12} {email}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value, show_default=True)
@click.option("--name", default=None, help="Full name (default: the part of the e-mail before @).")
@click.option("--password", default=None, help="Password; asked for when left out.")
@click.option("--locale", default="nl", show_default=True)
def create_user_command(email: str, role: str, name: str | None, password: str | None, locale: str) -> None:
    """Create an account for an operator or a script."""
    from einstein.auth.services import create_user, normalise_email
    from einstein.auth.validation import password_problem
    from einstein.db import utcnow

    email = normalise_email(email) or ""
    if "@" not in email:
        raise click.BadParameter("give an e-mail address", param_hint="EMAIL")
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise click.ClickException(f"an account with {email} exists already")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with force_locale("en"):  # the command line speaks English, like the rest of its output
        problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    user = create_user(name or email.split("@")[0], email=email, password=password, role=Role(role), locale=locale)
    user.email_verified_at = utcnow()
    db.session.commit()
    click.echo(f"Created {role} {email} (id {user.id}).")


@click.command("seed-large")
@with_appcontext
@click.option("--sessions", default=100_000, show_default=True, help="How many sessions to add.")
@click.option("--bookings", default=1_000_000, show_default=True, help="About how many bookings to add.")
@click.option("--force", is_flag=True, help="Allow it in production mode.")
def seed_large_command(sessions: int, bookings: int, force: bool) -> None:
    """Fill the database with a large, realistic data set for scale tests and benchmarks."""
    import time

    from einstein.large import seed_large

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


def _shell_context() -> dict[str, object]:
    """What ``flask shell`` knows without imports: ``db`` and every model."""
    import einstein.models as models

    return {"db": db, **{name: getattr(models, name) for name in models.__all__}}


def init_app(app: Flask) -> None:
    """Register the commands, and what ``flask shell`` starts with."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_large_command)
    app.cli.add_command(create_user_command)
    app.shell_context_processor(_shell_context)
