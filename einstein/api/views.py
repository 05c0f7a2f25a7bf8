# flask-smorest and flask-talisman ship no type hints: their decorators are Any to mypy.
# mypy: disable-error-code="untyped-decorator"
"""Routes of open data: the programme API (/api/v1), calendar feeds per place and theme, and the
programme widget partners put on their websites.

Everything here is public and the same for everyone reading a language, so it is cached as the
listing is (``einstein.caching``: stale at once when the catalogue or a booking changes, at most
a minute old as "still to come" moves on). None of it sets a cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest import abort as api_abort
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from einstein import caching
from einstein.api import openapi, programme
from einstein.api.forms import EmbedForm
from einstein.api.schemas import (
    CategoryListSchema,
    ErrorSchema,
    IdPageArgs,
    LanguageArgs,
    LocationPageSchema,
    OfferListArgs,
    OfferPageSchema,
    OfferSchema,
    ProgrammeArgs,
    ProgrammePageSchema,
    SessionPageArgs,
    SessionPageSchema,
)
from einstein.bounds import as_id
from einstein.courses.calendar import calendar_bytes
from einstein.courses.models import Category, OfferKind
from einstein.db import db
from einstein.extensions import limiter, talisman
from einstein.i18n import LANGUAGES, current_language
from einstein.security import CONTENT_SECURITY_POLICY
from einstein.urls import external_url

api_bp = ApiBlueprint(
    "programme",
    __name__,
    url_prefix=openapi.API_PREFIX,
    description="The public programme: offers, their sessions, places and themes.",
)
bp = Blueprint("opendata", __name__)

#: Seconds a feed may be kept by a calendar or a proxy; calendars ask again every few hours anyway.
FEED_MAX_AGE = 900


def _rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


# Every route of open data is rate-limited per address; a page from the cache costs little, a
# feed or a deep page more.
limiter.limit(_rate_limit)(api_bp)
limiter.limit(_rate_limit)(bp)


@api_bp.errorhandler(HTTPException)
def _json_error(error: HTTPException) -> ResponseReturnValue:
    """Every refusal of the API in JSON (``ErrorSchema``), never an HTML page."""
    db.session.rollback()
    payload, code, headers = openapi.current_api().handle_http_exception(error)
    if code == 429 and "message" not in payload:
        payload["message"] = _("Too many requests. Please wait a minute and try again.")
    return payload, code, headers


@api_bp.after_request
def _api_headers(response: Response) -> Response:
    """Any website may read the programme from a browser (no credentials, read-only)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept-Language")
    return response


def _keyed(name: str, args: dict[str, Any], compute: Any) -> Any:
    """``compute()`` from the cache, per language, arguments and minute, stale at each change."""
    key = (current_language().code, tuple(sorted((k, str(v)) for k, v in args.items())), caching.minute())
    return caching.kept(f"api-{name}", key, compute)


def _id_cursor(token: str | None) -> programme.IdCursor | None:
    try:
        return programme.IdCursor.decode(token)
    except programme.BadCursorError:
        api_abort(400, message=_("This cursor was not made by einstein for this list. Start again without it."))
        raise  # pragma: no cover - abort raises


def _session_cursor(token: str | None) -> Any:
    try:
        return programme.session_cursor(token)
    except programme.BadCursorError:
        api_abort(400, message=_("This cursor was not made by einstein for this list. Start again without it."))
        raise  # pragma: no cover - abort raises


def _errors(*codes: int) -> Any:
    """Document the JSON errors a route may answer (and 429, which every route may)."""
    descriptions = {
        400: "A cursor einstein did not make for this list.",
        404: "No such published offer.",
        429: "Too many requests from this address; try again in a minute.",
    }

    def decorate(view: Any) -> Any:
        for code in (*codes, 429):
            view = api_bp.alt_response(code, schema=ErrorSchema, description=descriptions[code])(view)
        return view

    return decorate


def _narrowing(args: dict[str, Any]) -> dict[str, Any]:
    """The theme, kind and place a list is narrowed to, as the programme's queries take them."""
    return {
        "category": Category(args["category"]) if "category" in args else None,
        "kind": OfferKind(args["kind"]) if "kind" in args else None,
        "location_id": args.get("location"),
    }


