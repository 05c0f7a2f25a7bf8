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

from einstein.notifications.channels import Outgoing
from einstein.notifications.models import Notification

#: Write one row's message for one channel, or None when it should no longer be sent.
Render = Callable[[Notification], Outgoing | None]
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


def register(kind: str, label: Any, **renderers: Render) -> None:
    """Register a kind of message and its renderer per channel (``email=...``)."""
    _TYPES[str(kind)] = MessageType(str(kind), label, dict(renderers))


def register_preload(name: str, preload: Preload) -> None:
    """Register a loader that prepares a batch before its messages are written."""
    _PRELOADS[name] = preload


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


def render(notification: Notification) -> Outgoing | None:
    """Write the message of one row for its channel, or None when it should not be sent."""
    renderer = message_type(notification.kind).renderers.get(notification.channel)
    if renderer is None:
        raise LookupError(f"{notification.kind} is not written for the {notification.channel} channel")
    return renderer(notification)
