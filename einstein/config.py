"""Configuration: embedded defaults for a laptop, production parts by environment variables.

With no settings at all einstein uses SQLite in ``instance/``, a filesystem Celery broker in
``instance/broker/`` and writes e-mail as ``.eml`` files to ``instance/mail/``. ``DATABASE_URL``,
``REDIS_URL`` and ``SMTP_HOST`` switch to PostgreSQL, Redis and a real mail server. Any setting below can be given
as ``EINSTEIN_<NAME>`` (parsed as JSON when it is valid JSON; ``EINSTEIN_CELERY__<name>`` reaches
into the Celery settings), for example ``EINSTEIN_ENV=production``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from flask import Flask

#: The repository root: templates/, static/ and migrations/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent

#: Secret used when none is configured; good enough on a laptop, refused in production.
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105

#: OWASP's minimum for argon2id is m=19 MiB, t=2, p=1; argon2-cffi's RFC 9106 profile is above it.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST_KIB = 65536
ARGON2_PARALLELISM = 4


#: The modes einstein knows; anything else is refused rather than guessed.
ENVIRONMENTS = ("development", "testing", "production")


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete for the chosen mode."""


def normalise_env(value: object) -> str:
    """Return the mode named by ``value`` (any case, spaces around allowed), or refuse it.

    ``Production``, ``PRODUCTION`` and ``"production "`` all mean production: a mode that is
    merely spelled differently must never fall back to the development defaults.
    """
    mode = str(value).strip().lower() if value is not None else ""
    if mode not in ENVIRONMENTS:
        raise ConfigurationError(f"EINSTEIN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
    return mode


def _database_url(environ: Mapping[str, str], instance_path: Path) -> str:
    url = environ.get("DATABASE_URL") or environ.get("EINSTEIN_DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'einstein.sqlite'}"
    # Heroku-style URLs name no driver; einstein talks to PostgreSQL through psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy's engine options for the database at ``url`` (``SQLALCHEMY_ENGINE_OPTIONS``
    unless the configuration gives its own)."""
    if not url.startswith("postgresql"):
        return {"pool_pre_ping": True}
    # PostgreSQL's JIT compiler pays off for long analytical queries, not for einstein's short
    # ones: measured here, it added 190 ms to a 40 ms report query. A connection is checked before
    # use only when it has sat unused for a while (DATABASE_PING_AFTER, einstein.db).
    return {"pool_pre_ping": False, "connect_args": {"options": "-c jit=off"}}


def _truthy(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_config(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration from the environment, with safe embedded defaults."""
    env = os.environ if environ is None else environ
    mode = normalise_env(env.get("EINSTEIN_ENV") or "development")
    production = mode == "production"
    redis_url = env.get("REDIS_URL") or None
    smtp_host = env.get("SMTP_HOST") or None
    database_url = _database_url(env, instance_path)

    if redis_url:
        broker_url = redis_url
        broker_options: dict[str, Any] = {
            # Past this an unacknowledged task is handed to another worker: keep it above the
            # longest task (a mail batch takes seconds), never schedule work this far ahead.
            "visibility_timeout": 3600,
            # A frozen Redis must not hold a booking request: fail fast, the sweep sends later.
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
            "max_retries": 0,
        }
        # the rate limits' storage fails at once while Redis is away (einstein.extensions)
        limiter_storage = f"einstein+{redis_url}" if redis_url.startswith(("redis://", "rediss://")) else redis_url
    else:
        broker_dir = instance_path / "broker"
        broker_url = "filesystem://localhost/"
        broker_options = {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        }
        limiter_storage = "memory://"

    return {
        #: development, production or testing; set with EINSTEIN_ENV.
        "ENV": mode,
        "SECRET_KEY": env.get("SECRET_KEY") or env.get("EINSTEIN_SECRET_KEY") or DEFAULT_SECRET_KEY,
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Database
        "SQLALCHEMY_DATABASE_URI": database_url,
        #: PostgreSQL: seconds a pooled connection may sit unused and still be taken without asking the
        #: server first whether it is there (a round trip); 0 asks every time.
        "DATABASE_PING_AFTER": 1.0,
        #: Test-only switch: without the booking lock the race tests must see overselling.
        "BOOKING_LOCKS": True,
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_NAME": "remember_token",
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "LOGIN_SESSION_DAYS": 30,
        #: A sign-in unused this long ends (a shared phone left signed in); "remember me" lasts longer.
        "LOGIN_IDLE_SECONDS": 2 * 60 * 60,
        "REMEMBER_IDLE_SECONDS": 14 * 24 * 60 * 60,
        #: A sign-in in use is marked as seen at most this often (one small write, not one per page).
        "LOGIN_SEEN_EVERY_SECONDS": 5 * 60,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 256 * 1024,
        # Password hashing (argon2id)
        "ARGON2_TIME_COST": ARGON2_TIME_COST,
        "ARGON2_MEMORY_COST": ARGON2_MEMORY_COST_KIB,
        "ARGON2_PARALLELISM": ARGON2_PARALLELISM,
        # Forms
        "WTF_CSRF_TIME_LIMIT": 60 * 60 * 8,
        # Languages and time
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        # Rate limits (Flask-Limiter)
        "RATELIMIT_STORAGE_URI": limiter_storage,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        # Cached page fragments (Flask-Caching): Redis when there is one, else files in instance/.
        "CACHE_TYPE": "RedisCache" if redis_url else "FileSystemCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_DIR": str(instance_path / "cache"),
        "CACHE_DEFAULT_TIMEOUT": 60,
        "CACHE_KEY_PREFIX": "einstein:",
        "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if redis_url else {},
        #: After the cache (or the rate limits' Redis) failed to answer, a background thread of
        #: each process asks it again this often; no request uses it meanwhile.
        "CACHE_RETRY_AFTER": 2.0,
        #: A commit waits at most this long for its change to reach the cache (so the page it
        #: redirects to is fresh in every process); never while the cache is away or slow.
        "CACHE_WRITE_WAIT": 0.05,
        # Compressed responses (Flask-Compress): HTML, CSS, scripts, SVG, JSON, calendars.
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "image/svg+xml",
            "application/json",
            "text/calendar",
        ],
        "COMPRESS_LEVEL": 6,
        "COMPRESS_MIN_SIZE": 500,
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        #: Wrong passwords for one account from one address (IP) before sign-in from there waits;
        #: for one account from anywhere (wider, so one stranger cannot lock the owner out); and
        #: from one address for any account.
        "LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS": "5 per 15 minutes",
        "LOGIN_RATE_LIMIT_ACCOUNT": "25 per 15 minutes",
        "LOGIN_RATE_LIMIT_ADDRESS": "50 per 15 minutes",
        "RESET_RATE_LIMIT_ACCOUNT": "3 per hour",
        "RESET_RATE_LIMIT_ADDRESS": "20 per hour",
        "SIGNUP_RATE_LIMIT": "20 per hour",
        #: Profile saves per account (each may send e-mails, or probe whether a number is taken).
        "PROFILE_RATE_LIMIT": "20 per hour",
        #: A booking's short link (from a text message) opened per address (IP).
        "SHORT_LINK_RATE_LIMIT": "60 per minute",
        #: The public check of a certificate's code (typed or from its QR code), per address (IP).
        "CHECK_RATE_LIMIT": "30 per minute",
        #: Codes typed to confirm a phone number, per address (IP).
        "PHONE_CODE_RATE_LIMIT": "10 per 15 minutes",
        #: People added at the door per person taking attendance (each may try a phone number).
        "WALK_IN_RATE_LIMIT": "60 per hour",
        # Mail: SMTP when SMTP_HOST is set, otherwise .eml files a developer can open.
        "MAIL_BACKEND": "smtp" if smtp_host else "file",
        "MAIL_FILE_DIR": str(instance_path / "mail"),
        "SMTP_HOST": smtp_host or "localhost",
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _truthy(env.get("SMTP_STARTTLS")),
        "SMTP_SSL": _truthy(env.get("SMTP_SSL")),
        "SMTP_TIMEOUT": 10.0,
        "MAIL_FROM": env.get("MAIL_FROM", "einstein <noreply@einstein.localhost>"),
        # SMS: through an SMS gateway (Kannel's sendsms) when SMS_GATEWAY_URL is set, else files
        #: e.g. http://127.0.0.1:13013/cgi-bin/sendsms (Kannel's smsbox)
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL") or None,
        "SMS_USERNAME": env.get("SMS_USERNAME") or None,
        "SMS_PASSWORD": env.get("SMS_PASSWORD") or None,
        #: The sender people see: a short name (up to 11 letters) or a number, as the operator allows.
        "SMS_SENDER": env.get("SMS_SENDER", "einstein"),
        #: Shared with the gateway: it calls back with replies and delivery reports carrying it.
        #: None: one is derived from SECRET_KEY (say it in Kannel's sms-service and dlr URLs).
        "SMS_CALLBACK_SECRET": env.get("SMS_CALLBACK_SECRET") or None,
        "SMS_TIMEOUT": 5.0,
        "SMS_FILE_DIR": str(instance_path / "sms"),
        #: No text goes out between these hours (Utrecht time), unless what it says is due sooner.
        "SMS_QUIET_FROM": 21,
        "SMS_QUIET_UNTIL": 8,
        #: A code texted to a phone works this long, and this many wrong tries.
        "PHONE_CODE_SECONDS": 15 * 60,
        "PHONE_CODE_ATTEMPTS": 5,
        # Reminders and the outbox
        #: How long a worker may hold a claimed message before the sweep hands it out again.
        "MAIL_CLAIM_SECONDS": 300,
        #: A message queued by the sweep but not yet claimed is queued again after this long.
        "MAIL_REQUEUE_SECONDS": 120,
        #: First retry delay after a temporary SMTP error; doubled on each attempt.
        "MAIL_RETRY_SECONDS": 15,
        #: How often beat runs the sweep that queues due reminders and anything left behind.
        "SWEEP_SECONDS": 60,
        #: After a failed publish, this process stops trying the broker for this long (the sweep sends).
        "BROKER_BACKOFF_SECONDS": 15,
        #: E-mails committed within this long are handed to the broker together, by a thread.
        "PUBLISH_DELAY_SECONDS": 0.1,
        "MAIL_MAX_ATTEMPTS": 8,
        #: Messages a worker's task claims, loads and sends together, over one connection to the
        #: mail server (or Kannel). A batch loads its people and bookings once and writes a
        #: session's reminder once per language: 200 cost 1.5 ms of the worker's CPU a reminder,
        #: 50 cost 1.7 ms (bench.reminders, 2026-12-03). A server that closes the connection after
        #: fewer costs one message of each batch a retry.
        "MAIL_BATCH_SIZE": 200,
        "REMINDER_MORNING_HOUR": 8,
        #: The organisation named on statements of volunteer work.
        "VOLUNTEER_ORGANISATION": env.get("VOLUNTEER_ORGANISATION", "Plan Einstein Utrecht"),
        # Retention (einstein.privacy.retention; nightly, and `flask retention`)
        #: Bookings and attendance are made anonymous this many months after their last session
        #: ended (the counts stay for the reports). Two years: a year's figures are asked for
        #: (by funders, the council) in the year after, and a participant may need their
        #: attendance for a certificate or the municipality they move to for about that long.
        "RETENTION_BOOKING_MONTHS": 24,
        #: People registered at the desk (no password) with nothing coming are erased after this
        #: many months without anything done: they cannot delete themselves.
        "RETENTION_DESK_PERSON_MONTHS": 12,
        #: Sign-ins (the devices list) are removed this many days after they ended or expired.
        "RETENTION_SIGN_IN_DAYS": 30,
        #: Messages sent, failed or cancelled are removed from the outbox after this many days (the
        #: Messages page shows a month of texts and their cost; failures wait to be sent again).
        "RETENTION_MESSAGE_DAYS": 90,
        #: The audit trail forgets whom an event was about after this many months (who did it
        #: stays); not longer than the bookings' period, or it would name the people behind them.
        "RETENTION_AUDIT_MONTHS": 24,
        #: Rows changed per transaction (people erased: a tenth of it), so no run holds locks long.
        "RETENTION_BATCH_SIZE": 500,
        # Operations (README: Operations)
        #: "json" (one object per line) or "text"; unset: JSON in production, text elsewhere.
        "LOG_FORMAT": None,
        #: Errors go to Sentry (without personal data) when this is set.
        "SENTRY_DSN": env.get("SENTRY_DSN") or None,
        #: /metrics answers a scraper that sends "Authorization: Bearer <this>"; unset, it is not there.
        "METRICS_TOKEN": None,
        # Celery
        "CELERY": {
            "broker_url": broker_url,
            "broker_transport_options": broker_options,
            "broker_connection_timeout": 0.5,
            "broker_connection_retry_on_startup": True,
            "task_ignore_result": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "task_publish_retry": False,
            "worker_prefetch_multiplier": 1,
            "worker_hijack_root_logger": False,
            "task_default_queue": "default",
            "task_routes": {"einstein.notifications.tasks.*": {"queue": "mail"}},
            "beat_schedule_filename": str(instance_path / "celerybeat-schedule"),
            "timezone": "Europe/Amsterdam",
            "enable_utc": True,
        },
    }


