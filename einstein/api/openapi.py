"""The OpenAPI description of the programme API (flask-smorest), served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema

from einstein.api import cookies
from einstein.api.schemas import ErrorSchema
from einstein.bounds import IdConverter

API_PREFIX = "/api/v1"


class ProgrammeApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api, whose JSON errors stay inside the API.

    flask-smorest answers every HTTP error of the whole app in JSON; einstein's pages keep their
    error pages, so the API's blueprint registers the JSON handler for itself (``views``).
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Register nothing app-wide: see the class."""


def init_app(app: Flask) -> None:
    """Describe the API and serve the description; its routes are added by ``register``."""
    app.config.setdefault("API_TITLE", "einstein programme")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", "300 per minute")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "The public programme of einstein: published courses and activities, their "
                    "sessions with free places and the waiting list, places and themes. Read-only, "
                    "no personal data. Texts in the reader's language (`lang`, else Accept-Language); "
                    "lists are paged by an opaque `cursor` (the `next_cursor` of the page before)."
                ),
                "license": {"name": "CC0 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"},
            },
        },
    )
    cookies.init_app(app)
    api = ProgrammeApi(app)
    app.extensions["einstein.api"] = api
    # every <int:...> is an id a table may hold (einstein.bounds): 1 to 2**31-1, said so in the description
    api.register_converter(IdConverter, integerconverter2paramschema)


def register(app: Flask, blueprint: Any) -> None:
    """Add the API's routes to the app and to its description."""
    app.extensions["einstein.api"].register_blueprint(blueprint)


def current_api() -> ProgrammeApi:
    """This app's API."""
    api: ProgrammeApi = current_app.extensions["einstein.api"]
    return api


def description() -> dict[str, Any]:
    """The OpenAPI description, as a dict (for the page that explains the API)."""
    spec: dict[str, Any] = current_api().spec.to_dict()
    return spec
