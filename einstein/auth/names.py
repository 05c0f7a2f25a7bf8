"""People's names compared the way a person at the desk compares them."""

from __future__ import annotations

import unicodedata

#: As long as a name may be (``users.name``): a key never needs more to tell two names apart.
KEY_LENGTH = 120


def name_key(name: str | None) -> str:
    """The name folded for finding the same person twice: "mohammed al-khatib " and
    "Mohammed Al Khatib" and "Mohammed AL-KHATİB" give one key.

    Case, spaces, hyphens, apostrophes and dots, and diacritics (Latin accents, Arabic vowel
    marks) do not count; the letters and digits do, in order. Transliterations (محمد and
    Mohammed) are different keys: no rule of ours could tell them apart reliably.
    """
    decomposed = unicodedata.normalize("NFKD", name or "").casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())[:KEY_LENGTH]


def word_keys(query: str | None) -> list[str]:
    """The keys of each word of a search, for "every word somewhere in the name"."""
    keys = [name_key(word) for word in (query or "").split()]
    return [key for key in keys if key]
