"""Friendly error pages in the base layout, and JSON errors for JSON clients."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from einstein.bounds import OutOfRange
from einstein.db import db

log = logging.getLogger(__name__)


class CodedError(Exception):
    """A refusal named by a code; the subclass's ``messages`` say it in the reader's words."""

    messages: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values

    @property
    def message(self) -> str:
        text = str(self.messages[self.code])
        return text % self.values if self.values else text


#: What each error page says, in plain words.
MESSAGES = {
    400: (_l("Something in the request was not right"), _l("Please go back and try again.")),
    403: (
        _l("This page is not for you"),
        _l("Your account cannot open this page. Sign in with another account, or go back to the start."),
    ),
    404: (_l("Page not found"), _l("The page may have moved, or the link is wrong.")),
    405: (_l("That did not work"), _l("Please go back and use the buttons on the page.")),
    413: (_l("That was too much"), _l("What you sent is too large. Please send less text or a smaller file.")),
    429: (_l("Please wait a moment"), _l("There were too many tries. Wait a few minutes and try again.")),
    500: (_l("Something went wrong on our side"), _l("Nothing was saved. Please try again in a moment.")),
    503: (_l("einstein is busy"), _l("Please try again in a minute.")),
}


def wants_json() -> bool:
    """Return whether the client asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(code: int, title: str | None = None, message: str | None = None) -> tuple[Response | str, int]:
    """Render the error page for ``code``."""
    default_title, default_message = MESSAGES.get(code, MESSAGES[400])
    title = title or str(default_title)
    message = message or str(default_message)
    if wants_json():
        return jsonify(error=title, message=message, status=code), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def handle_http_exception(error: HTTPException) -> tuple[Response | str, int] | HTTPException:
    """Show any HTTP error in the layout."""
    if error.code is None or error.code < 400:
        return error
    db.session.rollback()
    response = render_error(error.code, message=error.description if isinstance(error, OutOfRange) else None)
    return response


def handle_csrf_error(error: CSRFError) -> tuple[Response | str, int]:
    """Explain an expired or missing form token without blaming the person."""
    db.session.rollback()
    return render_error(
        400,
        _("The form has expired"),
        _("For your safety, forms expire after a while. Please go back, reload the page and try again."),
    )


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    """Undo the request's changes and say so; never show a stack trace. A database connection that
    broke under the request (the server restarted, a network cut) is a moment's unavailability,
    not a fault: 503, and the pool opens a new connection for the next request."""
    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, sa.exc.DBAPIError) and original.connection_invalidated:
        log.warning("database connection lost on %s %s: %s", request.method, request.path, original.orig)
        return render_error(503)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
