"""Help translators: list what a catalogue lacks, and fill in translations from a JSON file.

    .venv/bin/python scripts/translations.py todo ar > ar.json      # {"msgid": ""} for each gap
    .venv/bin/python scripts/translations.py apply ar ar.json       # write the filled-in strings

Plural messages appear as {"msgid": ["singular", "plural"]} in ``todo`` and take a list of
forms in ``apply``. The catalogue is written as ``pybabel update`` writes it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUES = Path(__file__).resolve().parents[1] / "einstein" / "translations"


def _path(lang: str) -> Path:
    return CATALOGUES / lang / "LC_MESSAGES" / "messages.po"


def todo(lang: str) -> dict[str, object]:
    """The messages of ``lang``'s catalogue that have no translation yet."""
    with _path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    gaps: dict[str, object] = {}
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            gaps[key] = list(message.id) if isinstance(message.id, tuple) else ""
    return gaps


def apply(lang: str, translations: dict[str, object]) -> int:
    """Fill in translations; return how many were written."""
    path = _path(lang)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    written = 0
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        value = translations.get(key)
        if not value:
            continue
        message.string = tuple(value) if isinstance(value, list) else value
        message.flags.discard("fuzzy")
        written += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=76, include_previous=False)
    return written


if __name__ == "__main__":
    command, language = sys.argv[1], sys.argv[2]
    if command == "todo":
        json.dump(todo(language), sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif command == "apply":
        count = apply(language, json.loads(Path(sys.argv[3]).read_text(encoding="utf-8")))
        print(f"{language}: {count} translation(s) written", file=sys.stderr)
    else:
        raise SystemExit(__doc__)
