"""Checks on what people type, shared by forms and the command line."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
#: Words zxcvbn (English-centred) does not know but that everyone here would try first.
LOCAL_WORDS = ("einstein", "utrecht", "wachtwoord", "welkom", "geheim", "nederland", "holland", "wachtwoord123")


@cache
def common_passwords() -> frozenset[str]:
    """Return the 30,000 most common passwords that zxcvbn ships."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, personal: tuple[str, ...] = ()) -> str | None:
    """Return what is wrong with a new password, or None if it is fine.

    ``personal`` holds the person's name and e-mail address, which must not make up the password.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return str(_("Use at most %(num)d characters.", num=MAX_PASSWORD_LENGTH))
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in password):
        return str(_("The password contains a character that cannot be typed."))
    lowered = password.lower()
    words = [part for text in personal for part in re.split(r"[\s@._+-]+", text.lower()) if len(part) > 1]
    hints = [*LOCAL_WORDS, *(text.lower() for text in personal if text), *words]
    tokens = [t for t in re.split(r"[\W_]+", lowered) if t]
    only_personal = bool(words) and all(token in words or token.isdigit() for token in tokens)
    squeezed = "".join(tokens)[:100]
    too_easy = (
        lowered in common_passwords()
        or only_personal
        or zxcvbn(password[:100], user_inputs=hints)["score"] < 2
        or (squeezed != lowered and zxcvbn(squeezed, user_inputs=hints)["score"] < 2)
    )
    if too_easy:
        return str(_("This password is too easy to guess. Try a few words that belong together only for you."))
    return None
