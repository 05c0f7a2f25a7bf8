"""einstein: book courses and activities where newcomers and neighbours learn together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from einstein.config import ROOT

__version__ = "0.1.0"
__all__ = ["ROOT", "create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the einstein app: embedded defaults, then EINSTEIN_* variables, then ``config``.

    The app is assembled in ``einstein.app``, which imports every area; it is imported here,
    when an app is made, so that importing one module of the package does not import them all.
    """
    from einstein.app import assemble

    return assemble(config)
