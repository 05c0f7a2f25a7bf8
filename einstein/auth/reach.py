"""How einstein reaches a person: by e-mail, by SMS, or (when neither works) by a coordinator's call.

A person can be reached by e-mail at a confirmed address they want e-mails at, and by SMS at a
verified number that has not answered STOP. When both work, they choose (``notify_by``);
otherwise the one that works is used. Nobody is silently unreachable: a message that matters
for someone with neither goes on the coordinators' call list.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from einstein.auth.models import User
from einstein.notifications.channels import CALL

EMAIL, SMS = "email", "sms"

#: What the screens say about how a person will be told.
TOLD = {
    EMAIL: _l("We tell you by e-mail."),
    SMS: _l("We tell you by text message (SMS)."),
    CALL: _l("We cannot send you messages yet: the desk will call you when something changes."),
}
#: The same, about someone else (for coordinators and volunteers).
TOLD_ABOUT = {
    EMAIL: _l("by e-mail"),
    SMS: _l("by text message"),
    CALL: _l("by a call from the desk"),
}


def channels_of(user: User) -> list[str]:
    """The ways the person can be reached now, the one they prefer first."""
    working = [name for name, ok in ((EMAIL, user.wants_email), (SMS, user.wants_sms)) if ok]
    if user.notify_by in working:
        working.remove(user.notify_by)
        working.insert(0, user.notify_by)
    return working


def channel_for(user: User) -> str:
    """How messages reach this person now: their preferred working channel, else a call."""
    working = channels_of(user)
    return working[0] if working else CALL


def told(user: User) -> str:
    """ "We tell you by ...", as the person's own screens say it."""
    return str(TOLD[channel_for(user)])


def told_about(user: User) -> str:
    """ "by e-mail", "by text message" or "by a call from the desk", about someone else."""
    return str(TOLD_ABOUT[channel_for(user)])
