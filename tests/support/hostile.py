"""Hostile and odd input that every form must refuse (or store as plain text), never a 500."""

from __future__ import annotations

#: One-line fields (names, identifiers) must refuse each of these with a message.
HOSTILE_LINES = {
    "empty": "",
    "spaces": "     ",
    "html": "<b>Amal</b>",
    "script": "<script>alert(1)</script>",
    "sql": "Robert'); DROP TABLE users;--",
    "rtl-override": "Amal\u202egnp.exe",
    "rtl-mark": "Amal\u200f",
    "zero-width-space": "Am\u200bal",
    "bom": "\ufeffAmal",
    "control": "Amal\x07",
    "nul": "Amal\x00",
    "hangul-filler": "\u3164",
    "huge": "A" * 10_000,
}

#: Free-text fields store these as text and show them escaped (titles, descriptions).
HOSTILE_TEXT = {
    "script": "<script>alert('x')</script>",
    "img": '<img src=x onerror="alert(1)">',
    "sql": "'; DELETE FROM offers; --",
    "template": "{{ config.SECRET_KEY }} {% raw %}",
}

#: Refused in free text too.
HOSTILE_IN_TEXT = {
    "rtl-override": "Cooking \u202etxet",
    "zero-width-space": "Coo\u200bking",
    "nul": "Cooking\x00",
    "bom": "\ufeffCooking",
}

#: Good text that must be accepted: names in the scripts of the people einstein serves.
GOOD_NAMES = [
    "Amal Yusuf",
    "أمل يوسف",
    "ሰላም ተስፋይ",
    "فاطمه\u200cکریمی",
    "Олена Коваленко",
    "Elif Yılmaz",
    "O'Brien-Smit",
    "Zoë d’Hondt",
]
