"""gunicorn's access log without the secrets that some addresses carry, with each request's id.

Password reset, address confirmation, cancel, unsubscribe and calendar-feed links hold a token in
their path: whoever reads the log could use them. gunicorn.conf.py names this logger class. With
``EINSTEIN_LOG_FORMAT=json`` (the default in production) each line is a JSON object, like the
app's own log lines, and carries the request id the app answered with (``X-Request-ID``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from gunicorn.glogging import Logger
from gunicorn.http import Request
from gunicorn.http.wsgi import Response

from einstein.observability import HEADER, formatter, log_format, mask

if TYPE_CHECKING:
    from gunicorn.config import Config
    from gunicorn.glogging import _AtomsDict

__all__ = ["MaskingLogger", "mask"]


def _format() -> str:
    # gunicorn runs einstein in production unless EINSTEIN_ENV says otherwise (einstein/wsgi.py)
    return log_format(
        os.environ.get("EINSTEIN_ENV", "production").strip().lower(), os.environ.get("EINSTEIN_LOG_FORMAT")
    )


class MaskingLogger(Logger):
    """gunicorn's logger, with tokens masked in every part of an access-log line."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        self.json = _format() == "json"
        if self.json:
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter("json"))

    def atoms(
        self, resp: Response, req: Request, environ: MutableMapping[str, Any], request_time: timedelta
    ) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        # the stubs' TypedDict names the fixed atoms only; gunicorn adds one per header and per
        # environ variable ("{user-agent}i"), and every one of them is kept (and masked) here
        return cast(
            "_AtomsDict", {key: mask(value) if isinstance(value, str) else value for key, value in atoms.items()}
        )

    def access(self, resp: Response, req: Request, environ: MutableMapping[str, Any], request_time: timedelta) -> None:
        if not getattr(self, "json", False):
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        atoms = cast("dict[str, Any]", self.atoms(resp, req, environ, request_time))
        fields = {
            "request_id": atoms.get(f"{{{HEADER.lower()}}}o", "-"),
            "remote_addr": atoms.get("h"),
            "method": atoms.get("m"),
            "path": atoms.get("U"),
            "status": int(str(atoms.get("s"))) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
            "bytes": atoms.get("B"),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "referer": atoms.get("f"),
            "user_agent": atoms.get("a"),
        }
        try:
            self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields)
        except Exception:
            logging.getLogger(__name__).exception("could not write an access-log line")
