"""The outbox page: coordinators see what is waiting, what was sent, and what failed for good."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from einstein.auth.access import role_required
from einstein.auth.models import Role
from einstein.db import db, utcnow
from einstein.notifications.forms import RetryForm
from einstein.notifications.models import Notification, NotificationStatus
from einstein.notifications.services import dispatch

bp = Blueprint("notifications", __name__)


@bp.get("/outbox")
@role_required(Role.COORDINATOR)
def outbox() -> ResponseReturnValue:
    """Counts by state, and the e-mails that failed for good, newest first."""
    day_ago = utcnow() - timedelta(days=1)
    counts = dict(
        db.session.execute(
            sa.select(Notification.status, sa.func.count())
            .where(sa.or_(Notification.status != NotificationStatus.SENT, Notification.sent_at >= day_ago))
            .group_by(Notification.status)
        ).all()
    )
    due = db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.status == NotificationStatus.PENDING, Notification.due_at <= utcnow()
        )
    )
    failed = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.status == NotificationStatus.FAILED)
            .options(joinedload(Notification.user))
            .order_by(Notification.updated_at.desc())
            .limit(50)
        )
    )
    return render_template(
        "notifications/outbox.html",
        counts=counts,
        due=due,
        failed=failed,
        form=RetryForm(),
        statuses=NotificationStatus,
    )


@bp.post("/outbox/<int:notification_id>/retry")
@role_required(Role.COORDINATOR)
def retry(notification_id: int) -> ResponseReturnValue:
    """Try a failed e-mail once more (after the address or the mail server was fixed)."""
    notification = db.get_or_404(Notification, notification_id)
    form = RetryForm()
    if not form.validate_on_submit() or notification.status != NotificationStatus.FAILED:
        flash(_("Only e-mails that failed can be tried again."), "error")
        return redirect(url_for("notifications.outbox"), 303)
    notification.status = NotificationStatus.PENDING
    notification.due_at = utcnow()
    notification.queued_at = None
    notification.last_error = None
    notification.attempts = 0
    db.session.commit()
    dispatch([notification.id])
    flash(_("The e-mail is queued again."), "success")
    return redirect(url_for("notifications.outbox"), 303)
