"""gunicorn's access log without the secrets that some addresses carry.

Password reset, address confirmation, cancel and calendar-feed links hold a token in their
path: whoever reads the log could use them. gunicorn.conf.py names this logger class.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

#: The paths that carry a token, and the token after them.
_TOKEN_IN_PATH = re.compile(r"(/(?:reset|verify|cancel|calendar)/)[^/?#\s\"]+")


def mask(value: str) -> str:
    """Replace the token in any link that carries one."""
    return _TOKEN_IN_PATH.sub(r"\1[token]", value)


class MaskingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with tokens masked in every part of an access-log line."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask(value) if isinstance(value, str) else value for key, value in atoms.items()}
