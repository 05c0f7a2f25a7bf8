"""Rebuild the web fonts in static/fonts/ from Debian's Noto fonts (fonts-noto-core).

    apt-get install fonts-noto-core            # or: apt-get download fonts-noto-core &&
                                               #     dpkg-deb -x fonts-noto-core_*.deb /tmp/noto
    .venv/bin/python scripts/subset_fonts.py [--from /tmp/noto/usr/share/fonts/truetype/noto]

Each font keeps one script: Ge'ez (the whole basic Ethiopic block, so that Tigrinya written by
people, not only by einstein's catalogue, has no boxes) and Arabic (the letters of Arabic, Persian
and Dari, their marks, digits and punctuation). The characters of the Tigrinya, Arabic and Farsi
catalogues that fall in those scripts are added, so a new word in a catalogue cannot miss a glyph.
Hinting is left out (phones do not use it; it doubles the size). The script prints each file's
size and the ``unicode-range`` and ``src`` for static/css/app.css; the ``?v=`` in ``src`` is the
file's hash, so browsers may keep the font for a year and fetch a rebuilt one.

It also makes the three TrueType fonts of the PDF learning record (``static/fonts/pdf/``): a PDF
has no browser to fall back on, and people's names may use any letter of the scripts einstein's
languages are written in, so these keep whole blocks: Latin (with its extensions) and Cyrillic
from Noto Sans, every Arabic-script letter Noto Sans Arabic has (Arabic, Persian, Kurdish, Urdu,
Pashto ...), and all of Noto Sans Ethiopic. They are never sent to a browser.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po
from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "static" / "fonts"
CATALOGUES = ROOT / "einstein" / "translations"
DEBIAN_NOTO = Path("/usr/share/fonts/truetype/noto")


def _span(first: int, last: int) -> set[int]:
    return set(range(first, last + 1))


@dataclass(frozen=True)
class Font:
    """One subset: which system font, which characters, where it goes."""

    source: str
    output: str
    #: The characters kept (the catalogues' characters in these blocks are added).
    keep: frozenset[int]
    #: The catalogues whose characters are added.
    catalogues: tuple[str, ...]
    #: "woff2" for the web; None for TrueType (the PDF's fonts).
    flavor: str | None = "woff2"


ETHIOPIC = frozenset(_span(0x1200, 0x137F))
ARABIC = frozenset(
    {0x060C, 0x061B, 0x061C, 0x061F}  # comma, semicolon, letter mark, question mark
    | _span(0x0621, 0x065F)  # letters, tatweel, harakat
    | _span(0x0660, 0x066D)  # Arabic-Indic digits, percent, decimal and thousands separators
    | {0x0670, 0x0671, 0x067E, 0x0686, 0x0698, 0x06A9, 0x06AF, 0x06C0, 0x06CC}  # Persian / Dari
    | _span(0x06F0, 0x06F9)  # Persian digits
    | {0x200C, 0x200D, 0x200E, 0x200F}  # ZWNJ (Persian), ZWJ, the direction marks
)
#: What a page may contain that should make the browser fetch the font (``unicode-range``): the
#: script's own blocks, not the invisible marks that a Dutch page may carry too.
RANGES = {
    "noto-sans-ethiopic.woff2": ((0x1200, 0x137F),),
    "noto-sans-arabic.woff2": ((0x0600, 0x06FF),),
}

SUBSETS = (
    Font("NotoSansEthiopic-Regular.ttf", "noto-sans-ethiopic.woff2", ETHIOPIC, ("ti",)),
    Font("NotoSansArabic-Regular.ttf", "noto-sans-arabic.woff2", ARABIC, ("ar", "fa")),
)

#: The PDF's fonts: whole blocks, since a name may use any letter of its script.
PDF_LATIN_CYRILLIC = frozenset(
    _span(0x0020, 0x024F)  # Basic Latin, Latin-1, Latin Extended-A and -B
    | _span(0x02B0, 0x036F)  # modifier letters (ʼ) and combining accents
    | _span(0x0400, 0x052F)  # Cyrillic and its supplement
    | _span(0x1E00, 0x1EFF)  # Latin Extended Additional
    | _span(0x2000, 0x206F)  # punctuation: dashes, quotes, the direction marks
    | _span(0x20A0, 0x20C0)  # currency signs
    | {0x2116}  # numero sign
)
PDF_ARABIC = frozenset(
    _span(0x0600, 0x06FF)
    | _span(0x0750, 0x077F)
    | _span(0x08A0, 0x08FF)
    | _span(0xFB50, 0xFDFF)
    | _span(0xFE70, 0xFEFF)
    | {0x200C, 0x200D, 0x200E, 0x200F}
)
PDF_ETHIOPIC = frozenset(_span(0x1200, 0x139F) | _span(0x2D80, 0x2DDF) | _span(0xAB00, 0xAB2F))
RANGES.update(
    {
        "pdf/noto-sans.ttf": ((0x0020, 0x052F), (0x1E00, 0x1EFF), (0x2000, 0x20C0)),
        "pdf/noto-sans-arabic.ttf": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFEFF)),
        "pdf/noto-sans-ethiopic.ttf": ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
    }
)
PDF_SUBSETS = (
    Font("NotoSans-Regular.ttf", "pdf/noto-sans.ttf", PDF_LATIN_CYRILLIC, (), None),
    Font("NotoSansArabic-Regular.ttf", "pdf/noto-sans-arabic.ttf", PDF_ARABIC, ("ar", "fa"), None),
    Font("NotoSansEthiopic-Regular.ttf", "pdf/noto-sans-ethiopic.ttf", PDF_ETHIOPIC, ("ti",), None),
)


def catalogue_characters(lang: str) -> set[int]:
    """Every character of a catalogue's translations."""
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    found: set[int] = set()
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            found.update(ord(c) for c in text or "")
    return found


