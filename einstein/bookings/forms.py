"""Forms for booking, cancelling and booking at the desk."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from einstein.auth.forms import AUDIENCE_CHOICES, AUDIENCE_HELP, PhoneNumber, language_choices
from einstein.auth.models import Audience
from einstein.forms import BaseForm, PlainName


class BookForm(BaseForm):
    """Book a place; ``waitlist`` says the person agrees to wait if it is full."""

    waitlist = HiddenField(default="")


class CancelForm(BaseForm):
    """Cancel a booking (the confirmation button)."""


class DeskSearchForm(BaseForm):
    """Find a participant at the desk."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name, phone or e-mail"),
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "autofocus": True},
    )


class DeskPersonForm(BaseForm):
    """Make an account for someone at the desk, with their consent."""

    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Please type the name.")), Length(max=120), PlainName()]
    )
    phone = TelField(
        _l("Phone number (optional)"),
        validators=[Optional(), Length(max=32), PhoneNumber()],
        render_kw={"inputmode": "tel"},
    )
    email = EmailField(
        _l("E-mail address (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Email(message=_l("Please type an e-mail address, for example name@example.org.")),
        ],
        filters=[lambda v: v.lower() if isinstance(v, str) else v],
    )
    locale = SelectField(_l("Language"), choices=language_choices, validators=[InputRequired()])
    audience = RadioField(
        _l("About them (only if they want to say)"),
        choices=AUDIENCE_CHOICES,
        default=Audience.UNSAID.value,
        description=AUDIENCE_HELP,
        validators=[InputRequired()],
    )
    consent = BooleanField(
        _l("The person agrees that einstein keeps their name and contact details to manage their bookings"),
        validators=[
            DataRequired(
                message=_l("Please ask the person and tick the box; without consent we cannot make an account.")
            )
        ],
    )


class DeskBookForm(BaseForm):
    """Book a participant onto a course or a session at the desk."""

    target = SelectField(_l("Course or session"), validators=[InputRequired(message=_l("Please choose what to book."))])
    waitlist = BooleanField(_l("Put them on the waiting list if it is full"), default=True)
