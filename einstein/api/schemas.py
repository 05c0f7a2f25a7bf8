"""What the API reads from a query string and what it answers, as marshmallow schemas: they check
the arguments, write the answers and make the OpenAPI description (flask-smorest)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from einstein.api.programme import MAX_PAGE_SIZE, PAGE_SIZE
from einstein.bounds import MAX_ID
from einstein.courses.models import Category, DutchLevel, OfferKind, SessionStatus
from einstein.i18n import LANGUAGES

AVAILABILITY = ("cancelled", "free", "waiting_list", "full")


def _id(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(1, MAX_ID), **kwargs)  # type: ignore[arg-type]


class _Query(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a partner's tracking parameters are no error


class LanguageArgs(_Query):
    lang = fields.String(
        validate=validate.OneOf(list(LANGUAGES)),
        metadata={"description": "The reader's language (else the browser's Accept-Language)."},
    )


#: The formats of the two kinds of cursor (opaque to readers; a client generating requests from
#: the description, as the tests' Schemathesis does, learns from them which strings are cursors).
ID_CURSOR, SESSION_CURSOR = "einstein-id-cursor", "einstein-session-cursor"


def _cursor(kind: str) -> fields.String:
    return fields.String(
        validate=validate.Length(1, 64),
        metadata={
            "description": "Where the page starts: the `next_cursor` of the page before. Opaque.",
            "format": kind,
        },
    )


class _PageArgs(LanguageArgs):
    limit = fields.Integer(load_default=PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))


class IdPageArgs(_PageArgs):
    cursor = _cursor(ID_CURSOR)


class SessionPageArgs(_PageArgs):
    cursor = _cursor(SESSION_CURSOR)


class _Narrowing(ma.Schema):
    category = fields.String(validate=validate.OneOf([c.value for c in Category]))
    kind = fields.String(validate=validate.OneOf([k.value for k in OfferKind]))
    location = _id(metadata={"description": "A place's id: its own offers, and sessions held there."})


class OfferListArgs(IdPageArgs, _Narrowing):
    pass


class ProgrammeArgs(SessionPageArgs, _Narrowing):
    pass


class LocationSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    address = fields.String(required=True)
    postcode = fields.String(allow_none=True, required=True)
    city = fields.String(required=True)
    step_free = fields.Boolean(required=True)
    calendar_url = fields.Url(required=True, metadata={"description": "The place's calendar feed (.ics)."})


class OfferSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OfferKind]))
    kind_label = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    category_label = fields.String(required=True)
    title = fields.String(required=True)
    title_language = fields.String(required=True, metadata={"description": "The language the title is in."})
    description = fields.String(required=True)
    description_language = fields.String(required=True)
    translation_outdated = fields.Boolean(
        required=True, metadata={"description": "The original changed since this translation was written."}
    )
    dutch_level = fields.String(required=True, validate=validate.OneOf([d.value for d in DutchLevel]))
    dutch_level_label = fields.String(required=True)
    organised_by = fields.String(allow_none=True, required=True)
    location = fields.Nested(LocationSchema, allow_none=True, required=True)
    waiting_list_enabled = fields.Boolean(required=True)
    url = fields.Url(required=True, metadata={"description": "The offer's page, where people book."})
    calendar_url = fields.Url(required=True)


class HeldSchema(ma.Schema):
    places = fields.Integer(required=True, metadata={"description": "How many of the places are held."})
    held_for = fields.String(
        required=True,
        validate=validate.OneOf(["neighbour", "newcomer"]),
        metadata={"description": "For people who said this about themselves."},
    )
    opens_at = fields.AwareDateTime(
        required=True, format="iso", metadata={"description": "When the held places open to everyone."}
    )


class PlacesSchema(ma.Schema):
    capacity = fields.Integer(required=True)
    free = fields.Integer(required=True, metadata={"description": "Free places, held ones included."})
    held = fields.Nested(
        HeldSchema,
        allow_none=True,
        required=True,
        metadata={"description": "Places held for the mix until they open to everyone; null when none are."},
    )


class WaitingListSchema(ma.Schema):
    enabled = fields.Boolean(required=True)
    open = fields.Boolean(required=True, metadata={"description": "Full, and people can join the waiting list."})
    waiting = fields.Integer(required=True, metadata={"description": "How many people wait (a count only)."})


class SessionOfferSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    category = fields.String(required=True)
    title = fields.String(required=True)
    title_language = fields.String(required=True)
    url = fields.Url(required=True)


class SessionSchema(ma.Schema):
    id = fields.Integer(required=True)
    offer_id = fields.Integer(required=True)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in SessionStatus]))
    location = fields.Nested(LocationSchema, allow_none=True, required=True)
    languages = fields.List(fields.String(), required=True, metadata={"description": "Languages spoken."})
    availability = fields.String(required=True, validate=validate.OneOf(AVAILABILITY))
    places = fields.Nested(PlacesSchema, required=True, metadata={"description": "A course's places are the course's."})
    waiting_list = fields.Nested(WaitingListSchema, required=True)
    calendar_url = fields.Url(required=True)


class ProgrammeSessionSchema(SessionSchema):
    offer = fields.Nested(SessionOfferSchema, required=True)


class _PageSchema(ma.Schema):
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last."},
    )


class OfferPageSchema(_PageSchema):
    items = fields.List(fields.Nested(OfferSchema), required=True)


class SessionPageSchema(_PageSchema):
    items = fields.List(fields.Nested(SessionSchema), required=True)


class ProgrammePageSchema(_PageSchema):
    items = fields.List(fields.Nested(ProgrammeSessionSchema), required=True)


class LocationPageSchema(_PageSchema):
    items = fields.List(fields.Nested(LocationSchema), required=True)


class CategorySchema(ma.Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    calendar_url = fields.Url(required=True)


class CategoryListSchema(ma.Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


class ErrorSchema(ma.Schema):
    """Every error the API answers: its HTTP code and name, a message, and the fields at fault."""

    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict()
