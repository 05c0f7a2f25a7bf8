"""Commands for operators and scripts: ``flask --app einstein <command>``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from einstein import models
from einstein.auth.models import Role, User
from einstein.auth.services import create_user, normalise_email
from einstein.auth.validation import password_problem
from einstein.bookings import integrity
from einstein.db import db, utcnow
from einstein.i18n import TIMEZONE
from einstein.privacy import retention
from seeding.commands import seed_commands


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value, show_default=True)
@click.option("--name", default=None, help="Full name (default: the part of the e-mail before @).")
@click.option("--password", default=None, help="Password; asked for when left out.")
@click.option("--locale", default="nl", show_default=True)
def create_user_command(email: str, role: str, name: str | None, password: str | None, locale: str) -> None:
    """Create an account for an operator or a script."""
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


def _shell_context() -> dict[str, object]:
    """What ``flask shell`` knows without imports: ``db`` and every model."""
    return {"db": db, **{name: getattr(models, name) for name in models.__all__}}


@click.command("check-counters")
@with_appcontext
@click.option("--fix", is_flag=True, help="Set every counter that drifted to what the bookings say.")
def check_counters_command(fix: bool) -> None:
    """Compare the place counters with the bookings they count, and report (or fix) any drift."""
    drift = integrity.counter_drift()
    for row in drift:
        click.echo(f"{row.kind} {row.unit_id}: {row.counter} is {row.stored}, the bookings say {row.actual}")
    if fix and drift:
        integrity.fix_drift(drift)
        db.session.commit()
        click.echo(f"Fixed {len(drift)} counter(s).")
    elif not drift:
        click.echo("Every counter matches its bookings.")
    if drift and not fix:
        raise SystemExit(1)


@click.command("retention")
@with_appcontext
@click.option(
    "--dry-run/--apply",
    default=True,
    show_default=True,
    help="Only show what would be made anonymous or removed (the default), or do it.",
)
def retention_command(dry_run: bool) -> None:
    """Show (or, with --apply, carry out) what is past its retention period; beat does it nightly."""
    config = current_app.config
    rules = retention.rules_for(config)
    found = retention.plan(rules)
    db.session.rollback()  # counting only: let go of the database before anything else happens
    when = rules.now.astimezone(TIMEZONE).strftime("%d %B %Y %H:%M").lstrip("0")
    click.echo(f"Retention at {when} (Utrecht), with the periods in the settings (RETENTION_*):")
    for line in found.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was changed. Run `flask --app einstein retention --apply` to do it.")
        return
    done: dict[str, int] = dict.fromkeys(retention.KINDS, 0)
    try:
        for kind, changed in retention.batches(rules, int(config["RETENTION_BATCH_SIZE"])):
            db.session.commit()
            done[kind] += changed
    except Exception:
        db.session.rollback()
        raise
    click.echo("Done: " + ", ".join(f"{done[kind]:,} {kind.replace('_', ' ')}" for kind in retention.KINDS) + ".")


def init_app(app: Flask) -> None:
    """Register the commands, and what ``flask shell`` starts with."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(check_counters_command)
    app.cli.add_command(retention_command)
    for command in seed_commands:
        app.cli.add_command(command)
    app.shell_context_processor(_shell_context)
