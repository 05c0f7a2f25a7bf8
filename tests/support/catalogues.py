"""Check the translation catalogues: complete, placeholders kept, and in step with the code.

    .venv/bin/python -m tests.support.catalogues [LANG ...]

prints every problem found (nothing when a catalogue is complete).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "einstein" / "translations"
#: English is the language the code is written in: its catalogue may leave strings as they are.
SOURCE_LANGUAGE = "en"
LANGUAGES = ("nl", "en", "ar", "ti", "fa", "tr", "so", "uk")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "_n": (1, 2),
    "lazy_ngettext": (1, 2),
}
METHODS = [("einstein/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


def code_messages() -> set[str]:
    """Every translatable string in the code and templates, as extracted right now."""
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}, "templates/**.txt": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def load(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=lang)


def problems(lang: str, messages: set[str] | None = None) -> list[str]:
    """What is wrong with one language's catalogue."""
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return [f"{lang}: no catalogue at {path.relative_to(ROOT)}"]
    catalogue = load(lang)
    wanted = code_messages() if messages is None else messages
    found = []
    ids = {message.id[0] if isinstance(message.id, tuple) else message.id for message in catalogue if message.id}
    for missing in sorted(wanted - ids):
        found.append(f"{lang}: not in the catalogue (run `make messages`): {missing!r}")
    for message in catalogue:
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = list(message.string) if isinstance(message.string, tuple | list) else [message.string]
        if lang != SOURCE_LANGUAGE:
            if message.fuzzy:
                found.append(f"{lang}: fuzzy, needs checking: {singular!r}")
            if not all(strings):
                found.append(f"{lang}: not translated: {singular!r}")
                continue
        expected = set(PLACEHOLDER.findall(singular))
        for translated in strings:
            if translated and set(PLACEHOLDER.findall(translated)) - expected - (
                {"num"} if isinstance(message.id, tuple) else set()
            ):
                found.append(f"{lang}: placeholders differ in {singular!r}: {translated!r}")
            if translated and expected - set(PLACEHOLDER.findall(translated)) - {"num"}:
                found.append(f"{lang}: a placeholder is missing in {singular!r}: {translated!r}")
    return found


def main(argv: list[str]) -> int:
    messages = code_messages()
    languages = argv or list(LANGUAGES)
    everything = [problem for lang in languages for problem in problems(lang, messages)]
    print("\n".join(everything) if everything else f"{', '.join(languages)}: complete ({len(messages)} strings)")
    return 1 if everything else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
