"""The outbox page: coordinators see what is waiting, what was sent, and what failed for good."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from einstein.auth.access import role_required
from einstein.auth.models import Role
from einstein.db import db
from einstein.notifications import services
from einstein.notifications.forms import RetryForm
from einstein.notifications.models import Notification, NotificationStatus

bp = Blueprint("notifications", __name__)


@bp.get("/outbox")
@role_required(Role.COORDINATOR)
def outbox() -> ResponseReturnValue:
    """Counts by state, and the e-mails that failed for good, newest first."""
    return render_template("notifications/outbox.html", summary=services.summary(), statuses=NotificationStatus)


@bp.post("/outbox/<int:notification_id>/retry")
@role_required(Role.COORDINATOR)
def retry(notification_id: int) -> ResponseReturnValue:
    """Try a failed e-mail once more (after the address or the mail server was fixed)."""
    notification = db.get_or_404(Notification, notification_id)
    form = RetryForm()
    if not form.validate_on_submit() or not services.requeue(notification):
        flash(_("Only e-mails that failed can be tried again."), "error")
        return redirect(url_for("notifications.outbox"), 303)
    db.session.commit()  # publishes it to the mail queue
    flash(_("The e-mail is queued again."), "success")
    return redirect(url_for("notifications.outbox"), 303)