@api_bp.get("/offers")
@api_bp.arguments(OfferListArgs, location="query", as_kwargs=True)
@api_bp.response(200, OfferPageSchema)
@_errors(400)
def offers(**args: Any) -> dict[str, Any]:
    """Published courses and activities, by id; narrowed to a theme, a kind or a place."""
    after = _id_cursor(args.get("cursor"))

    def compute() -> dict[str, Any]:
        page = programme.offers(
            after=after,
            limit=args["limit"],
            **_narrowing(args),
        )
        locale = current_language().code
        return {"items": [programme.offer_data(o, locale) for o in page.items], "next_cursor": page.next_cursor}

    return _keyed("offers", args, compute)  # type: ignore[no-any-return]


@api_bp.get("/offers/<int:offer_id>")
@api_bp.arguments(LanguageArgs, location="query", as_kwargs=True)
@api_bp.response(200, OfferSchema)
@_errors(404)
def offer(offer_id: int, **args: Any) -> dict[str, Any]:
    """One published offer."""

    def compute() -> dict[str, Any] | None:
        found = programme.offer(offer_id)
        return programme.offer_data(found, current_language().code) if found is not None else None

    data = _keyed("offer", {"id": offer_id}, compute)
    if data is None:
        api_abort(404, message=_("There is no published offer with this id."))
    return data  # type: ignore[no-any-return]


@api_bp.get("/offers/<int:offer_id>/sessions")
@api_bp.arguments(SessionPageArgs, location="query", as_kwargs=True)
@api_bp.response(200, SessionPageSchema)
@_errors(400, 404)
def offer_sessions(offer_id: int, **args: Any) -> dict[str, Any]:
    """An offer's sessions still to come, soonest first; cancelled ones too, marked."""
    after = _session_cursor(args.get("cursor"))

    def compute() -> dict[str, Any] | None:
        found = programme.offer(offer_id)
        if found is None:
            return None
        page = programme.offer_sessions(found, after=after, limit=args["limit"])
        locale = current_language().code
        return {"items": [programme.session_data(s, locale) for s in page.items], "next_cursor": page.next_cursor}

    data = _keyed("offer-sessions", {**args, "id": offer_id}, compute)
    if data is None:
        api_abort(404, message=_("There is no published offer with this id."))
    return data  # type: ignore[no-any-return]


@api_bp.get("/sessions")
@api_bp.arguments(ProgrammeArgs, location="query", as_kwargs=True)
@api_bp.response(200, ProgrammePageSchema)
@_errors(400)
def sessions(**args: Any) -> dict[str, Any]:
    """The programme: sessions still to come, soonest first, with their offer; narrowed to a theme,
    a kind or a place (a session's own place, else its offer's)."""
    after = _session_cursor(args.get("cursor"))

    def compute() -> dict[str, Any]:
        page = programme.sessions(
            after=after,
            limit=args["limit"],
            **_narrowing(args),
        )
        locale = current_language().code
        return {
            "items": [programme.session_data(s, locale, with_offer=True) for s in page.items],
            "next_cursor": page.next_cursor,
        }

    return _keyed("sessions", args, compute)  # type: ignore[no-any-return]


@api_bp.get("/locations")
@api_bp.arguments(IdPageArgs, location="query", as_kwargs=True)
@api_bp.response(200, LocationPageSchema)
@_errors(400)
def locations(**args: Any) -> dict[str, Any]:
    """The places where sessions are held, by id."""
    after = _id_cursor(args.get("cursor"))

    def compute() -> dict[str, Any]:
        page = programme.places(after=after, limit=args["limit"])
        return {"items": [programme.location_data(p) for p in page.items], "next_cursor": page.next_cursor}

    return _keyed("locations", args, compute)  # type: ignore[no-any-return]


@api_bp.get("/categories")
@api_bp.arguments(LanguageArgs, location="query", as_kwargs=True)
@api_bp.response(200, CategoryListSchema)
@_errors()
def categories(**args: Any) -> dict[str, Any]:
    """The themes offers are sorted by, named in the reader's language."""
    return {
        "items": [
            {
                "code": category.value,
                "label": str(category.label),
                "calendar_url": external_url("opendata.category_feed", category=category.value),
            }
            for category in Category
        ]
    }


