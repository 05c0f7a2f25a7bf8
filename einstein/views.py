"""Helpers shared by the views of every area."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, render_template
from flask_wtf import FlaskForm
from wtforms import Field

#: Invalid form submissions are answered with this status, so clients and tests can tell.
FORM_INVALID = 422


#: ``g`` keys: the ids of the fields in the order a page shows them, while it is rendered and after
_SHOWING, _SHOWN = "einstein_fields_showing", "einstein_fields_shown"


def render_form(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Render a form page; 422 when the form was submitted with problems, else 200.

    A page with problems is rendered twice: the first time learns the order in which it shows its
    fields (a form's class may declare them in another order), so that the list of problems at the
    top follows the page.
    """
    if not form.errors:
        return render_template(template, form=form, **context), 200
    g.pop(_SHOWN, None)
    g.setdefault(_SHOWING, [])
    render_template(template, form=form, **context)
    g.setdefault(_SHOWN, g.pop(_SHOWING, []))
    return render_template(template, form=form, **context), FORM_INVALID


def field_shown(field: Field) -> str:
    """Note that the page shows ``field`` here (the form macros call it; it writes nothing)."""
    showing = g.get(_SHOWING)
    if showing is not None:
        showing.append(field.id)
    return ""


def in_page_order(fields: Iterable[Field]) -> list[Field]:
    """The fields in the order the page shows them (as far as it is known), the rest after."""
    shown: list[str] = g.get(_SHOWN) or []
    position = {name: index for index, name in reversed(list(enumerate(shown)))}
    listed = list(fields)
    return sorted(listed, key=lambda f: position.get(f.id, len(shown) + listed.index(f)))
