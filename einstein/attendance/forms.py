"""Forms for taking attendance, walk-ins, and the report filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from einstein.attendance.feedback import SENTENCE_MAX, Face
from einstein.attendance.models import AttendanceStatus
from einstein.attendance.volunteering import MOST_HELPERS
from einstein.bookings.forms import NewPersonForm
from einstein.courses.models import Category
from einstein.forms import BaseForm, choices


class MarkForm(BaseForm):
    """One tap: present, absent or excused."""

    status = RadioField(
        _l("Attendance"),
        choices=lambda: choices((s.value, s.label) for s in AttendanceStatus),
        validators=[InputRequired()],
    )


class ReferenceForm(BaseForm):
    """The reference on a booking card, typed or scanned."""

    reference = StringField(
        _l("Booking reference"),
        validators=[DataRequired(message=_l("Please type the reference on the card.")), Length(max=20)],
        description=_l("For example K7MQ-4X9A. Capitals or not, with or without the dash."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


#: What can be done with someone at the door of a full session.
IF_FULL_CHOICES = {
    "over": _l("Let them in beyond the places (marked “beyond the places”)"),
    "waitlist": _l("Put them on the waiting list (not marked present)"),
}


class WalkInForm(NewPersonForm):
    """Someone who turned up without a booking; at a full session, what to do with them."""

    if_full = RadioField(
        _l("There is no place left"),
        choices=lambda: choices(IF_FULL_CHOICES.items()),
        validators=[Optional()],
    )

    def offer_choices(self, waitlist: bool) -> None:
        """Offer the waiting list only where the offer keeps one."""
        self.if_full.choices = choices((k, v) for k, v in IF_FULL_CHOICES.items() if waitlist or k != "waitlist")


class PeriodForm(BaseForm):
    """The period and category a report or export covers."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])
    category = SelectField(
        _l("Category"),
        choices=lambda: choices([("", _l("All categories")), *((c.value, c.label) for c in Category)]),
        validators=[Optional()],
    )

    def validate_end(self, field: Any) -> None:
        if field.data and self.start.data:
            if field.data < self.start.data:
                raise ValidationError(str(_l("The end date is before the start date.")))
            if (field.data - self.start.data).days > 3 * 366:
                raise ValidationError(str(_l("Please choose a period of at most three years.")))


class HelpForm(BaseForm):
    """One tap: "I'll help" or "I can't help after all" (the form carries only its CSRF token)."""


class HelpersWantedForm(BaseForm):
    """How many volunteers the organiser asks to help at each session."""

    number = IntegerField(
        _l("Helpers wanted per session"),
        validators=[
            InputRequired(message=_l("Please give a number (0 if you need no helpers).")),
            NumberRange(min=0, max=MOST_HELPERS, message=_l("Between 0 and %(max)d helpers.", max=MOST_HELPERS)),
        ],
        description=_l("Volunteers see “I'll help” on each session still to come; 0 asks for nobody."),
        render_kw={"inputmode": "numeric"},
    )


class FeedbackForm(BaseForm):
    """One tap on a face; the sentence comes afterwards, if the person wants to add one."""

    face = RadioField(
        _l("How was it?"),
        choices=lambda: choices((f.value, f.label) for f in Face),
        validators=[InputRequired(message=_l("Please tap one of the three faces."))],
    )
    sentence = TextAreaField(
        _l("Anything you want to add? (optional)"),
        validators=[Optional(), Length(max=SENTENCE_MAX)],
        description=_l("At most %(num)d characters. The organiser sees it without your name.", num=SENTENCE_MAX),
        render_kw={"maxlength": SENTENCE_MAX, "rows": 3},
    )
