"""gunicorn's access log without the secrets that some addresses carry.

Password reset, address confirmation, cancel, unsubscribe and calendar-feed links hold a token in
their path: whoever reads the log could use them. gunicorn.conf.py names this logger class.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from gunicorn.glogging import Logger
from gunicorn.http import Request
from gunicorn.http.wsgi import Response

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict

#: The paths that carry a token, and the token after them.
_TOKEN_IN_PATH = re.compile(r"(/(?:reset|verify|cancel|calendar|unsubscribe)/)[^/?#\s\"]+")


def mask(value: str) -> str:
    """Replace the token in any link that carries one."""
    return _TOKEN_IN_PATH.sub(r"\1[token]", value)


class MaskingLogger(Logger):
    """gunicorn's logger, with tokens masked in every part of an access-log line."""

    def atoms(
        self, resp: Response, req: Request, environ: MutableMapping[str, Any], request_time: timedelta
    ) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        # the stubs' TypedDict names the fixed atoms only; gunicorn adds one per header and per
        # environ variable ("{user-agent}i"), and every one of them is kept (and masked) here
        return cast(
            "_AtomsDict", {key: mask(value) if isinstance(value, str) else value for key, value in atoms.items()}
        )