def characters(font: Font) -> set[int]:
    """What to keep: the font's set, plus the catalogues' characters of the same script."""
    ranges = RANGES[font.output]
    wanted = set(font.keep)
    for lang in font.catalogues:
        wanted |= {c for c in catalogue_characters(lang) if any(a <= c <= b for a, b in ranges)}
    return wanted


def build(font: Font, source_dir: Path) -> Path:
    """Subset one font to WOFF2 (or TrueType, for the PDF) in static/fonts/."""
    options = subset.Options()
    options.flavor = font.flavor
    options.layout_features = ["*"]  # Arabic joining forms and ligatures, Ge'ez marks
    options.hinting = False
    options.name_IDs = ["*"]  # keep the copyright and licence in the file
    options.notdef_outline = True
    target = FONTS / font.output
    with TTFont(source_dir / font.source, recalcTimestamp=False) as ttf:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(characters(font)))
        subsetter.subset(ttf)
        ttf.flavor = font.flavor
        target.parent.mkdir(parents=True, exist_ok=True)
        ttf.save(target)
    return target


def css_range(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"U+{a:04X}-{b:04X}" for a, b in ranges)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=DEBIAN_NOTO, help="folder of the Noto .ttf files")
    args = parser.parse_args(argv)
    FONTS.mkdir(parents=True, exist_ok=True)
    for font in SUBSETS + PDF_SUBSETS:
        if not (args.source / font.source).exists():
            print(f"{args.source / font.source} is missing: apt-get install fonts-noto-core", file=sys.stderr)
            return 1
        target = build(font, args.source)
        with TTFont(target) as made:
            version = made["name"].getDebugName(5) or ""
            glyphs = len(made.getGlyphOrder())
        digest = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes, {glyphs} glyphs, {version.split(';')[0]}")
        if font.flavor is None:
            continue
        print(f'  src: url("../fonts/{font.output}?v={digest}") format("woff2");')
        print(f"  unicode-range: {css_range(RANGES[font.output])};")
    return 0


if __name__ == "__main__":
    sys.exit(main())
