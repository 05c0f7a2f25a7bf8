"""URL helpers: safe redirects and links that work outside a request (in e-mails)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def safe_next(target: str | None, fallback: str) -> str:
    """Return ``target`` if it is a path on this site, else ``fallback``: no open redirects."""
    if not target or len(target) > 512:
        return fallback
    # Browsers treat a backslash like a slash, so "/\\evil.example" would leave the site.
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return fallback
    return target


def served_under() -> str:
    """The path einstein is served under for this request ("" outside one). URLs kept per process
    (static files, icons, the menu's links) are kept per this path too: one process may be reached
    both directly and under a prefix, and a page must link within the path it was asked for."""
    return request.script_root if has_request_context() else ""


def external_url(endpoint: str, **values: Any) -> str:
    """Build an absolute URL for an e-mail, from BASE_URL rather than from a request.

    One URL adapter bound to BASE_URL serves every link, in a request or in the worker.
    """
    adapter = current_app.extensions.get("einstein.url_adapter")
    if adapter is None:
        parts = urlsplit(current_app.config["BASE_URL"])
        adapter = current_app.url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
        )
        current_app.extensions["einstein.url_adapter"] = adapter
    return adapter.build(endpoint, values, force_external=True)
