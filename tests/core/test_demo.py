"""The demo data: realistic, and loading it twice adds nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
import time_machine

from einstein.bookings import integrity
from einstein.db import db
from einstein.i18n import TIMEZONE, local_today
from einstein.models import Booking, BookingStatus, Offer, OfferSession, Role, User
from seeding.demo import DEMO_ACCOUNTS, DEMO_PASSWORD


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, Offer, OfferSession, Booking)
    }


def test_seed_demo_twice_adds_nothing_the_second_time(app) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "coordinator@demo.einstein.test" in first.output and "password" in first.output
    with app.app_context():
        after_first = _counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "added 0 people, 0 offers, 0 sessions and 0 bookings" in second.output
    with app.app_context():
        assert _counts() == after_first


def test_demo_catalogue_is_realistic(app) -> None:
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        titles = set(db.session.scalars(sa.select(Offer.title)))
        assert {"International entrepreneurship", "Business English", "Nederlands praten"} <= titles
        assert {
            "Cooking evening: dishes from home",
            "Walking group Máximapark",
            "Bike repair café",
            "CV workshop",
        } <= titles
        roles = set(db.session.scalars(sa.select(User.role).where(User.email.like("%@demo.einstein.test"))))
        assert roles == set(Role)
        # some full with a waiting list, and nothing over capacity
        waitlisted = db.session.scalar(sa.select(sa.func.count()).where(Booking.status == BookingStatus.WAITLISTED))
        assert waitlisted > 0
        # every counter says what its bookings say (and the database keeps each within its places)
        assert integrity.counter_drift() == []


def test_seed_demo_refuses_production(app) -> None:
    app.config["ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "never in a production database" in result.output


def test_home_page_lists_demo_sessions(app, client) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Business English" in page
    assert "Walking group Máximapark" in page
    assert "Chess afternoon" not in page  # still waiting for approval


def test_the_demo_loads_just_after_midnight_on_a_day_an_activity_meets(app) -> None:
    # last week's walk (Saturdays at 10:00) must be over, though this Saturday's is still to come
    today = local_today()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    with time_machine.travel(datetime.combine(saturday, time(0, 30), TIMEZONE).timestamp(), tick=True):
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def test_the_readme_and_every_start_tell_a_newcomer_how_to_sign_in(app) -> None:
    """``make run`` prints the demo accounts at every start, and the README names the same."""
    printed = app.test_cli_runner().invoke(args=["demo-accounts"])
    assert printed.exit_code == 0, printed.output
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert DEMO_PASSWORD in printed.output and f"`{DEMO_PASSWORD}`" in readme
    for _name, email, role, _locale in DEMO_ACCOUNTS:
        assert email in printed.output and f"`{email}`" in readme and role.value in printed.output
    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "flask demo-accounts" in makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
