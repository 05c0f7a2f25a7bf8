"""A test client that sends a valid CSRF token and signs people in the way the app does."""

from __future__ import annotations

import secrets
from typing import Any

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


def signed_csrf(app: Any, raw: str) -> str:
    """The CSRF token a page of ``app`` shows for a session holding ``raw`` (as Flask-WTF signs it)."""
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


class Client(FlaskClient):
    """Flask's test client with ``sign_in`` and automatic CSRF tokens on form posts."""

    def csrf_token(self) -> str:
        """Return a CSRF token valid for this client's session, as a page would contain."""
        app = self.application
        raw = None
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = "test-csrf-" + secrets.token_hex(16)
                session["csrf_token"] = raw
        return signed_csrf(app, raw)

    def post(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """POST a form, adding a valid CSRF token unless ``csrf=False``."""
        with_csrf = kwargs.pop("csrf", True)
        data = kwargs.get("data")
        if with_csrf and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def sign_in(self, user: Any, remember: bool = False) -> str:
        """Sign ``user`` in as the sign-in form would, without typing the password."""
        from einstein.auth.sessions import start_login_session
        from einstein.db import db
        from einstein.models import User

        with self.application.app_context():
            token = start_login_session(db.session.get(User, user.id), remember=remember)
            db.session.commit()
        with self.session_transaction() as session:
            session.clear()
            session["_user_id"] = token
            session["_fresh"] = True
        return token
