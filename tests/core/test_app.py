"""The app factory, configuration, error pages and health check."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import abort

from einstein import create_app
from einstein.config import DEFAULT_SECRET_KEY, ConfigurationError, check_config, default_config


def test_defaults_need_no_server(tmp_path: Path) -> None:
    config = default_config(tmp_path, environ={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'einstein.sqlite'}"
    assert config["CELERY"]["broker_url"] == "filesystem://localhost/"  # files in instance/, no server
    assert config["MAIL_BACKEND"] == "file"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_production_parts_come_from_the_environment(tmp_path: Path) -> None:
    config = default_config(
        tmp_path,
        environ={
            "EINSTEIN_ENV": "production",
            "DATABASE_URL": "postgres://einstein:pw@db.internal/einstein",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "SMTP_HOST": "smtp.internal",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "yes",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://einstein:pw@db.internal/einstein"
    assert config["CELERY"]["broker_url"] == "redis://cache.internal:6379/0"
    # A frozen Redis must not hold a request for long.
    assert config["CELERY"]["broker_transport_options"]["socket_timeout"] <= 1
    # the same Redis, through the storage that fails at once while it is away (issue 20)
    assert config["RATELIMIT_STORAGE_URI"] == "einstein+redis://cache.internal:6379/0"
    assert config["MAIL_BACKEND"] == "smtp"
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_STARTTLS"]) == ("smtp.internal", 587, True)
    assert config["SESSION_COOKIE_SECURE"] is True


REDIS = {"RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0"}


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        check_config({"ENV": "production", "SECRET_KEY": DEFAULT_SECRET_KEY, **REDIS})
    with pytest.raises(ConfigurationError):
        check_config({"ENV": "production", "SECRET_KEY": "short", **REDIS})
    check_config({"ENV": "production", "SECRET_KEY": "x" * 48, **REDIS})
    check_config({"ENV": "development", "SECRET_KEY": DEFAULT_SECRET_KEY})


def test_create_app_refuses_production_without_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EINSTEIN_ENV", "production")
    with pytest.raises(ConfigurationError):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_einstein_prefixed_variables_override_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EINSTEIN_MAIL_BATCH_SIZE", "7")
    monkeypatch.setenv("EINSTEIN_BASE_URL", '"https://einstein.example.org"')
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite", "TESTING": True})
    assert app.config["MAIL_BATCH_SIZE"] == 7
    assert app.config["BASE_URL"] == "https://einstein.example.org"


def test_healthz_reports_database_and_broker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up", "broker": "up"}


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "CELERY": {
                "broker_url": "redis://127.0.0.1:1/0",
                "broker_transport_options": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
    ],
)
def test_healthz_says_when_the_broker_is_down(client, app_config) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["broker"] == "down"
    assert response.json["database"] == "up"


def test_not_found_uses_the_layout(client) -> None:
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert '<main id="main"' in page and "Skip to content" in page


def test_errors_answer_json_to_json_clients(client) -> None:
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["status"] == 404


@pytest.mark.own_app  # adds a failing route
def test_an_unexpected_error_is_a_friendly_500_and_rolls_back(app, tmp_path) -> None:
    from einstein.db import db
    from einstein.models import Location

    app.testing = False  # let the 500 handler run instead of re-raising

    @app.get("/__boom")
    def boom():
        db.session.add(Location(name="Half written", address="Nowhere 1"))
        db.session.flush()
        raise RuntimeError("boom")

    @app.get("/__forbidden")
    def forbidden():
        abort(403)

    client = app.test_client()
    response = client.get("/__boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Location).filter_by(name="Half written").count() == 0
    response = client.get("/__forbidden", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "This page is not for you" in response.get_data(as_text=True)


def test_security_headers(client) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_post_without_csrf_token_is_refused(client) -> None:
    response = client.post("/language", data={"lang": "ar"}, csrf=False, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
