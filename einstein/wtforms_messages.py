"""WTForms' built-in messages, listed here so that they are extracted into einstein's catalogues.

``einstein.forms.BaseForm`` translates them with those catalogues, which cover every language
einstein serves (WTForms' own translations do not include Tigrinya or Somali).
"""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _n

MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid datetime value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid Choice: could not coerce."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Field must be equal to %(other_name)s."),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
    _n("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    _n("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    _n("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _n("'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1),
)
