"""A change to the catalogue that cannot be made, with the words the person is told."""

from __future__ import annotations


class CatalogueError(Exception):
    """A change to the catalogue that cannot be made, with a message for the person."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
