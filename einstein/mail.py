"""Build e-mails from templates in the recipient's language, and hand them to a mail server.

In development (no SMTP_HOST) messages are written as ``.eml`` files to ``instance/mail/``,
which any mail program opens. With SMTP_HOST they go to that server.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

from flask import current_app, render_template
from flask_babel import force_locale

from einstein.db import utcnow


class ContentTypeParams(TypedDict, total=False):
    """Parameters of an attachment's Content-Type header."""

    #: The iTIP method of a calendar (RFC 5546): PUBLISH for an event to put in one's calendar.
    method: str


@dataclass
class Attachment:
    """A file sent with an e-mail, such as a calendar (.ics) file."""

    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "calendar"
    params: ContentTypeParams = field(default_factory=ContentTypeParams)


class TemporaryMailError(Exception):
    """The mail server could not take the message now (4xx, connection lost): try later."""


class PermanentMailError(Exception):
    """The mail server refused the message for good (5xx, bad address): do not try again."""


@lru_cache(maxsize=2048)
def _header(value: str) -> str:
    """Encode a header once: reminders of one session share their subject line."""
    return value if value.isascii() else Header(value, "utf-8").encode()


def render_email(
    template: str, to: str, locale: str, attachments: list[Attachment] | None = None, **context: Any
) -> Message:
    """Render ``templates/emails/<template>.{txt,html}`` in ``locale`` into a message.

    The subject is the first line of the text template, after "Subject: ". Messages are built
    with the classic MIME classes: several times faster than EmailMessage, which matters when
    a worker sends thousands of reminders.
    """
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    first, _, body = text.partition("\n")
    subject = first.removeprefix("Subject:").strip()
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(body.lstrip("\n"), "plain", "utf-8"))
    alternative.attach(MIMEText(html, "html", "utf-8"))
    if attachments:
        message: Message = MIMEMultipart("mixed")
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
    message["Message-ID"] = make_msgid(domain="einstein.localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = locale
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
            raise TemporaryMailError(f"SMTP login refused: {error}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryMailError(f"cannot reach the mail server: {error}") from error
        self._smtp = smtp
        return smtp

    def send(self, message: Message) -> None:
        """Deliver one message, raising Temporary- or PermanentMailError when it fails."""
        if self.config["MAIL_BACKEND"] == "file":
            self._write_file(message)
            return
        smtp = self._connect()
        try:
            refused = smtp.send_message(message)
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
    def _raise_for_codes(codes: list[int], detail: str) -> None:
        if all(500 <= code < 600 for code in codes):
            raise PermanentMailError(detail)
        raise TemporaryMailError(detail)

    def _write_file(self, message: Message) -> None:
        folder = Path(self.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(bytes(message))
