"""Forms of the public check of a certificate's code and of revoking one.

Apart from ``forms.py``, which other parts of attendance change at the same time; the same
``BaseForm`` (text tidied, hostile characters refused).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from einstein.attendance.credentials import MAX_REASON, MAX_TYPED
from einstein.forms import BaseForm


class CheckForm(BaseForm):
    """The code printed on a certificate or statement, typed by whoever wants to check it."""

    class Meta:
        csrf = False  # a public GET form that changes nothing

    code = StringField(
        _l("Code on the document"),
        validators=[
            DataRequired(message=_l("Please type the code printed on the document.")),
            Length(max=MAX_TYPED, message=_l("A code has 12 letters and digits, for example K7MQ-4X9A-B3CP.")),
        ],
        description=_l("For example K7MQ-4X9A-B3CP. Capitals or not, with or without the dashes."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class RevokeForm(BaseForm):
    """Why a certificate or statement is revoked (kept in the audit trail)."""

    reason = TextAreaField(
        _l("Why is it revoked?"),
        validators=[
            DataRequired(message=_l("Please say why it is revoked.")),
            Length(max=MAX_REASON, message=_l("Please keep this under %(max)d characters.", max=MAX_REASON)),
        ],
        description=_l("Only coordinators see this. The public check says only that it was revoked, and when."),
    )
