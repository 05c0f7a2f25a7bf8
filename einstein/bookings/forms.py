"""Forms for booking, cancelling and booking at the desk."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from einstein.auth.forms import AUDIENCE_CHOICES, AUDIENCE_HELP, email_field, language_choices, phone_field
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


class NewPersonForm(BaseForm):
    """Someone without an account, registered by a coordinator or volunteer with their consent
    (at the desk, or as a walk-in at the door)."""

    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Please type the name.")), Length(max=120), PlainName()]
    )
    phone = phone_field(_l("Phone number (optional)"), render_kw={"inputmode": "tel"})
    locale = SelectField(_l("Language"), choices=language_choices, validators=[InputRequired()])
    consent = BooleanField(
        _l("The person agrees that einstein keeps their name and contact details to manage their bookings"),
        validators=[
            DataRequired(
                message=_l("Please ask the person and tick the box; without consent we cannot make an account.")
            )
        ],
    )


class DeskPersonForm(NewPersonForm):
    """Make an account for someone at the desk: also an e-mail address and how they describe themselves."""

    email = email_field(_l("E-mail address (optional)"))
    audience = RadioField(
        _l("About them (only if they want to say)"),
        choices=AUDIENCE_CHOICES,
        default=Audience.UNSAID.value,
        description=AUDIENCE_HELP,
        validators=[InputRequired()],
    )


class DeskBookForm(BaseForm):
    """Book a participant onto a course or a session at the desk."""

    target = SelectField(_l("Course or session"), validators=[InputRequired(message=_l("Please choose what to book."))])
    waitlist = BooleanField(_l("Put them on the waiting list if it is full"), default=True)
