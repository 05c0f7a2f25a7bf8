"""The SMS gateway's calls back to einstein: delivery reports, and texts people send.

Both carry the shared secret (``SMS_CALLBACK_SECRET``) that the gateway was configured with;
the answer is always empty (Kannel's sms-service sends no reply for an empty one: replies, if
any, go through the outbox like every message).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue

from einstein.bounds import as_id
from einstein.db import db
from einstein.extensions import limiter
from einstein.notifications import delivery, registry
from einstein.notifications.sms import DLR_STATUS

bp = Blueprint("gateway", __name__)


def _authentic() -> None:
    secret = str(current_app.config["SMS_CALLBACK_SECRET"])
    if not hmac.compare_digest(request.args.get("secret", "").encode(), secret.encode()):
        abort(403)


@bp.get("/sms/dlr")
@limiter.exempt
def delivery_report() -> ResponseReturnValue:
    """Record what the operator said about a text."""
    _authentic()
    notification_id = as_id(request.args.get("id"))
    code = request.args.get("status", type=int)
    status = DLR_STATUS.get(code or 0)
    if notification_id is None or status is None:
        abort(400)
    delivery.record_report(notification_id, status)
    db.session.commit()
    return "", 200


@bp.get("/sms/inbound")
@limiter.exempt
def inbound() -> ResponseReturnValue:
    """A text someone sent to einstein's number: STOP, START, or a yes to a place held for them."""
    _authentic()
    sender, text = request.args.get("from", "")[:32], request.args.get("text", "")[:640]
    if not sender:
        abort(400)
    registry.handle_reply(sender, text)
    db.session.commit()
    return "", 200
