"""How many SMS segments a text costs: GSM-7 (160 a segment, 153 when split) or UCS-2 (70, 67).

Kannel never chooses UCS-2 by itself (a "ç" would arrive as "?"), so einstein picks the coding:
GSM-7 when every character is in its basic table or its extension (which count double), else
UCS-2, counted in UTF-16 code units (Arabic, Tigrinya, Farsi and Ukrainian; Turkish for ş, ğ, ı).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: GSM 03.38 basic character set.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each character costs two septets (an escape, then the character).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Cost:
    """What a text costs to send."""

    #: "gsm7" or "ucs2"
    coding: str
    #: septets (GSM-7) or UTF-16 code units (UCS-2)
    length: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` can travel in GSM-7."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def cost(text: str) -> Cost:
    """The coding and the number of segments ``text`` takes."""
    if is_gsm7(text):
        length = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part = 160, 153
        coding = "gsm7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        coding = "ucs2"
    segments = 1 if length <= single else math.ceil(length / part)
    return Cost(coding, length, segments)