# --- the page that explains it, the feeds, the widget ------------------------------------------------


@bp.get("/api/v1/")
@caching.for_visitors
def docs() -> ResponseReturnValue:
    """Explain the API, the calendar feeds and the widget, from the API's own description."""
    places = db.session.scalars(programme.public_places()).all()
    return render_template(
        "api/docs.html",
        spec=openapi.description(),
        places=places,
        categories=list(Category),
        api_prefix=openapi.API_PREFIX,
    )


def _feed(sessions: list[Any], name: str) -> ResponseReturnValue:
    locale = current_language().code
    return current_app.response_class(
        calendar_bytes(sessions, name, locale),
        mimetype="text/calendar",
        headers={"Cache-Control": f"public, max-age={FEED_MAX_AGE}"},
    )


@bp.get("/calendar/locations/<int:location_id>.ics")
def location_feed(location_id: int) -> ResponseReturnValue:
    """A calendar feed of what is held at one place, to subscribe to."""
    place = programme.place(location_id)
    if place is None:
        abort(404)
    sessions = programme.feed_sessions(location_id=place.id)
    return _feed(sessions, _("einstein at %(place)s", place=place.name))


@bp.get("/calendar/categories/<category>.ics")
def category_feed(category: str) -> ResponseReturnValue:
    """A calendar feed of one theme (language, work, health...), to subscribe to."""
    if category not in {c.value for c in Category}:
        abort(404)
    theme = Category(category)
    return _feed(programme.feed_sessions(category=theme), _("einstein: %(theme)s", theme=theme.label))


#: A partner's page may frame the widget (and only the widget); it runs no script anywhere.
EMBED_POLICY = {**CONTENT_SECURITY_POLICY, "frame-ancestors": "*"}
#: Sessions a widget shows: the next ones, enough for a sidebar.
EMBED_SIZE = 12


def _embed_filters() -> tuple[int | None, Category | None] | None:
    """The widget's place and theme from the query string, or None when either is not one."""
    raw_place, raw_category = request.args.get("location", ""), request.args.get("category", "")
    location_id = as_id(raw_place) if raw_place else None
    if raw_place and location_id is None:
        return None
    if raw_category and raw_category not in {c.value for c in Category}:
        return None
    return location_id, Category(raw_category) if raw_category else None


@bp.get("/embed/programme")
@talisman(frame_options=None, content_security_policy=EMBED_POLICY)
@caching.for_visitors
def embed_programme() -> ResponseReturnValue:
    """The programme widget: the next sessions at a place or in a theme, for a partner's page."""
    lang = current_language()
    asked = request.args.get("lang")
    filters = _embed_filters()
    if filters is None or (asked is not None and asked not in LANGUAGES):
        return render_template("embed/programme.html", lang=lang, sessions=[], place=None, problem=True), 400
    location_id, category = filters
    place = programme.place(location_id) if location_id is not None else None
    if location_id is not None and place is None:
        return render_template("embed/programme.html", lang=lang, sessions=[], place=None, problem=True), 404

    def render() -> str:
        page = programme.sessions(limit=EMBED_SIZE, category=category, location_id=location_id, scheduled_only=True)
        more = external_url("courses.index", lang=lang.code, **({"category": category.value} if category else {}))
        return render_template(
            "embed/programme.html",
            lang=lang,
            sessions=page.items,
            place=place,
            category=category,
            more_url=more,
            external_url=external_url,
            problem=False,
        )

    key = (lang.code, location_id, category.value if category else None, caching.minute())
    return caching.fragment("embed", key, render)


@bp.get("/embed")
def embed_help() -> ResponseReturnValue:
    """How a partner puts the widget on their website: choose, copy the snippet."""
    places = db.session.scalars(programme.public_places()).all()
    form = EmbedForm(request.args, places=places)
    valid = form.validate()
    args = {}
    if valid and form.language.data:
        args["lang"] = form.language.data
    if valid and form.location.data:
        args["location"] = form.location.data
    if valid and form.category.data:
        args["category"] = form.category.data
    widget_url = external_url("opendata.embed_programme", **args)
    return render_template("embed/help.html", form=form, widget_url=widget_url), 200 if valid else 400
