"""The base of every form: tidy text, refuse invisible and control characters, say what is wrong.

Every text field is NFC-normalised and trimmed. Control characters, bidirectional overrides and
invisible characters that can disguise text ("Trojan source" tricks, zero-width spaces) are
refused with a clear message. Joiners (ZWNJ, ZWJ) stay allowed: Persian needs them. Every date
field refuses days outside the years einstein works with (``einstein.bounds``), which would
overflow as soon as a day or a time zone is added to them.
"""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    Form,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2's
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from einstein.bounds import FIRST_DAY, LAST_DAY, in_window
from einstein.i18n import current_translations

#: Never allowed in any text: direction overrides and isolates, invisible spaces, BOM.
_HOSTILE = {
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0x200B,  # zero-width space
    0x2060,  # word joiner
    0xFEFF,  # byte order mark / zero-width no-break space
    0x180E,  # Mongolian vowel separator
    0x115F,
    0x1160,
    0x3164,
    0xFFA0,  # Hangul fillers, used to fake empty names
}
#: Also not allowed in one-line fields such as names: direction marks.
_MARKS = {0x200E, 0x200F, 0x061C}
#: Allowed format characters: zero-width non-joiner and joiner (Persian words and names need them).
_JOINERS = {0x200C, 0x200D}


def hostile_character(text: str, multiline: bool) -> str | None:
    """Return the first character that must not be in this kind of field, if any."""
    for ch in text:
        code = ord(ch)
        if multiline and ch in "\n\r\t":
            continue
        category = unicodedata.category(ch)
        if code in _HOSTILE or category in {"Cc", "Cs", "Co", "Cn"}:
            return ch
        if category == "Cf" and code not in _JOINERS:
            return ch
        if not multiline and code in _MARKS:
            return ch
    return None


def tidy(value: Any) -> Any:
    """Normalise to NFC and trim; leaves non-strings alone."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def tidy_line(value: Any) -> Any:
    """Normalise a one-line value and fold runs of spaces into one."""
    value = tidy(value)
    if isinstance(value, str):
        return " ".join(value.split())
    return value


class _CatalogueTranslations:
    """Let WTForms' own messages ("Not a valid choice.") and its fields' default labels come from
    einstein's catalogues, through the request's translations found once (every field asks as a
    form is made)."""

    def gettext(self, string: str) -> str:
        return str(current_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(current_translations().ungettext(singular, plural, n))


class BaseForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types: FlaskForm is Any to mypy
    """A Flask-WTF form (with CSRF) whose text fields are tidied and checked for hostile text."""

    class Meta:
        def get_translations(self, form: Form) -> _CatalogueTranslations:
            return _CatalogueTranslations()

        def bind_field(self, form: Form, unbound_field: UnboundField[Field], options: dict[str, Any]) -> Field:
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                multiline = issubclass(field_class, TextAreaField)
                filters = [tidy if multiline else tidy_line, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            if issubclass(field_class, DateField):
                validators = [*(unbound_field.kwargs.get("validators") or ()), in_date_window]
                return unbound_field.bind(form=form, validators=validators, **options)
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators: Any = None) -> bool:
        """Run the field validators after checking every text field for hostile characters."""
        valid: bool = super().validate(extra_validators)
        for field in self:
            if not isinstance(field, StringField) or isinstance(field, PasswordField):
                continue
            if isinstance(field.data, str) and hostile_character(field.data, isinstance(field, TextAreaField)):
                add_error(field, str(HOSTILE_MESSAGE))
                valid = False
        return valid


def add_error(field: Field, message: str) -> None:
    """Show one more message at a field of a validated form, as a failed validator would."""
    field.errors = [*field.errors, message]


_Data = TypeVar("_Data")


def filled(data: _Data | None) -> _Data:
    """The data of a field that validation requires (``DataRequired``, ``InputRequired``).

    Once the form is validated it is never None; WTForms' types cannot know that.
    """
    if data is None:
        raise ValueError("a required field has no data: is the form validated?")
    return data


HOSTILE_MESSAGE = _l(
    "Please remove invisible or special control characters (such as direction marks or "
    "zero-width spaces) and type the text again."
)


def date_window_message() -> str:
    """Say which days a date field accepts, in the reader's language."""
    return str(
        _l(
            "Please choose a date between %(first)s and %(last)s.",
            first=format_date(FIRST_DAY, "long"),
            last=format_date(LAST_DAY, "long"),
        )
    )


def in_date_window(form: Form, field: Field) -> None:
    """Refuse a day outside ``FIRST_DAY``..``LAST_DAY``; later checks of the field never see it."""
    if field.data is not None and not in_window(field.data):
        raise StopValidation(date_window_message())


class PlainName:
    """Allow letters and marks of any script, digits, spaces and the punctuation names use."""

    ALLOWED_PUNCTUATION = set(" '’‘-.,()‐")

    def __init__(self, message: Any = None) -> None:
        self.message = message or _l("Use letters, spaces, hyphens and apostrophes only.")

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data or ""
        for ch in value:
            category = unicodedata.category(ch)
            if category[0] in {"L", "M", "N"} or ch in self.ALLOWED_PUNCTUATION or ch in {"\u200c", "\u200d"}:
                continue
            raise ValidationError(str(self.message))
        if not any(unicodedata.category(ch)[0] == "L" for ch in value):
            raise ValidationError(str(_l("Please type a name with letters.")))


def choices(pairs: Any, **render_kw: Any) -> list[SelectChoice]:
    """Turn ``(value, label)`` pairs into WTForms choices."""
    return [SelectChoice(str(value), label, render_kw=dict(render_kw)) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered as a fieldset by ``macros/forms.html``)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ButtonForm(BaseForm):
    """A button that changes something: nothing but its CSRF token."""
