"""Channels: how a written message travels, and which failures are worth another try.

A channel opens one connection for a batch (one SMTP session for many e-mails) and sends
each message on it. A failure is temporary (try again later: the server is away, the mailbox
is full) or permanent (the address does not exist). E-mail is the channel here; another
(SMS) registers itself beside it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any, ClassVar

from einstein.mail import Mailer, MailServerUnavailableError, PermanentMailError, TemporaryMailError


class DeliveryError(Exception):
    """A message could not be handed over."""


class TemporaryDeliveryError(DeliveryError):
    """Worth another try later."""


class ChannelUnavailableError(TemporaryDeliveryError):
    """The channel itself cannot be reached (no connection to the mail server or the gateway):
    the batch's other messages on it are put off, not each tried and waited for."""


class PermanentDeliveryError(DeliveryError):
    """Will never work as it is (a wrong address): give up and show it to coordinators."""


class UnconfirmedDelivery(DeliveryError):  # noqa: N818  (not an error: an outcome)
    """Handed over, but the other side did not say so in time (a gateway that froze).

    It may still send the message later, so trying again could send it twice: the message
    counts as sent, with a note, and a delivery report may confirm it afterwards.
    """


@dataclass
class Outgoing:
    """A written message and the address it goes to."""

    address: str
    #: what the channel sends: an e-mail Message for e-mail, a text for SMS
    content: Any
    #: what it costs: SMS segments (None for e-mail)
    segments: int | None = None


@dataclass(frozen=True)
class Later:
    """Not now: send this message at ``when`` (a text that would arrive at night)."""

    when: datetime


#: The channel of a message for someone einstein cannot reach: a coordinator calls them.
#: No worker ever sends it; the call list shows the ones that matter.
CALL = "call"


class Connection(ABC):
    """One open connection of a channel, for a batch of messages."""

    @abstractmethod
    def send(self, outgoing: Outgoing, notification_id: int) -> None:
        """Hand one message over, or raise Temporary- or PermanentDeliveryError."""


class Channel(ABC):
    """A way of reaching people."""

    name: ClassVar[str]

    @abstractmethod
    def connect(self) -> Any:
        """A context manager giving a Connection, closed at the end of the batch."""


class _EmailConnection(Connection):
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, outgoing: Outgoing, notification_id: int) -> None:
        message: Message = outgoing.content
        # so that a duplicate (the one no system can exclude) can be recognised
        message["X-Einstein-Notification"] = str(notification_id)
        try:
            self.mailer.send(message)
        except MailServerUnavailableError as error:
            raise ChannelUnavailableError(str(error)) from error
        except TemporaryMailError as error:
            raise TemporaryDeliveryError(str(error)) from error
        except PermanentMailError as error:
            raise PermanentDeliveryError(str(error)) from error


class EmailChannel(Channel):
    """E-mail over SMTP (or to .eml files on a laptop), one connection per batch."""

    name = "email"

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with Mailer() as mailer:
            yield _EmailConnection(mailer)


_CHANNELS: dict[str, Channel] = {EmailChannel.name: EmailChannel()}


def register_channel(channel: Channel) -> None:
    """Add a channel (or replace one of the same name)."""
    _CHANNELS[channel.name] = channel


def channel(name: str) -> Channel:
    """The channel called ``name``, or LookupError."""
    found = _CHANNELS.get(name)
    if found is None:
        raise LookupError(f"no channel {name!r}")
    return found
