"""Languages, locale choice and the date and number formats shown to people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_interval, match_skeleton, tokenize_pattern, untokenize_pattern
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import force_locale, format_datetime, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
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


#: The query parameter that carries the language of the message a link came from (``?lang=ti``).
LANG_PARAMETER = "lang"


def select_locale() -> str:
    """Choose the page language: a link's ``?lang=``, the choice made on this device (the
    switcher, or an earlier link), the signed-in person's language, then the browser's.

    The page language is the device's, kept in the session: switching it never changes the
    language einstein writes to the person in (``User.locale``, chosen on the profile), so a
    volunteer helping on someone's phone leaves that person's e-mails as they were.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
    linked = link_language()
    if linked is not None:
        return linked
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return visitor_language(None, request.headers.get("Accept-Language"))


def link_language() -> str | None:
    """The language a link in a message asks for (``?lang=ti``), if it is one einstein speaks."""
    if request.method not in ("GET", "HEAD"):
        return None
    asked = request.args.get(LANG_PARAMETER)
    return asked if asked in LANGUAGES else None


def remember_link_language() -> None:
    """Keep the language of a followed link for the rest of the visit: someone who opened a
    Tigrinya e-mail's link reads on in Tigrinya, signed in or not (the page language only)."""
    linked = link_language()
    if linked is not None and session.get("lang") != linked:
        session["lang"] = linked


def visitor_language(chosen: object, accept_language: str | None) -> str:
    """The language for someone not signed in: the switcher's choice, then the browser's."""
    if chosen in LANGUAGES:
        return str(chosen)
    return parse_accept_header(accept_language, LanguageAccept).best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    """Show every time in Utrecht's zone, whatever the server's."""
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def current_translations() -> NullTranslations:
    """This request's translations, found once per language.

    Flask-Babel looks them up again on every ``_()`` (the request's context three times, the
    locale's name rebuilt for a dictionary key): a page has a hundred. Kept on ``g`` with the
    locale they are for, so a part of a page written in another language (``in_language``,
    Flask-Babel's ``force_locale``) gets its own and the page around it its own again.
    """
    locale = get_locale()
    if locale is None:  # outside the app: Flask-Babel's answer (no translation)
        return cast(NullTranslations, get_translations())
    memo = g.get("einstein_translations")
    if memo is not None and memo[0] is locale:
        return cast(NullTranslations, memo[1])
    translations = cast(NullTranslations, get_translations())
    g.einstein_translations = (locale, translations)
    return translations


def current_language() -> Language:
    """Return the active language, falling back to the default. Kept on ``g`` with the locale it
    is for, as ``current_translations`` is: a page asks a dozen times (its ``lang`` and ``dir``,
    each offer's text), and naming the locale each time cost more than the rest."""
    locale = get_locale()
    if locale is None:
        return LANGUAGES[DEFAULT_LANGUAGE]
    memo = g.get("einstein_language")
    if memo is not None and memo[0] is locale:
        return cast(Language, memo[1])
    language = LANGUAGES.get(str(locale), LANGUAGES[DEFAULT_LANGUAGE])
    g.einstein_language = (locale, language)
    return language


def local(dt: datetime) -> datetime:
    """Convert an aware datetime to Amsterdam time."""
    return dt.astimezone(TIMEZONE)


#: The conventions a language's dates are written in, where the bare language is not the one
#: meant: English in Utrecht writes the day before the month, as in Britain.
DATE_LOCALES = {"en": "en_GB"}


def _date_locale() -> Locale:
    code = str(get_locale() or DEFAULT_LANGUAGE)
    return _locale(DATE_LOCALES.get(code, code))


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@cache
def skeleton_pattern(skeleton: str, locale: Locale) -> str:
    """The locale's own pattern for a skeleton (its order and punctuation), with the fields as
    wide as the skeleton asks: CLDR's rule, which Babel's ``format_skeleton`` leaves out, so
    that "MMMMEEEEd" is "24 Kasım Salı" in Turkish and not "24 Kas Sal"."""
    best = match_skeleton(skeleton, locale.datetime_skeletons)
    if best is None:
        return skeleton
    wanted: dict[str, int] = {}
    for char in skeleton:
        key = "M" if char == "L" else char
        wanted[key] = wanted.get(key, 0) + 1
    tokens: list[tuple[str, str | tuple[str, int]]] = []
    for kind, value in tokenize_pattern(locale.datetime_skeletons[best].pattern):
        if kind == "field" and isinstance(value, tuple):
            char, width = str(value[0]), int(value[1])
            asked = wanted.get("M" if char == "L" else char, 0)
            # only names widen (a weekday or a month written out); numbers keep the locale's form
            if (char in "Ec" or (char in "ML" and width >= 3)) and asked > max(width, 3):
                value = (char, asked)
        tokens.append((kind, value))
    return str(untokenize_pattern(tokens))


def format_skeleton(value: date | datetime, skeleton: str, locale: Locale | None = None) -> str:
    """``value`` as the reader's language (or ``locale``) writes what ``skeleton`` asks for, in
    Utrecht time."""
    locale = locale or _date_locale()
    moment = local(value) if isinstance(value, datetime) else datetime.combine(value, time(12), TIMEZONE)
    return str(babel_format_datetime(moment, skeleton_pattern(skeleton, locale), tzinfo=TIMEZONE, locale=locale))


def _join(day: str, clock: str, locale: Locale) -> str:
    """A day and a time, joined as the language joins them ("{1}, {0}", "{1}، {0}", "{1} {0}")."""
    glue = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return glue.replace("{1}", day).replace("{0}", clock)


