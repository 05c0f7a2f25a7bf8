"""Languages, locale choice and the date and number formats shown to people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from einstein.db import utcnow

TIMEZONE = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Language:
    """A language einstein's pages and e-mails are written in."""

    code: str
    #: The language's name in its own script, as the switcher shows it.
    native_name: str
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


#: The languages served, in the order the switcher lists them.
LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("nl", "Nederlands"),
        Language("en", "English"),
        Language("ar", "العربية", rtl=True),
        Language("ti", "ትግርኛ"),
        Language("fa", "فارسی", rtl=True),
        Language("tr", "Türkçe"),
        Language("so", "Soomaali"),
        Language("uk", "Українська"),
    )
}
DEFAULT_LANGUAGE = "nl"

#: Languages that may be spoken in a session: wider than the interface languages.
SPOKEN_LANGUAGES: dict[str, object] = {
    "nl": _l("Dutch"),
    "en": _l("English"),
    "ar": _l("Arabic"),
    "ti": _l("Tigrinya"),
    "fa": _l("Farsi / Dari"),
    "tr": _l("Turkish"),
    "so": _l("Somali"),
    "uk": _l("Ukrainian"),
    "ru": _l("Russian"),
    "ku": _l("Kurdish"),
    "am": _l("Amharic"),
    "fr": _l("French"),
    "es": _l("Spanish"),
    "ps": _l("Pashto"),
}


def select_locale() -> str:
    """Choose the page language: the profile, then the switcher, then the browser."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return visitor_language(session.get("lang"), request.headers.get("Accept-Language"))


def visitor_language(chosen: object, accept_language: str | None) -> str:
    """The language for someone not signed in: the switcher's choice, then the browser's."""
    if chosen in LANGUAGES:
        return str(chosen)
    return parse_accept_header(accept_language, LanguageAccept).best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    """Show every time in Utrecht's zone, whatever the server's."""
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def current_language() -> Language:
    """Return the active language, falling back to the default."""
    return LANGUAGES.get(str(get_locale() or DEFAULT_LANGUAGE), LANGUAGES[DEFAULT_LANGUAGE])


def local(dt: datetime) -> datetime:
    """Convert an aware datetime to Amsterdam time."""
    return dt.astimezone(TIMEZONE)


def format_when(start: datetime, end: datetime | None = None) -> str:
    """Format a session's time as people read it, e.g. 'Tuesday 24 November, 19:00–21:00'."""
    text = str(format_datetime(start, "EEEE d MMMM, HH:mm"))
    if end is not None:
        if local(end).date() == local(start).date():
            text += "–" + format_time(end, "HH:mm")
        else:
            text += " – " + format_datetime(end, "EEEE d MMMM, HH:mm")
    return text


def format_short_when(value: datetime) -> str:
    """A moment as short as a text message needs it, in the reader's language: 'Tue 24/11 19:00'
    (day before month, as in every language einstein speaks)."""
    return str(format_datetime(value, "EEE d/M HH:mm"))


def format_day(value: date | datetime) -> str:
    """Format a day as 'Tuesday 24 November'."""
    return str(format_date(value, "EEEE d MMMM"))


def language_name(code: str) -> str:
    """Name a spoken language in the reader's language."""
    label = SPOKEN_LANGUAGES.get(code)
    if label is not None:
        return str(label)
    try:
        return Locale.parse(code).get_display_name(str(get_locale())) or code
    except (ValueError, TypeError):
        return code


def format_month(value: date | datetime) -> str:
    """A month as people name it, e.g. 'November 2026'."""
    return str(format_date(value, "LLLL y"))


def format_date_short(value: date | datetime) -> str:
    """A short date for table headings, e.g. '24 Nov'."""
    return str(format_date(value, "d MMM"))


def local_today() -> date:
    """Today's date in Utrecht."""
    return utcnow().astimezone(TIMEZONE).date()


def days_from_today(days: int) -> str:
    """The date ``days`` after today in Utrecht, as YYYY-MM-DD (0 is today)."""
    return (local_today() + timedelta(days=days)).isoformat()


def init_app(app: Flask) -> None:
    """Expose the language helpers to templates."""
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["short_when"] = format_short_when
    app.jinja_env.filters["format_date_short"] = format_date_short
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["days_from_today"] = days_from_today
