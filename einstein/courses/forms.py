"""Forms for offers, their schedule, sessions, translations and the catalogue filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from einstein.auth.models import Audience
from einstein.bounds import LAST_DAY, in_window
from einstein.courses.models import MAX_HELD_DAYS, Category, DutchLevel, OfferKind
from einstein.forms import BaseForm, MultiCheckboxField, add_error, choices, filled
from einstein.i18n import LANGUAGES, SPOKEN_LANGUAGES, local_today

MAX_DESCRIPTION = 5000
#: What a course covers fits on a certificate.
MAX_COVERS = 1000
MAX_CAPACITY = 500
#: A coordinator's reason for a no: a few sentences (a text carries the start, "my offers" all).
MAX_REASON = 1000
MAX_SESSIONS = 52

#: Whom places can be held for: the two things a person may say about themselves.
HELD_FOR_CHOICES = [
    (Audience.NEIGHBOUR.value, _l("People from the neighbourhood")),
    (Audience.NEWCOMER.value, _l("People new in the Netherlands")),
]

#: Reminder offsets an organiser can choose; see einstein.notifications.reminders.
REMINDER_CHOICES = [
    ("48h", _l("Two days before")),
    ("24h", _l("One day (24 hours) before")),
    ("morning", _l("On the morning of the session (08:00)")),
    ("2h", _l("Two hours before")),
]


def spoken_language_choices() -> list[Any]:
    return choices((code, label) for code, label in SPOKEN_LANGUAGES.items())


def text_language_choices() -> list[Any]:
    return choices(((code, language.native_name) for code, language in LANGUAGES.items()))


def _not_past(field: Any) -> None:
    if field.data and field.data < local_today():
        raise ValidationError(str(_l("This date is in the past.")))


def _description_field(**kwargs: Any) -> TextAreaField:
    return TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=MAX_DESCRIPTION,
                message=_l("Please keep the description under %(max)d characters.", max=MAX_DESCRIPTION),
            )
        ],
        **kwargs,
    )


class PlaceFields:
    """Choose a known place, or describe a new one."""

    location_id = SelectField(
        _l("Place"),
        coerce=str,
        validators=[Optional()],
        description=_l("Choose a known place, or fill in a new place below."),
    )
    new_place_name = StringField(
        _l("New place: name"), validators=[Optional(), Length(max=120)], description=_l("For example: Buurthuis Lombok")
    )
    new_place_address = StringField(_l("New place: street and number"), validators=[Optional(), Length(max=200)])
    new_place_postcode = StringField(_l("New place: postcode"), validators=[Optional(), Length(max=12)])
    new_place_step_free = BooleanField(_l("New place: reachable without steps (wheelchair, pram)"))

    def validate_place(self) -> bool:
        has_new = bool(self.new_place_name.data or self.new_place_address.data)
        if has_new and not (self.new_place_name.data and self.new_place_address.data):
            add_error(self.new_place_address, str(_l("A new place needs a name and a street.")))
            return False
        if not has_new and not self.location_id.data:
            add_error(self.location_id, str(_l("Please choose a place, or fill in a new one.")))
            return False
        return True

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        return self.validate_place() and bool(valid)


class TimeFields:
    """A start and an end time; an end earlier than the start is on the next day."""

    start_time = TimeField(_l("Starts at"), validators=[InputRequired(message=_l("Please give a start time."))])
    end_time = TimeField(
        _l("Ends at"),
        validators=[InputRequired(message=_l("Please give an end time."))],
        description=_l("Ends after midnight? Give the time on the next day, for example 20:00 to 01:00."),
    )

    def validate_end_time(self, field: Any) -> None:
        if field.data and self.start_time.data and field.data == self.start_time.data:
            raise ValidationError(str(_l("The end cannot be the same time as the start.")))


class ScheduleFields(TimeFields):
    """When the sessions are: a first date, a time, and how often."""

    first_date = DateField(
        _l("Date (of the first session)"), validators=[InputRequired(message=_l("Please choose a date."))]
    )
    repeat = RadioField(
        _l("How often"),
        choices=choices([("once", _l("Once")), ("weekly", _l("Every week")), ("fortnightly", _l("Every two weeks"))]),
        default="once",
        validators=[InputRequired()],
    )
    count = IntegerField(
        _l("Number of sessions"),
        default=1,
        validators=[
            InputRequired(message=_l("Please give a number.")),
            NumberRange(min=1, max=MAX_SESSIONS, message=_l("Between 1 and %(max)d sessions.", max=MAX_SESSIONS)),
        ],
    )

    def validate_first_date(self, field: Any) -> None:
        _not_past(field)

    def validate_count(self, field: Any) -> None:
        """The whole series, not only its first session, must fall inside the days einstein plans."""
        first_date, repeat = self.first_date, self.repeat
        if field.errors or first_date.errors or repeat.errors or not first_date.data:
            return
        last = first_date.data + timedelta(weeks=(self.session_count - 1) * self.every_weeks)
        if not in_window(last):
            raise ValidationError(
                str(
                    _l(
                        "The last session would be after %(last)s. Please choose an earlier date or fewer sessions.",
                        last=format_date(LAST_DAY, "long"),
                    )
                )
            )

    @property
    def every_weeks(self) -> int:
        return {"once": 0, "weekly": 1, "fortnightly": 2}[self.repeat.data]

    @property
    def session_count(self) -> int:
        return 1 if self.repeat.data == "once" else filled(self.count.data)


class OfferForm(PlaceFields, BaseForm):
    """What an offer says: title, description, category, languages, place, places."""

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Please give a title.")), Length(max=200)])
    description = _description_field(
        description=_l("What will people do? What should they bring? Plain words help everyone.")
    )
    language = SelectField(_l("Language of this text"), choices=text_language_choices, validators=[InputRequired()])
    category = SelectField(
        _l("Category"), choices=lambda: choices((c.value, c.label) for c in Category), validators=[InputRequired()]
    )
    languages = MultiCheckboxField(
        _l("Languages spoken in the sessions"),
        choices=spoken_language_choices,
        validators=[DataRequired(message=_l("Please choose at least one language."))],
    )
    dutch_level = SelectField(
        _l("Dutch needed"),
        choices=lambda: choices((d.value, d.label) for d in DutchLevel),
        validators=[InputRequired()],
    )
    organisation_id = SelectField(_l("Partner organisation"), coerce=str, validators=[Optional()])
    new_organisation = StringField(_l("Or a new partner organisation"), validators=[Optional(), Length(max=120)])
    contact = StringField(
        _l("Who to contact"),
        validators=[Optional(), Length(max=200)],
        description=_l("A name and a phone number or e-mail address, shown to people who book."),
    )
    capacity = IntegerField(
        _l("Places"),
        validators=[
            InputRequired(message=_l("Please give the number of places.")),
            NumberRange(min=1, max=MAX_CAPACITY, message=_l("Between 1 and %(max)d places.", max=MAX_CAPACITY)),
        ],
    )
    waitlist_enabled = BooleanField(_l("Keep a waiting list when it is full"), default=True)
    promotion_hold = BooleanField(
        _l("Ask before giving a free place to the next person on the waiting list"),
        description=_l(
            "We keep the place for them and ask (by e-mail or text message) whether they still want it. "
            "Without an answer in time, it goes to the next person."
        ),
    )
    promotion_hours = IntegerField(
        _l("Hours to answer"),
        default=24,
        validators=[Optional(), NumberRange(min=1, max=72, message=_l("Choose between 1 and 72 hours."))],
        description=_l("Shorter when the session is near."),
    )
    held_places = IntegerField(
        _l("Places held for the mix"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_CAPACITY, message=_l("Between 0 and %(max)d places.", max=MAX_CAPACITY)),
        ],
        description=_l(
            "Keep some places for people who said on their account that they are from the neighbourhood "
            "(or new in the Netherlands), so that both come. Everyone else, also someone who said nothing, "
            "can book the other places. Nobody sees who said what. 0: no places held."
        ),
    )
    held_for = RadioField(
        _l("Held for"),
        choices=lambda: choices(HELD_FOR_CHOICES),
        default=Audience.NEIGHBOUR.value,  # also when a form leaves it out; anything else is not a choice
    )
    held_days = IntegerField(
        _l("Open to everyone this many days before the start"),
        default=7,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_HELD_DAYS, message=_l("Between 0 and %(max)d days.", max=MAX_HELD_DAYS)),
        ],
        description=_l("Before the first session of a course, before each session of an activity."),
    )
    reminder_offsets = MultiCheckboxField(
        _l("Reminders (by e-mail or text message)"), choices=lambda: choices(REMINDER_CHOICES)
    )
    completion_threshold = IntegerField(
        _l("Certificate after this share of sessions (%)"),
        default=80,
        validators=[Optional(), NumberRange(min=1, max=100, message=_l("Between 1 and 100."))],
    )
    covers = TextAreaField(
        _l("What the course covers"),
        validators=[Length(max=MAX_COVERS, message=_l("Please keep this under %(max)d characters.", max=MAX_COVERS))],
        description=_l("A few lines for the certificate, e.g. “Writing a business plan; pitching; tax basics”."),
    )

    def validate_held_places(self, field: Any) -> None:
        capacity = self.capacity.data
        if field.data and not self.capacity.errors and capacity is not None and field.data > capacity:
            raise ValidationError(str(_l("No more places can be held than there are places (%(num)d).", num=capacity)))


class NewOfferForm(ScheduleFields, OfferForm):
    """A new offer with its first sessions."""


class SessionForm(PlaceFields, TimeFields, BaseForm):
    """Change one session: its time, place, places and languages."""

    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Please choose a date."))])
    capacity = IntegerField(
        _l("Places"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_CAPACITY, message=_l("Between 1 and %(max)d places.", max=MAX_CAPACITY)),
        ],
    )
    languages = MultiCheckboxField(
        _l("Languages spoken"),
        choices=spoken_language_choices,
        validators=[DataRequired(message=_l("Please choose at least one language."))],
    )

    def validate_day(self, field: Any) -> None:
        _not_past(field)


class AddSessionsForm(ScheduleFields, BaseForm):
    """More sessions for an existing offer."""


class TranslationForm(BaseForm):
    """The title and description in another language."""

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Please give a title.")), Length(max=200)])
    description = _description_field()


class ConfirmForm(BaseForm):
    """A confirmation before something is destroyed, with an optional message."""

    message = TextAreaField(_l("Message to the people booked (optional)"), validators=[Optional(), Length(max=1000)])


class RejectForm(BaseForm):
    """A coordinator's decision on a change, with a reason for the volunteer when it is a no."""

    reason = TextAreaField(
        _l("Why not (the volunteer gets these words)"),
        validators=[
            DataRequired(message=_l("Please tell the volunteer why (they get your words).")),
            Length(max=MAX_REASON, message=_l("Please keep this under %(max)d characters.", max=MAX_REASON)),
        ],
    )


