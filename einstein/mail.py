"""Build e-mails from templates in the recipient's language, and hand them to a mail server.

In development (no SMTP_HOST) messages are written as ``.eml`` files to ``instance/mail/``,
which any mail program opens. With SMTP_HOST they go to that server.
"""

from __future__ import annotations

import re
import secrets
import smtplib
import ssl
import uuid
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template
from flask_babel import force_locale
from jinja2 import Environment
from markupsafe import escape

from einstein.db import utcnow
from einstein.i18n import LANG_PARAMETER
from einstein.urls import external_url


class ContentTypeParams(TypedDict, total=False):
    """Parameters of an attachment's Content-Type header."""

    #: The character set of a text attachment: without it some readers take an Arabic title for Latin-1.
    charset: str
    #: The iTIP method of a calendar (RFC 5546): PUBLISH for an event to put in one's calendar,
    #: CANCEL to take it out again. It must be the same as the calendar's own METHOD.
    method: str


@dataclass
class Attachment:
    """A file sent with an e-mail, such as a calendar (.ics) file."""

    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "calendar"
    params: ContentTypeParams = field(default_factory=ContentTypeParams)


def calendar_attachment(content: bytes, method: str = "PUBLISH") -> Attachment:
    """A calendar file as readers expect it: UTF-8, and the iTIP method in the Content-Type."""
    return Attachment("einstein.ics", content, params={"charset": "utf-8", "method": method})


class TemporaryMailError(Exception):
    """The mail server could not take the message now (4xx, connection lost): try later."""


class MailServerUnavailableError(TemporaryMailError):
    """No connection to the mail server: it cannot be reached, or it refuses the sign-in. No
    message goes until it is back, so a batch need not wait for it once per message."""


class PermanentMailError(Exception):
    """The mail server refused the message for good (5xx, bad address): do not try again."""


@lru_cache(maxsize=2048)
def _header(value: str) -> str:
    """Encode a header once: reminders of one session share their subject line."""
    return value if value.isascii() else Header(value, "utf-8").encode()


