"""Forms for signing up, signing in, the profile, passwords and roles."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2's
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, ValidationError

from einstein.auth.models import Audience, Role
from einstein.auth.phones import normalise_phone
from einstein.auth.validation import MAX_PASSWORD_LENGTH, password_problem
from einstein.forms import BaseForm, PlainName, add_error, choices
from einstein.i18n import LANGUAGES

AUDIENCE_CHOICES = choices(
    [
        (Audience.NEWCOMER.value, _l("I am new in the Netherlands")),
        (Audience.NEIGHBOUR.value, _l("I live in the neighbourhood")),
        (Audience.UNSAID.value, _l("I'd rather not say")),
    ]
)
AUDIENCE_HELP = _l(
    "Optional. Only counted in anonymous totals, to see that newcomers and neighbours meet. Nobody sees your answer."
)


def language_choices() -> list[SelectChoice]:
    """Each language in its own name, marked with its language for screen readers."""
    return [SelectChoice(code, language.native_name, render_kw={"lang": code}) for code, language in LANGUAGES.items()]


class PhoneNumber:
    """Accept a phone number as people write it and keep it as +31612345678."""

    def __call__(self, form: BaseForm, field: Any) -> None:
        if not field.data:
            return
        normalised = normalise_phone(field.data)
        if normalised is None:
            raise ValidationError(str(_l("Please type a phone number, for example 06 12345678.")))
        field.data = normalised


def own_name_field() -> StringField:
    """The person's own name: required, at most 120 characters, plain text."""
    return StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("Please type your name.")), Length(max=120), PlainName()],
        render_kw={"autocomplete": "name"},
    )


def email_field(label: Any, *, required: bool = False, **kwargs: Any) -> EmailField:
    """An e-mail address field: checked, at most 254 characters, kept in lower case."""
    first = DataRequired(message=_l("Please type your e-mail address.")) if required else Optional()
    return EmailField(
        label,
        validators=[
            first,
            Length(max=254),
            Email(message=_l("Please type an e-mail address, for example name@example.org.")),
        ],
        filters=[lambda v: v.lower() if isinstance(v, str) else v],
        **kwargs,
    )


def phone_field(label: Any, **kwargs: Any) -> TelField:
    """An optional phone number, kept as +31612345678."""
    return TelField(label, validators=[Optional(), Length(max=32), PhoneNumber()], **kwargs)


class ContactMixin:
    """E-mail and phone, of which at least one is needed."""

    email = email_field(
        _l("E-mail address"),
        description=_l("For confirmations and reminders. Leave it empty if you have none."),
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    phone = phone_field(
        _l("Phone number"),
        description=_l("Optional. You can sign in with your phone number instead of an e-mail address."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        if not self.email.data and not self.phone.data and not self.email.errors and not self.phone.errors:
            add_error(self.phone, str(_l("Please give an e-mail address or a phone number (or both).")))
            return False
        return bool(valid)


def _new_password_field(label: Any) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message=_l("Please choose a password.")), Length(max=MAX_PASSWORD_LENGTH)],
        description=_l("At least 10 characters. A few words that belong together only for you work well."),
        render_kw={"autocomplete": "new-password"},
    )


class SignupForm(ContactMixin, BaseForm):
    """A participant makes an account."""

    name = own_name_field()
    password = _new_password_field(_l("Password"))
    password_again = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(message=_l("Please type the password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    locale = SelectField(_l("Language for pages and messages"), choices=language_choices, validators=[InputRequired()])
    audience = RadioField(
        _l("About you"),
        choices=AUDIENCE_CHOICES,
        default=Audience.UNSAID.value,
        description=AUDIENCE_HELP,
        validators=[InputRequired()],
    )
    accept_privacy = BooleanField(
        _l("I have read how einstein uses my data"),
        validators=[DataRequired(message=_l("Please read the privacy page and tick the box."))],
    )

    def validate_password(self, field: Any) -> None:
        problem = password_problem(field.data or "", personal=(self.name.data or "", self.email.data or ""))
        if problem:
            raise ValidationError(problem)


class LoginForm(BaseForm):
    """Sign in with an e-mail address or a phone number."""

    identifier = StringField(
        _l("E-mail address or phone number"),
        validators=[DataRequired(message=_l("Please type your e-mail address or phone number.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Please type your password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(
        _l("Keep me signed in on this device"), description=_l("Do not tick this on a phone you share.")
    )


class ResetRequestForm(BaseForm):
    """Ask for a password reset link."""

    email = email_field(_l("E-mail address"), required=True, render_kw={"autocomplete": "email"})


class NewPasswordForm(BaseForm):
    """Choose a new password (after a reset link, or when changing it)."""

    password = _new_password_field(_l("New password"))
    password_again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Please type the password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    #: Name and e-mail of the person, so the password cannot simply be one of them.
    personal: tuple[str, ...] = ()

    def validate_password(self, field: Any) -> None:
        problem = password_problem(field.data or "", personal=self.personal)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    """Change the password, proving it is you with the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Please type your current password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(ContactMixin, BaseForm):
    """What a person can change about themselves."""

    name = own_name_field()
    #: The language of the person's messages; the pages follow the language chosen on the device.
    locale = SelectField(
        _l("Language of your e-mails and text messages"),
        choices=language_choices,
        validators=[InputRequired()],
        description=_l("The pages on this device follow the language you choose under “Language”."),
    )
    audience = RadioField(
        _l("About you"), choices=AUDIENCE_CHOICES, description=AUDIENCE_HELP, validators=[InputRequired()]
    )
    email_notifications = BooleanField(
        _l("Send me e-mails about my bookings and reminders"),
        description=_l("We only send e-mails to an address you have confirmed."),
    )
    notify_by = RadioField(
        _l("How shall we tell you about your bookings?"),
        choices=lambda: choices([("email", _l("By e-mail")), ("sms", _l("By text message (SMS)"))]),
        validators=[Optional()],
    )
    current_password = PasswordField(
        _l("Current password"),
        validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)],
        description=_l("Needed only to change your e-mail address or phone number."),
        render_kw={"autocomplete": "current-password"},
    )


class DeleteAccountForm(BaseForm):
    """Confirm that the account and its personal data should go."""

    password = PasswordField(
        _l("Your password"),
        validators=[Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("Yes, delete my account and my personal data"),
        validators=[DataRequired(message=_l("Please tick the box to confirm."))],
    )


class RoleForm(BaseForm):
    """Give someone another role."""

    role = SelectField(
        _l("Role"),
        choices=lambda: choices((r.value, r.label) for r in Role),
        validators=[InputRequired()],
    )


class PeopleSearchForm(BaseForm):
    """Find people by name, e-mail or phone (coordinators)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, e-mail or phone"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Role"),
        choices=lambda: choices([("", _l("Everyone")), *((r.value, r.label) for r in Role)]),
        validators=[Optional()],
    )


class ActForPersonForm(BaseForm):
    """A coordinator confirms that the person asked for this (a copy of their data, or erasure)."""

    confirm = BooleanField(
        _l("The person asked for this themselves"),
        validators=[DataRequired(message=_l("Please tick the box to confirm."))],
    )


class PhoneCodeForm(BaseForm):
    """The six digits texted to a phone number."""

    code = StringField(
        _l("Code from the text message"),
        validators=[DataRequired(message=_l("Please type the code from the text message.")), Length(max=12)],
        # no pattern: a phone set to Arabic or Farsi types its own digits, which count the same
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
