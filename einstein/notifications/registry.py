"""The kinds of message the areas send, and how each is written for each channel.

This layer names no area: each area registers its kinds when the app is assembled
(``create_app`` calls the areas' ``messages.register``). A kind has a label for the outbox
page and, per channel, a function that writes the message for one row, or says it is no
longer relevant (None: a reminder for a booking cancelled since). A preload loads what a whole
batch of rows needs in a few queries before they are written one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from einstein.notifications.channels import CALL, Later, Outgoing
from einstein.notifications.models import Notification

#: Write one row's message for one channel, or None when it should no longer be sent.
Render = Callable[[Notification], Outgoing | Later | None]
#: Load what a batch of rows needs, so that writing each one asks the database nothing more.
Preload = Callable[[list[Notification]], None]


@dataclass(frozen=True)
class MessageType:
    """One kind of message: its label, and how it is written on each channel."""

    kind: str
    #: What it is, in plain words (a lazy string: read in the reader's language).
    label: Any
    renderers: dict[str, Render] = field(default_factory=dict)


_TYPES: dict[str, MessageType] = {}
_PRELOADS: dict[str, Preload] = {}
#: What to do with a text a person sent (a reply through the SMS gateway): (phone, text) -> what it did.
ReplyHandler = Callable[[str, str], str | None]
_REPLY_HANDLERS: dict[str, ReplyHandler] = {}


def register(kind: str, label: Any, **renderers: Render) -> None:
    """Register a kind of message and its renderer per channel (``email=...``, ``sms=...``).

    A ``call`` renderer writes what a coordinator tells someone einstein cannot reach; kinds
    with one go on the call list.
    """
    _TYPES[str(kind)] = MessageType(str(kind), label, dict(renderers))


def register_preload(name: str, preload: Preload) -> None:
    """Register a loader that prepares a batch before its messages are written."""
    _PRELOADS[name] = preload


def register_reply_handler(name: str, handler: ReplyHandler) -> None:
    """Register what to do with texts people send back (STOP, a yes to a place held for them)."""
    _REPLY_HANDLERS[name] = handler


def handle_reply(phone: str, text: str) -> list[str]:
    """Let every handler look at a text a person sent; return what they did."""
    done = []
    for handler in _REPLY_HANDLERS.values():
        outcome = handler(phone, text)
        if outcome:
            done.append(outcome)
    return done


def needs_a_call(kind: str) -> bool:
    """Whether a coordinator must call someone einstein cannot reach about this kind of message
    (the kinds that matter: a place came free, a session moved or was cancelled ...)."""
    found = _TYPES.get(kind)
    return found is not None and CALL in found.renderers


def message_type(kind: str) -> MessageType:
    """The registered kind, or LookupError."""
    found = _TYPES.get(kind)
    if found is None:
        raise LookupError(f"no message of kind {kind!r} is registered")
    return found


def kinds() -> Iterable[str]:
    """Every registered kind."""
    return tuple(_TYPES)


def label(kind: str) -> str:
    """What a kind of message is, in the reader's language (the kind itself if unknown)."""
    found = _TYPES.get(kind)
    return str(found.label) if found is not None else kind


def preload(rows: list[Notification]) -> None:
    """Let every registered loader prepare the batch."""
    for loader in _PRELOADS.values():
        loader(rows)


def render_for(notification: Notification, channel: str) -> Outgoing | Later | None:
    """Write a row's message as it would go by ``channel`` (the call list writes what to say)."""
    renderer = message_type(notification.kind).renderers.get(channel)
    return renderer(notification) if renderer is not None else None


def render(notification: Notification) -> Outgoing | Later | None:
    """Write the message of one row for its channel, None when it should not be sent, or Later."""
    renderer = message_type(notification.kind).renderers.get(notification.channel)
    if renderer is None:
        raise LookupError(f"{notification.kind} is not written for the {notification.channel} channel")
    return renderer(notification)
