"""Compile the translation catalogues once per test run, into a folder of the run's own."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.support.catalogues import TRANSLATIONS

_compiled: Path | None = None


def compiled_translations() -> Path:
    """A folder with a .mo for every catalogue, as `make translations` would make (made once)."""
    global _compiled
    if _compiled is None:
        folder = Path(tempfile.mkdtemp(prefix="einstein-translations-"))
        for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
            lang = po.parent.parent.name
            target = folder / lang / "LC_MESSAGES"
            target.mkdir(parents=True)
            with open(po, "rb") as handle:
                catalogue = read_po(handle, locale=lang)
            with open(target / "messages.mo", "wb") as handle:
                write_mo(handle, catalogue, use_fuzzy=False)
        _compiled = folder
    return _compiled


def cleanup() -> None:
    if _compiled is not None:
        shutil.rmtree(_compiled, ignore_errors=True)
