"""Helpers shared by the views of every area."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_wtf import FlaskForm

#: Invalid form submissions are answered with this status, so clients and tests can tell.
FORM_INVALID = 422


def render_form(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Render a form page; 422 when the form was submitted with problems, else 200."""
    status = FORM_INVALID if form.errors else 200
    return render_template(template, form=form, **context), status
