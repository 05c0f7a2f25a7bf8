"""The choices of the "Embed on your website" page, read from the query string."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from einstein.courses.models import Category, Location
from einstein.forms import BaseForm, choices
from einstein.i18n import LANGUAGES


class EmbedForm(BaseForm):
    """Which programme a partner's widget shows: a place, a theme, a language."""

    class Meta:
        csrf = False

    location = SelectField(_l("Place"), validators=[Optional()])
    category = SelectField(
        _l("Theme"),
        choices=lambda: choices([("", _l("All themes")), *((c.value, c.label) for c in Category)]),
        validators=[Optional()],
    )
    language = SelectField(
        _l("Language"),
        choices=lambda: choices(
            [("", _l("The visitor's language")), *((lang.code, lang.native_name) for lang in LANGUAGES.values())]
        ),
        validators=[Optional()],
    )

    def __init__(self, formdata: Any = None, *, places: Sequence[Location] = (), **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.location.choices = choices([("", _l("All places")), *((p.id, p.one_line) for p in places)])
