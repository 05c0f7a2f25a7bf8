"""The SMS channel: texts through an SMS gateway (Kannel's ``sendsms``), or to files on a laptop.

Kannel is what NGOs and operators run in front of an operator's SMPP link; einstein calls its
HTTP ``sendsms`` interface (``SMS_GATEWAY_URL``) once per text, over one connection per batch,
choosing the coding itself (Kannel never switches to UCS-2 on its own), and asks for delivery
reports at ``/sms/dlr``. What Kannel answers decides what happens next:

- 202 (accepted, or queued while the operator is away): sent.
- 503, a refused connection: temporary, tried again later.
- 403 "Not routable", any 400: permanent, shown to coordinators.
- 403 with a wrong password: temporary (a setting to fix; after MAIL_MAX_ATTEMPTS it fails).
- no answer in time after the text went out: a frozen gateway may still send it, so it is
  counted as sent with a note (trying again could send it twice); a report may confirm it.

With no ``SMS_GATEWAY_URL`` texts are written as files to ``instance/sms/``.
"""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from einstein.db import utcnow
from einstein.i18n import TIMEZONE
from einstein.notifications.channels import (
    Channel,
    ChannelUnavailableError,
    Connection,
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UnconfirmedDelivery,
)
from einstein.notifications.segments import cost, is_gsm7

#: Kannel's dlr-mask: delivered (1), failed (2), buffered (4), accepted by the SMSC (8), rejected (16).
DLR_MASK = 31
#: What a delivery report's status means.
DLR_STATUS = {1: "delivered", 2: "failed", 4: "buffered", 8: "accepted", 16: "rejected"}


class _KannelConnection(Connection):
    """One HTTP connection to smsbox, kept open for a batch."""

    def __init__(self, config: Any) -> None:
        url = urlsplit(config["SMS_GATEWAY_URL"])
        self.path = url.path or "/cgi-bin/sendsms"
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.https = url.scheme == "https"
        self.timeout = float(config["SMS_TIMEOUT"])
        self.config = config
        self._connection: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            make = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._connection = make(self.host, self.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def query(self, outgoing: Outgoing, notification_id: int) -> str:
        config = self.config
        dlr = f"{config['BASE_URL']}/sms/dlr?" + urlencode(
            {"secret": config["SMS_CALLBACK_SECRET"], "id": notification_id}
        )
        params = {
            "username": config["SMS_USERNAME"] or "",
            "password": config["SMS_PASSWORD"] or "",
            "from": config["SMS_SENDER"],
            "to": outgoing.address,
            "text": outgoing.content,
            "charset": "UTF-8",
            "coding": "0" if is_gsm7(outgoing.content) else "2",
            "dlr-mask": str(DLR_MASK),
            # Kannel fills in %d (the status) when it calls back
            "dlr-url": dlr + "&status=%d",
        }
        return f"{self.path}?{urlencode(params)}"

    def send(self, outgoing: Outgoing, notification_id: int) -> None:
        target = self.query(outgoing, notification_id)
        fresh = self._connection is None
        try:
            connection = self._open()
            connection.request("GET", target)
        except (ConnectionError, OSError, http.client.HTTPException) as error:
            self.close()  # nothing was handed over: try again later
            reason = f"the SMS gateway cannot be reached: {error}"
            # a new connection refused: the gateway is away (a kept one may just have been closed)
            raise (ChannelUnavailableError if fresh else TemporaryDeliveryError)(reason) from error
        try:
            response = connection.getresponse()
            status, body = response.status, response.read().decode(errors="replace").strip()
        except TimeoutError as error:
            self.close()
            raise UnconfirmedDelivery("the SMS gateway did not answer in time; it may still send the text") from error
        except (ConnectionError, OSError, http.client.HTTPException) as error:
            self.close()
            raise UnconfirmedDelivery(f"the SMS gateway closed the connection: {error}") from error
        if response.will_close:
            self.close()
        if status == 202:
            return
        detail = f"{status} {body}"[:300]
        if status == 503 or status >= 500 or (status == 403 and "Authorization" in body):
            raise TemporaryDeliveryError(f"SMS gateway: {detail}")
        raise PermanentDeliveryError(f"SMS gateway: {detail}")


class _FileConnection(Connection):
    """Texts written as files a developer can read, in ``SMS_FILE_DIR``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, outgoing: Outgoing, notification_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        coding = "GSM-7" if is_gsm7(outgoing.content) else "UCS-2"
        name = f"{utcnow():%Y%m%d-%H%M%S}-{notification_id}-{uuid.uuid4().hex[:6]}.txt"
        head = f"To: {outgoing.address}\nNotification: {notification_id}\nCoding: {coding}\n"
        (self.folder / name).write_text(f"{head}Segments: {outgoing.segments}\n\n{outgoing.content}\n", "utf-8")


class SmsChannel(Channel):
    """Texts to a phone, one gateway connection per batch."""

    name = "sms"

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        config = current_app.config
        if not config.get("SMS_GATEWAY_URL"):
            yield _FileConnection(Path(config["SMS_FILE_DIR"]))
            return
        connection = _KannelConnection(config)
        try:
            yield connection
        finally:
            connection.close()


#: A text is written to fit this many segments (GSM-7: 306 characters; UCS-2: 134).
BUDGET = 2


def render_text(template: str, locale: str, **context: Any) -> str:
    """Render ``templates/sms/<template>.txt`` in ``locale`` as one line of plain text."""
    with force_locale(locale):
        return " ".join(render_template(f"sms/{template}.txt", **context).split())


def bare(url: str) -> str:
    """A link as short as a text can carry it: without ``https://`` (phones still make it a link)."""
    return url.split("://", 1)[-1]


def shorten(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters at most, at a word where it can, ending in "..."
    (three dots, not "…": GSM-7 has no ellipsis, and one would make the whole text UCS-2)."""
    if len(text) <= length:
        return text
    cut = text[: max(length - 3, 1)]
    if " " in cut[length // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "..."


def fitted(address: str, write: Callable[[int | None], str], budget: int = BUDGET) -> Outgoing:
    """The text ``write`` makes, with its title shortened until it fits ``budget`` segments.

    ``write(n)`` writes the text with a title of at most ``n`` characters (None: whole); the
    reference and the link are never shortened, so a long title gives way first, down to 16
    characters (a text that still does not fit is sent as it is: the segment test catches it).
    """
    text = write(None)
    for length in (60, 45, 35, 28, 22, 16):
        if cost(text).segments <= budget:
            break
        text = write(length)
    return Outgoing(address, text, segments=cost(text).segments)


def daytime(now: datetime, deadline: datetime) -> datetime | None:
    """When a text due ``now`` should go out: None for now, or the end of the quiet night.

    No text goes out between SMS_QUIET_FROM and SMS_QUIET_UNTIL (Utrecht time) unless what it says
    is due before the night ends (``deadline``): then it goes now.
    """
    config = current_app.config
    local = now.astimezone(TIMEZONE)
    start, end = config["SMS_QUIET_FROM"], config["SMS_QUIET_UNTIL"]
    if end <= local.hour < start:
        return None
    morning = local.date() if local.hour < end else local.date() + timedelta(days=1)
    wake = datetime.combine(morning, time(end, 0), tzinfo=TIMEZONE)
    return wake if wake < deadline else None
