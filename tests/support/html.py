"""Reading pages in tests."""

from __future__ import annotations

import re


def main(page: str) -> str:
    """The content of the page's <main> element, without the layout around it."""
    match = re.search(r"<main[^>]*>(.*)</main>", page, re.S)
    assert match, "page has no <main>"
    return match.group(1)
