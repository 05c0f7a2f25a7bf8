"""Phone numbers, read the way people in the Netherlands write them."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str | None, region: str = "NL") -> str | None:
    """Return the number in E.164 (``+31612345678``), or None if it is not a possible number."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 32:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """Format a stored number for reading, e.g. ``06 12345678``."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 31
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
