"""Forms for taking attendance, walk-ins, and the report filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from einstein.attendance.models import AttendanceStatus
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
