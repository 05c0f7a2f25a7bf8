"""Routes of the catalogue."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from einstein.courses import services

bp = Blueprint("courses", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """List what is on soon, with free places or waiting-list status."""
    page = services.upcoming_sessions(services.Cursor.decode(request.args.get("after")))
    next_url = url_for("courses.index", after=page.next_cursor.encode()) if page.next_cursor else None
    first_url = url_for("courses.index") if request.args.get("after") else None
    return render_template("courses/index.html", page=page, next_url=next_url, first_url=first_url)
