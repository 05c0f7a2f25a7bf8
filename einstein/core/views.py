"""Routes for health, the language switcher and the privacy page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST

from einstein import observability
from einstein.core import metrics as core_metrics
from einstein.core.services import broker_is_up, database_is_up
from einstein.extensions import limiter
from einstein.i18n import LANGUAGES
from einstein.urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/healthz/live")
@limiter.exempt
def live() -> ResponseReturnValue:
    """Say that this process answers; touch nothing else (restart the process when this fails)."""
    return jsonify({"status": "ok"})


@bp.get("/healthz")
@bp.get("/healthz/ready", endpoint="ready")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Report whether the database and the broker are up (send no traffic here while they are not)."""
    database = database_is_up()
    broker = broker_is_up()
    ok = database and broker
    body = {
        "status": "ok" if ok else "degraded",
        "database": "up" if database else "down",
        "broker": "up" if broker else "down",
    }
    return jsonify(body), 200 if ok else 503


@bp.get("/metrics")
@limiter.exempt
def metrics() -> ResponseReturnValue:
    """Give Prometheus the figures, when it brings the token; without a token set there is no such page."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    if not observability.bearer_matches(request.headers.get("Authorization"), str(token)):
        return Response("", 401, {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"})
    return Response(core_metrics.render(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


@bp.get("/language")
def language() -> ResponseReturnValue:
    """Show every language in its own name (and, signed in, the language messages are written in)."""
    return render_template("core/language.html", next=safe_next(request.args.get("next"), ""))


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Show the pages in the chosen language on this device, signed in or not.

    Only the pages: the language einstein writes e-mails and texts in is the person's own
    choice on their profile. A volunteer who switches the pages to Arabic on someone's phone to
    help them leaves that person's messages in their language.
    """
    code = request.form.get("lang", "")
    target = safe_next(request.form.get("next"), url_for("courses.index"))
    if code not in LANGUAGES:
        return redirect(url_for("core.language"))
    session["lang"] = code
    return redirect(target)


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    """Say in plain words what einstein keeps, why, and what people can do about it."""
    return render_template("core/privacy.html")