class WirePolicy(Compat32):
    """The classic policy, writing a short ASCII header as it is.

    The classic policy builds a ``Header`` for every header of every part to find that a short
    ASCII line needs no folding (about 25 per reminder: a third of the time spent writing one).
    Longer or non-ASCII values are folded as before. The bytes are the same either way.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


#: How a message is written for the SMTP server: CRLF line ends (RFC 5322).
WIRE = WirePolicy(linesep="\r\n")


def _boundary() -> str:
    """A multipart boundary chosen up front: the library would otherwise search each part's text
    for its random boundary with a regular expression compiled anew for every message. The
    parts are base64, which never holds a "-", so no line of theirs can be a boundary line; the
    96 random bits keep nested parts apart, and the Content-Type line short enough to go as it is."""
    return f"=_{secrets.token_hex(12)}"


@lru_cache(maxsize=64)
def _envelope_address(header: str) -> str:
    """The bare address of a From header (the envelope sender): the same for every message, so
    parsed once per setting."""
    return parseaddr(header)[1]


def text_environment(app: Flask) -> Environment:
    """The Jinja environment of plain-text templates: the app's, but writing every newline.

    The pages' environment drops the newline after a block tag (``trim_blocks``), which in HTML
    is harmless and in a plain-text e-mail glues two lines into one ("...3531 CL UtrechtMap:
    https://..."). Text templates say what they mean instead: a line is a line, and a tag that
    should take its newline with it says so (``{%- ... %}``/``{% ... -%}``).
    """
    env = app.extensions.get("einstein.text_jinja")
    if env is None:
        # an overlay shares the loader, filters, globals and gettext with the pages' environment
        # (its own cache: a template compiled for pages is not compiled for text)
        env = app.jinja_env.overlay(trim_blocks=False, lstrip_blocks=False, cache_size=400)
        app.extensions["einstein.text_jinja"] = env
    return env


def render_text(template: str, **context: Any) -> str:
    """Render a plain-text template (``.txt``) exactly as written, line for line."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = text_environment(app).get_template(template)
    app.update_template_context(context)
    return found.render(context)


def mail_domain() -> str:
    """The domain of ``MAIL_FROM`` (the sender's address), else of ``BASE_URL``."""
    return _envelope_address(str(current_app.config["MAIL_FROM"])).rpartition("@")[2] or site_host()


def site_host() -> str:
    """The deployment's host name, from ``BASE_URL``."""
    return urlsplit(str(current_app.config["BASE_URL"])).hostname or "localhost"


def link_in(locale: str, endpoint: str, **values: Any) -> str:
    """A link for a message in ``locale``: it opens in the recipient's language (``?lang=``),
    whatever the browser that follows it prefers, signed in or not."""
    return external_url(endpoint, **values, **{LANG_PARAMETER: locale})


def one_click_unsubscribe(url: str) -> dict[str, str]:
    """The headers of RFC 8058 for an https address that, POSTed, stops these e-mails."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


#: Where a person's own value goes in a message body written once for many people. Random for
#: each process, so no text that a person or an organiser writes can contain it.
_MARK = f"\x1a{secrets.token_hex(6)}:"
_MARKED = re.compile(re.escape(_MARK) + r"(\w+)\x1a")


def _bodies(
    template: str, locale: str, context: dict[str, Any], personal: Mapping[str, str | None], shared: Hashable
) -> tuple[str, str]:
    """The text and the HTML of a message, in the locale in force.

    With a ``shared`` key, the bodies are written once per task (a batch of the worker) for all
    the messages with that key, with a mark where each of the ``personal`` values goes, and each
    message gets its own values put in: as they are in the text, escaped in the HTML, exactly as
    the template would have written them. A session's reminders differ only in the person's
    name, booking reference and links, and writing the templates was a quarter of a reminder's
    cost. ``shared`` must name everything else the templates show; a personal value that is
    empty is given to the templates as it is (it may decide what they show) and is part of the
    key.
    """
    if shared is None:
        every = {**context, **personal}
        return render_text(f"emails/{template}.txt", **every), render_template(f"emails/{template}.html", **every)
    given = frozenset(name for name, value in personal.items() if value)
    key = (template, locale, shared, given)
    written: dict[Any, tuple[str, str]] = g.setdefault("einstein_mail_bodies", {})
    if key not in written:
        marked = {name: f"{_MARK}{name}\x1a" if name in given else value for name, value in personal.items()}
        every = {**context, **marked}
        written[key] = (
            render_text(f"emails/{template}.txt", **every),
            render_template(f"emails/{template}.html", **every),
        )
    text, html = written[key]
    return (
        _MARKED.sub(lambda found: str(personal[found[1]]), text),
        _MARKED.sub(lambda found: str(escape(personal[found[1]])), html),
    )


def render_email(
    template: str,
    to: str,
    locale: str,
    attachments: list[Attachment] | None = None,
    headers: dict[str, str] | None = None,
    *,
    personal: Mapping[str, str | None] | None = None,
    shared: Hashable = None,
    **context: Any,
) -> Message:
    """Render ``templates/emails/<template>.{txt,html}`` in ``locale`` into a message.

    The subject is the first line of the text template, after "Subject: ". Messages are built
    with the classic MIME classes: several times faster than EmailMessage, which matters when
    a worker sends thousands of reminders. ``headers`` are added as they are (ASCII only, such
    as List-Unsubscribe). ``personal`` and ``shared``: the bodies written once for many people
    (see ``_bodies``).
    """
    with force_locale(locale):
        text, html = _bodies(template, locale, context, personal or {}, shared)
    first, _, body = text.partition("\n")
    subject = first.removeprefix("Subject:").strip()
    alternative = MIMEMultipart("alternative", boundary=_boundary())
    alternative.attach(MIMEText(body.lstrip("\n"), "plain", "utf-8"))
    alternative.attach(MIMEText(html, "html", "utf-8"))
    if attachments:
        message: Message = MIMEMultipart("mixed", boundary=_boundary())
        message.attach(alternative)
        for attachment in attachments:
            part = MIMEBase(attachment.maintype, attachment.subtype, **attachment.params)
            part.set_payload(attachment.content)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            message.attach(part)
    else:
        message = alternative
    message["Subject"] = _header(subject)
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=mail_domain())
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = locale
    for name, value in (headers or {}).items():
        message[name] = value
    return message


class Mailer:
    """Deliver messages over one connection; use as a context manager for a batch."""

    def __init__(self) -> None:
        self.config = current_app.config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the mail server, if one is open."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        host, port, timeout = self.config["SMTP_HOST"], self.config["SMTP_PORT"], self.config["SMTP_TIMEOUT"]
        try:
            if self.config["SMTP_SSL"]:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if self.config["SMTP_STARTTLS"]:
                    smtp.starttls(context=ssl.create_default_context())
            if self.config["SMTP_USERNAME"]:
                smtp.login(self.config["SMTP_USERNAME"], self.config["SMTP_PASSWORD"] or "")
        except smtplib.SMTPAuthenticationError as error:
            raise MailServerUnavailableError(f"SMTP login refused: {error}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailServerUnavailableError(f"cannot reach the mail server: {error}") from error
        self._smtp = smtp
        return smtp

    def send(self, message: Message) -> None:
        """Deliver one message, raising Temporary- or PermanentMailError when it fails."""
        if self.config["MAIL_BACKEND"] == "file":
            self._write_file(message)
            return
        smtp = self._connect()
        try:
            refused = self._transmit(smtp, message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            self._raise_for_codes(codes, str(error.recipients))
        except smtplib.SMTPResponseException as error:
            self.close()
            text = (
                error.smtp_error.decode(errors="replace")
                if isinstance(error.smtp_error, bytes)
                else str(error.smtp_error)
            )
            self._raise_for_codes([error.smtp_code], f"{error.smtp_code} {text}")
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TemporaryMailError(f"mail server connection failed: {error}") from error
        else:
            if refused:
                self._raise_for_codes([code for code, _ in refused.values()], str(refused))

    @staticmethod
    def _transmit(smtp: smtplib.SMTP, message: Message) -> dict[str, tuple[int, bytes]]:
        """Hand ``message`` to the server: written once, in ``WIRE``'s cheaper way.

        What einstein sends (From, To, ASCII addresses) goes as bytes; anything else, such as an
        address that needs SMTPUTF8, through the library's ``send_message``, which knows it all.
        """
        sender = _envelope_address(str(message["From"]))
        recipients = [address for _name, address in getaddresses(message.get_all("To", []))]
        plain = not any(message[name] for name in ("Cc", "Bcc", "Resent-Date"))
        if plain and recipients and sender.isascii() and all(address.isascii() for address in recipients):
            return smtp.sendmail(sender, recipients, message.as_bytes(policy=WIRE))
        return smtp.send_message(message)

    @staticmethod
    def _raise_for_codes(codes: list[int], detail: str) -> None:
        if all(500 <= code < 600 for code in codes):
            raise PermanentMailError(detail)
        raise TemporaryMailError(detail)

    def _write_file(self, message: Message) -> None:
        folder = Path(self.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(bytes(message))