def check_config(config: MutableMapping[str, Any]) -> None:
    """Normalise the mode once, and refuse settings that would be unsafe in it.

    The published development key signs reset, confirmation and cancel links: anyone could forge
    them, so it is refused in every mode but development. Production also needs a long random key
    and a shared store for the rate limits (each process counting on its own is no limit).
    """
    mode = config["ENV"] = normalise_env(config.get("ENV") or "development")
    callback_secret = str(config.get("SMS_CALLBACK_SECRET") or "")
    if not callback_secret and config.get("SECRET_KEY"):
        # derived, so that it differs from the key itself (it travels in the gateway's URLs)
        digest = hmac.new(str(config["SECRET_KEY"]).encode(), b"einstein sms callbacks", hashlib.sha256)
        config["SMS_CALLBACK_SECRET"] = digest.hexdigest()[:32]
    if mode == "production":
        # Secure cookies whose name the browser ties to this host over https: a sibling
        # subdomain or a plain-http page cannot plant or overwrite them.
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
        for key, name in (("SESSION_COOKIE_NAME", "session"), ("REMEMBER_COOKIE_NAME", "remember_token")):
            name = str(config.get(key) or name)
            config[key] = name if name.startswith("__Host-") else "__Host-" + name
        config["SESSION_COOKIE_PATH"] = config["REMEMBER_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = config["REMEMBER_COOKIE_DOMAIN"] = None
    if mode == "development":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            f"EINSTEIN_ENV={mode} refuses the published development SECRET_KEY: set SECRET_KEY to a random value"
        )
    if mode != "production":
        return
    if len(secret) < 32:
        raise ConfigurationError(
            "EINSTEIN_ENV=production needs SECRET_KEY set to a random value of at least 32 "
            "characters, for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        raise ConfigurationError(
            "EINSTEIN_ENV=production needs REDIS_URL: the sign-in limits must be shared by every web process"
        )
    if config.get("METRICS_TOKEN") and len(str(config["METRICS_TOKEN"])) < 24:
        raise ConfigurationError(
            "EINSTEIN_METRICS_TOKEN must be a random value of at least 24 characters in production"
        )
    if config.get("SMS_GATEWAY_URL") and len(callback_secret) < 16:
        # Kannel must say it in every reply and report it passes on: it has to be written in
        # kannel.conf too, so it is given, not derived where nobody can read it
        raise ConfigurationError(
            "EINSTEIN_ENV=production with SMS_GATEWAY_URL needs SMS_CALLBACK_SECRET (16 characters or more), "
            "the same as in the get-url of kannel.conf's sms-service"
        )