class FilterForm(BaseForm):
    """The catalogue's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)], render_kw={"type": "search"})
    kind = SelectField(
        _l("Kind"),
        choices=lambda: choices([("", _l("Courses and activities")), *((k.value, k.label) for k in OfferKind)]),
        validators=[Optional()],
    )
    category = SelectField(
        _l("Category"),
        choices=lambda: choices([("", _l("All categories")), *((c.value, c.label) for c in Category)]),
        validators=[Optional()],
    )
    language = SelectField(
        _l("Language spoken"),
        choices=lambda: choices([("", _l("Any language")), *SPOKEN_LANGUAGES.items()]),
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    free = BooleanField(_l("Only with free places"))

    def validate_date_to(self, field: Any) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(str(_l("The end date is before the start date.")))


class TranslatorLanguagesForm(BaseForm):
    """The languages a person may translate offers into."""

    languages = MultiCheckboxField(
        _l("Translates into"),
        choices=text_language_choices,
        validators=[Optional()],
        description=_l("Their translations wait for a coordinator, unless they are trusted."),
    )


class TranslationRejectForm(BaseForm):
    """A coordinator's no to a held translation, with the reason its translator sees."""

    reason = TextAreaField(
        _l("Why not (the translator sees this)"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Please keep this under %(max)d characters.", max=1000)),
        ],
    )


class NoticeBoardForm(BaseForm):
    """A week's programme at one place for the notice board, in one or two languages (a GET
    form: it changes nothing; the choices are set by the view)."""

    class Meta:
        csrf = False

    location = SelectField(_l("Place"), coerce=str, validators=[InputRequired(message=_l("Please choose a place."))])
    week = SelectField(_l("Week"), coerce=str, validators=[InputRequired(message=_l("Please choose a week."))])
    first = SelectField(
        _l("First language (printed larger)"),
        choices=text_language_choices,
        validators=[InputRequired(message=_l("Please choose a language."))],
    )
    second = SelectField(
        _l("Second language"),
        coerce=str,
        validators=[Optional()],
        description=_l("For example Arabic or Tigrinya for the AZC. Leave empty for one language."),
    )

    def validate_second(self, field: Any) -> None:
        if field.data and field.data == self.first.data:
            raise ValidationError(str(_l("Please choose two different languages, or leave the second empty.")))
