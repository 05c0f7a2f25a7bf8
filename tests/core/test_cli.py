"""Commands for operators: create-user."""

from __future__ import annotations

import sqlalchemy as sa

from einstein.auth.services import check_password
from einstein.db import db
from einstein.models import Role, User


def test_create_user_with_a_password(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-user", "Sara@Example.org", "--role", "coordinator", "--password", "a long and unusual passphrase"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "sara@example.org"))
        assert user.role == Role.COORDINATOR
        assert check_password(user, "a long and unusual passphrase")
        assert user.password_hash.startswith("$argon2id$")


def test_create_user_asks_for_the_password(app) -> None:
    passphrase = "kaas fiets regen molen"
    result = app.test_cli_runner().invoke(
        args=["create-user", "ali@example.org"], input=f"{passphrase}\n{passphrase}\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ali@example.org"))
        assert user.role == Role.PARTICIPANT and check_password(user, passphrase)


def test_create_user_refuses_bad_input(app) -> None:
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["create-user", "not-an-email", "--password", "a long and unusual passphrase"]).exit_code
        != 0
    )
    assert (
        runner.invoke(
            args=["create-user", "x@example.org", "--role", "king", "--password", "a long and unusual passphrase"]
        ).exit_code
        != 0
    )
    weak = runner.invoke(args=["create-user", "x@example.org", "--password", "password123"])
    assert weak.exit_code != 0 and "too easy" in weak.output
    assert (
        runner.invoke(args=["create-user", "x@example.org", "--password", "a long and unusual passphrase"]).exit_code
        == 0
    )
    again = runner.invoke(args=["create-user", "X@example.org", "--password", "a long and unusual passphrase"])
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