App = TypeVar("App", bound="Flask")


def configured_app(config: Mapping[str, Any] | None, app_class: type[App], **options: Any) -> App:
    """A Flask app of class ``app_class`` holding einstein's configuration and nothing else yet:
    embedded defaults, then EINSTEIN_* variables, then ``config``; checked, and the folders the
    embedded defaults write to made. The whole app is assembled on it (``einstein.app``); Celery
    beat needs no more than this (``einstein.beat``). ``options`` go to Flask."""
    app = app_class(
        "einstein",
        instance_path=os.environ.get("EINSTEIN_INSTANCE_PATH") or None,
        instance_relative_config=True,
        **options,
    )
    app.config.update(default_config(Path(app.instance_path)))
    app.config.from_prefixed_env("EINSTEIN")
    if config:
        app.config.update(config)
    # for the database finally chosen (an app given its own SQLALCHEMY_DATABASE_URI too)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    check_config(app.config)
    _prepare_instance(app)
    return app


def _prepare_instance(app: Flask) -> None:
    """Create the folders the embedded defaults write to."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["MAIL_BACKEND"] == "file":
        Path(app.config["MAIL_FILE_DIR"]).mkdir(parents=True, exist_ok=True)
    options = app.config["CELERY"].get("broker_transport_options", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
