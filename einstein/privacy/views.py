"""Routes for a person's data: download it, delete the account; and a coordinator doing it for
someone registered at the desk who cannot sign in."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from einstein import policy
from einstein.audit import services as audit
from einstein.auth import services as accounts
from einstein.auth.access import role_required, signed_in
from einstein.auth.forms import ActForPersonForm, DeleteAccountForm
from einstein.auth.models import Role, User
from einstein.db import db
from einstein.forms import add_error
from einstein.privacy import services
from einstein.views import render_form

bp = Blueprint("privacy", __name__)


def _data_file(person: User, filename: str) -> ResponseReturnValue:
    body = json.dumps(services.export_data(person), ensure_ascii=False, indent=2)
    db.session.commit()  # certificates in the learning record shown for the first time are issued
    return current_app.response_class(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/account/data.json")
@signed_in
def download_data() -> ResponseReturnValue:
    """Give the person a JSON file of everything einstein holds about them."""
    return _data_file(current_user, "einstein-my-data.json")


@bp.route("/account/delete", methods=["GET", "POST"])
@signed_in
def delete_account() -> ResponseReturnValue:
    """Ask for confirmation, then delete the account and its personal data."""
    user: User = current_user._get_current_object()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if user.password_hash is not None and not accounts.check_password(user, form.password.data or ""):
            add_error(form.password, _("This is not your password."))
        else:
            services.delete_account(user)
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your account and your personal data are deleted. Thank you for taking part."), "success")
            return redirect(url_for("courses.index"))
    return render_form("auth/delete_account.html", form)


def _person_to_act_for(user_id: int) -> User:
    person = db.get_or_404(User, user_id)
    if not policy.may_act_for_privacy(current_user, person):
        abort(403)
    return person


@bp.route("/people/<int:user_id>/data", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def export_for(user_id: int) -> ResponseReturnValue:
    """Give a person registered at the desk a copy of their data, once a coordinator confirms."""
    person = _person_to_act_for(user_id)
    form = ActForPersonForm()
    if form.validate_on_submit():
        audit.record("person.exported", actor_id=current_user.id, subject_id=person.id)
        db.session.commit()
        return _data_file(person, f"einstein-data-{person.id}.json")
    return render_form("auth/act_for.html", form, person=person, action="export")


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def erase_for(user_id: int) -> ResponseReturnValue:
    """Erase a person registered at the desk who withdrew their consent, once a coordinator confirms."""
    person = _person_to_act_for(user_id)
    form = ActForPersonForm()
    if form.validate_on_submit():
        name = person.name
        # the person's id becomes NULL with them; the trail keeps who erased someone, and when
        audit.record("person.erased", actor_id=current_user.id, subject_id=person.id, person_id=person.id)
        services.delete_account(person)
        db.session.commit()
        flash(_("%(name)s and their personal data are deleted.", name=name), "success")
        return redirect(url_for("bookings.desk"), 303)
    return render_form("auth/act_for.html", form, person=person, action="erase")