#: Unicode's first-strong isolate and its end (UAX #9): the text between takes the direction of
#: its first letter, or left to right without one, whatever surrounds it.
FIRST_STRONG_ISOLATE, POP_ISOLATE = "\u2068", "\u2069"


def isolate(text: str, locale: Locale) -> str:
    """A time or a range of times, isolated inside right-to-left text.

    In Arabic "10:00–12:00" shows as "12:00–10:00": the dash between two numbers takes the
    direction around it. Isolated, the range reads as it is written; a range written with a word
    ("10:00 تا 12:00" in Farsi) keeps the word's direction. Left-to-right languages get the text
    as it is (a text message in Latin letters stays in the GSM alphabet). Characters rather than
    ``<bdi>``, so that the same text serves pages, plain-text e-mails and subjects.
    """
    if locale.character_order != "right-to-left":
        return text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_ISOLATE}"


def format_when(start: datetime, end: datetime | None = None) -> str:
    """A session's time as people read it, in their language's order and punctuation: e.g.
    'dinsdag 24 november, 19:00–21:00', 'Tuesday 24 November, 19:00–21:00',
    '24 Kasım Salı 19:00–21:00', 'الثلاثاء، 24 نوفمبر، 19:00–21:00' (times on the 24-hour clock)."""
    return _when(start, end, _date_locale())


@lru_cache(maxsize=4096)
def _when(start: datetime, end: datetime | None, locale: Locale) -> str:
    """``format_when`` in ``locale``, written once per session and language: a listing shows the
    same times on every page, and a worker's reminders of one session share theirs (Babel's
    patterns and intervals cost a tenth of a millisecond each time)."""
    day = format_skeleton(start, "MMMMEEEEd", locale)
    if end is None:
        clock = str(babel_format_datetime(local(start), skeleton_pattern("Hm", locale), tzinfo=TIMEZONE, locale=locale))
        return _join(day, isolate(clock, locale), locale)
    if local(end).date() == local(start).date():
        clock = str(format_interval(local(start), local(end), "Hm", tzinfo=TIMEZONE, locale=locale))
        return _join(day, isolate(clock, locale), locale)
    fallback = str(locale.interval_formats.get(None, "{0} – {1}"))
    return fallback.replace("{0}", _when(start, None, locale)).replace("{1}", _when(end, None, locale))


def format_short_when(value: datetime) -> str:
    """A moment as short as a text message needs it, in the reader's language: 'Tue 24/11 19:00'
    (day before month, as in every language einstein speaks)."""
    return str(format_datetime(value, "EEE d/M HH:mm"))


def format_day(value: date | datetime) -> str:
    """A day as the reader's language writes it, e.g. 'dinsdag 24 november', '24 Kasım Salı'."""
    return format_skeleton(value, "MMMMEEEEd")


def format_day_year(value: date | datetime) -> str:
    """A day with its year, for documents such as statements, e.g. '24 november 2026'."""
    return format_skeleton(value, "yMMMMd")


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
    """A month as people name it, e.g. 'november 2026', 'листопад 2026 р.'."""
    return format_skeleton(value, "yMMMM")


def format_date_short(value: date | datetime) -> str:
    """A short date for table headings, e.g. '24 nov', 'Nov 24' in Somali's order."""
    return format_skeleton(value, "MMMd")


def local_today() -> date:
    """Today's date in Utrecht."""
    return utcnow().astimezone(TIMEZONE).date()


def days_from_today(days: int) -> str:
    """The date ``days`` after today in Utrecht, as YYYY-MM-DD (0 is today)."""
    return (local_today() + timedelta(days=days)).isoformat()


def reference(value: object) -> Markup:
    """A booking reference in a page: left to right whatever the page's direction, and on one
    line (``K7MQ-4X9A`` is never broken at its dash)."""
    return Markup('<bdi dir="ltr" class="nowrap">%s</bdi>') % value


def in_language(code: str, caller: Callable[[], str]) -> Markup:
    """Write a part of a page in another language: ``{% call in_language(person.locale) %}``.

    A printed document for someone (their booking card) is in their language, while the page
    around it (the menu, the buttons) stays in the reader's.
    """
    with force_locale(code if code in LANGUAGES else DEFAULT_LANGUAGE):
        return Markup(caller())  # noqa: S704 - the block was rendered (and escaped) by Jinja


def language_of(code: str) -> Language:
    """The language with this code (the default one for an unknown code)."""
    return LANGUAGES.get(code, LANGUAGES[DEFAULT_LANGUAGE])


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in templates, as Jinja's "new style" gettext has them (the text
    marked safe where the template escapes, and always a format string: "%%" is a "%" with or
    without variables), in one call instead of three through the context: a page says a hundred.
    """
    text = current_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the translators' words, as Jinja's own gettext has them
    return text % variables if variables or "%" in text else text


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    """``ngettext()`` in templates, as Jinja's "new style" one (``num`` given to the format)."""
    variables.setdefault("num", num)
    text = current_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - as above
    return text % variables


def init_app(app: Flask) -> None:
    """Expose the language helpers to templates; keep the language of a followed link."""
    app.before_request(remember_link_language)
    # the templates' gettext functions through the request's translations, found once (above), in
    # Jinja's new style; then _(), gettext() and ngettext(), said a hundred times a page, replaced
    # by the same in one call each (pgettext() and npgettext() stay Jinja's: no template says them)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.globals["in_language"] = in_language
    app.jinja_env.globals["language_of"] = language_of
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["reference"] = reference
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["day_year"] = format_day_year
    app.jinja_env.filters["short_when"] = format_short_when
    app.jinja_env.filters["format_date_short"] = format_date_short
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["days_from_today"] = days_from_today
