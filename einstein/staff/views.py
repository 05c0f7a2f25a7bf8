"""Staff pages: the messages waiting, sent and failed; and the audit trail per offer and per person."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from einstein.audit import services as audit
from einstein.auth.access import role_required
from einstein.auth.models import Role, User
from einstein.courses.models import Offer
from einstein.db import db
from einstein.forms import ButtonForm
from einstein.i18n import current_language, local
from einstein.notifications import outbox as messages
from einstein.notifications import registry
from einstein.notifications.channels import CALL, Outgoing
from einstein.notifications.models import Notification, NotificationStatus

bp = Blueprint("staff", __name__)


def _people(ids: set[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


@bp.get("/outbox")
@role_required(Role.COORDINATOR)
def outbox() -> ResponseReturnValue:
    """Counts by state, and the messages that failed for good, newest first."""
    summary = messages.summary()
    return render_template(
        "staff/outbox.html",
        summary=summary,
        statuses=NotificationStatus,
        people=_people({n.user_id for n in summary.failed}),
        label=registry.label,
    )


@bp.post("/outbox/<int:notification_id>/retry")
@role_required(Role.COORDINATOR)
def retry(notification_id: int) -> ResponseReturnValue:
    """Try a failed message once more (after the address or the mail server was fixed)."""
    notification = db.get_or_404(Notification, notification_id)
    form = ButtonForm()
    if not form.validate_on_submit() or not messages.requeue(notification):
        flash(_("Only e-mails that failed can be tried again."), "error")
        return redirect(url_for("staff.outbox"), 303)
    db.session.commit()  # publishes it to the mail queue
    flash(_("The e-mail is queued again."), "success")
    return redirect(url_for("staff.outbox"), 303)


@bp.get("/calls")
@role_required(Role.COORDINATOR)
def calls() -> ResponseReturnValue:
    """People einstein cannot reach who have something coming: whom to call, and what to say."""
    days: dict[date, list[tuple[Notification, Outgoing]]] = {}
    for row in messages.to_call():
        said = registry.render_for(row, CALL)
        if isinstance(said, Outgoing):
            days.setdefault(local(row.created_at).date(), []).append((row, said))
    return render_template(
        "staff/calls.html",
        days=days,
        people=_people({row.user_id for entries in days.values() for row, _said in entries}),
        label=registry.label,
        form=ButtonForm(),
    )


@bp.post("/calls/<int:notification_id>/done")
@role_required(Role.COORDINATOR)
def called(notification_id: int) -> ResponseReturnValue:
    """The person was called: tick it off (and the trail says who called, and when)."""
    notification = db.get_or_404(Notification, notification_id)
    form = ButtonForm()
    if not form.validate_on_submit() or not messages.mark_called(notification):
        flash(_("This call was ticked off already."), "info")
        return redirect(url_for("staff.calls"), 303)
    audit.record("person.called", actor_id=current_user.id, subject_id=notification.user_id, kind=notification.kind)
    db.session.commit()
    flash(_("Ticked off. Thank you for calling."), "success")
    return redirect(url_for("staff.calls"), 303)


@bp.get("/offers/<int:offer_id>/history")
@role_required(Role.COORDINATOR)
def offer_history(offer_id: int) -> ResponseReturnValue:
    """What people did to this offer and to the people booked on it, newest first."""
    offer = db.get_or_404(Offer, offer_id)
    events = audit.events_about(offer_id=offer.id)
    return render_template(
        "staff/history.html",
        heading=_("History of “%(title)s”", title=offer.text_for(current_language().code).title),
        events=events,
        people=_people({e.actor_id for e in events} | {e.subject_id for e in events}),
        labels=audit.ACTION_LABELS,
        back=url_for("courses.offer_detail", offer_id=offer.id),
    )


@bp.get("/people/<int:user_id>/history")
@role_required(Role.COORDINATOR)
def person_history(user_id: int) -> ResponseReturnValue:
    """What staff and volunteers did to one person's data, newest first."""
    person = db.get_or_404(User, user_id)
    events = audit.events_about(subject_id=person.id)
    return render_template(
        "staff/history.html",
        heading=_("History of %(name)s", name=person.name),
        events=events,
        people=_people({e.actor_id for e in events} | {e.subject_id for e in events}),
        labels=audit.ACTION_LABELS,
        back=url_for("bookings.desk_person", user_id=person.id),
    )
