"""Forms for booking, cancelling and booking at the desk."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, Form, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, StopValidation

from einstein.auth.forms import AUDIENCE_CHOICES, AUDIENCE_HELP, email_field, language_choices, phone_field
from einstein.auth.models import AgeGroup, Audience
from einstein.forms import BaseForm, MultiCheckboxField, PlainName, choices


class BookForm(BaseForm):
    """Book a place; ``waitlist`` says the person agrees to wait if it is full."""

    waitlist = HiddenField(default="")


class AtLeastOneTicked:
    """At least one box ticked. Unlike DataRequired it sets no ``required`` flag: on checkboxes
    that would make the browser insist on every box."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            raise StopValidation(str(self.message))


class HouseholdBookForm(BaseForm):
    """Book for several people of a household at once: the holder and/or their members.

    ``who``'s choices are set per request (``me`` and each member's id); the boxes come in as
    ticked, in the page's order, which is the order the people are booked in.
    """

    #: The value of the holder's own box (the members' boxes carry their ids).
    ME = "me"

    #: marks the household's form apart from the one-person "book" button on the same address
    household = HiddenField(default="1")
    who = MultiCheckboxField(
        _l("Who is coming?"),
        validators=[AtLeastOneTicked(_l("Please tick at least one person."))],
        description=_l("Those who do not fit go on the waiting list, if there is one."),
    )


class MemberForm(BaseForm):
    """A member of someone's household: a name, an age group and a language, and the consent."""

    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Please type the name.")), Length(max=120), PlainName()]
    )
    age_group = RadioField(
        _l("Age"),
        choices=lambda: choices((g.value, g.label) for g in AgeGroup),
        validators=[InputRequired(message=_l("Please choose an age group."))],
    )
    locale = SelectField(_l("Language"), choices=language_choices, validators=[InputRequired()])
    consent = BooleanField(
        _l("I may share this information for them"),
        description=_l("Only their name, age group and language: einstein keeps nothing else about them."),
        validators=[DataRequired(message=_l("Please tick the box: without it we cannot keep their details."))],
    )


class RemoveMemberForm(BaseForm):
    """Take a person out of the household (after a page that asks)."""


#: How a booking can look to the person who taps "cancel" or "leave the waiting list".
SEEN_STATES = ("confirmed", "waitlisted")
#: A one-tap form whose "seen" state is not one a page shows (forged, or from an old page).
OUT_OF_DATE = _l("This page is out of date. Please open it again and choose once more.")


class CancelForm(BaseForm):
    """Cancel a booking (the confirmation button, or the one tap that leaves a waiting list).

    ``seen`` is how the booking was on the page the person tapped: a place that came free in the
    meantime is not given up by a tap meant for the waiting list; einstein asks again instead.
    """

    seen = HiddenField(validators=[Optional(), AnyOf(SEEN_STATES, message=OUT_OF_DATE)])


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
    #: The people shown as possibly the same, whom the coordinator saw and said are someone else.
    seen = HiddenField(default="", validators=[Length(max=200)])


class DeskEditForm(BaseForm):
    """Correct the record of someone registered at the desk."""

    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Please type the name.")), Length(max=120), PlainName()]
    )
    phone = phone_field(
        _l("Phone number (optional)"),
        render_kw={"inputmode": "tel"},
        description=_l("Given here in person, a number counts as theirs: texts go to it at once."),
    )
    email = email_field(
        _l("E-mail address (optional)"),
        description=_l("A new address gets a link to confirm it; until then nothing is sent there."),
    )
    locale = SelectField(_l("Language"), choices=language_choices, validators=[InputRequired()])
    audience = RadioField(
        _l("About them (only if they want to say)"),
        choices=AUDIENCE_CHOICES,
        description=AUDIENCE_HELP,
        validators=[InputRequired()],
    )


class DeskBookForm(BaseForm):
    """Book a participant onto a course or a session from the desk's list."""

    #: "offer-12" (a course) or "session-34" (an activity session), as the list gives it
    target = HiddenField(
        _l("Course or session"),
        validators=[InputRequired(message=_l("Please choose what to book.")), Length(max=40)],
    )
    waitlist = BooleanField(_l("Put them on the waiting list if it is full"), default=True)
    #: For someone with a household: who is coming ("me" is the person, the others members' ids),
    #: booked in this order; none ticked books the person alone. Choices are set per request.
    who = MultiCheckboxField(_l("Who is coming?"))  # not Optional(): it would clear a wrong choice's error


class DeskListForm(BaseForm):
    """Search the desk's list of what can be booked (by words of the title)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Find a course or activity"),
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search"},
    )


class DeskCancelForm(BaseForm):
    """Cancel someone's place at the desk: who asked for it decides what they are told."""

    asked = RadioField(
        _l("Who wants this?"),
        choices=choices(
            [
                ("yes", _l("They asked for it (they are here, or called)")),
                ("no", _l("We cancel it (they did not ask): they are told it was the organiser")),
            ]
        ),
        default="yes",
        validators=[InputRequired(message=_l("Please say who wants this."))],
    )
    #: The state the coordinator's page showed (as ``CancelForm.seen``): checked under the lock.
    seen = HiddenField(validators=[Optional(), AnyOf(SEEN_STATES, message=OUT_OF_DATE)])


class MergeForm(BaseForm):
    """Choose the details to keep when two records of one person become one."""

    name = RadioField(_l("Name"), validators=[Optional()])
    phone = RadioField(_l("Phone number"), validators=[Optional()])
    email = RadioField(_l("E-mail address"), validators=[Optional()])
    locale = RadioField(_l("Language"), validators=[Optional()])
    audience = RadioField(_l("About them"), validators=[Optional()])
    confirm = BooleanField(
        _l("I checked: these two are one and the same person"),
        validators=[DataRequired(message=_l("Please check that they are the same person, and tick the box."))],
    )
