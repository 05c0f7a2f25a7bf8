"""Routes for signing up and in, the profile, privacy and roles."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import selectinload

from einstein import policy
from einstein.audit import services as audit
from einstein.auth import reach, services
from einstein.auth import sessions as sign_ins
from einstein.auth.access import role_required, signed_in
from einstein.auth.devices import describe_device
from einstein.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    PeopleSearchForm,
    PhoneCodeForm,
    ProfileForm,
    ResetRequestForm,
    RoleForm,
    SignupForm,
)
from einstein.auth.models import Audience, Role, User
from einstein.auth.tokens import TokenError, make_reset_token, read_reset_token, read_verify_token
from einstein.auth.unsubscribe import read_unsubscribe_token, stop_emails
from einstein.bounds import page_arg
from einstein.db import db
from einstein.extensions import csrf, limiter
from einstein.forms import ButtonForm, add_error, filled
from einstein.i18n import current_language
from einstein.privacy import services as privacy
from einstein.urls import safe_next
from einstein.views import FORM_INVALID, render_form

bp = Blueprint("auth", __name__)


def _login_account() -> str:
    """The account a sign-in is for, by id: every way of writing its address or number is one
    account; all identifiers that match no account share one key."""
    if "login_account" not in g:
        user = services.find_by_identifier(request.form.get("identifier") or "")
        g.login_account = str(user.id) if user is not None else "unknown"
    return str(g.login_account)


def _login_account_key() -> str:
    return "login-account:" + _login_account()


def _login_account_address_key() -> str:
    return f"login-account-address:{_login_account()}:{get_remote_address()}"


def _reset_email_key() -> str:
    return "reset:" + (services.normalise_email(request.form.get("email")) or "")[:254]


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) == FORM_INVALID


def _sign_in(user: User, remember: bool) -> None:
    # A new session on every sign-in: nothing from before it (fixation) survives.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    sign_ins.start_login_session(user, remember=remember, device=describe_device(request.user_agent.string))
    login_user(user, remember=remember)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"])
def signup() -> ResponseReturnValue:
    """Make a participant account: with an e-mail address, finished by its link; with a phone, at once."""
    if current_user.is_authenticated:
        return redirect(url_for("courses.index"))
    form = SignupForm()
    if request.method == "GET":
        form.locale.data = str(request.args.get("lang") or current_language().code)
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        try:
            services.sign_up(
                filled(form.name.data),
                email=email,
                phone=form.phone.data or None,
                password=form.password.data,
                locale=form.locale.data,
                audience=Audience(form.audience.data),
            )
        except services.AccountExistsError:  # pragma: no cover - sign_up tells the owner instead
            add_error(form.phone, _("There is already an account with this phone number. Sign in instead."))
        else:
            # the same answer whether the address or number was new or had an account (its owner
            # is told): with an address, its link finishes; with only a number, the code texted
            db.session.commit()
            if email:
                return render_template("auth/signup_sent.html", email=email)
            session["signup_phone"] = form.phone.data
            return redirect(url_for("auth.signup_code"), 303)
    return render_form("auth/signup.html", form)


@bp.route("/signup/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PHONE_CODE_RATE_LIMIT"], methods=["POST"])
def signup_code() -> ResponseReturnValue:
    """Type the code texted at sign-up: the number is the person's, and they are signed in."""
    phone = session.get("signup_phone")
    if current_user.is_authenticated or not phone:
        return redirect(url_for("courses.index"))
    form = PhoneCodeForm()
    if form.validate_on_submit():
        user = services.awaiting_code(phone)
        if user is not None and services.confirm_phone(user, form.code.data or ""):
            session.pop("signup_phone", None)
            _sign_in(user, remember=False)
            db.session.commit()
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
            return redirect(url_for("courses.index"))
        db.session.commit()  # a wrong try counts
        add_error(form.code, _("This code is not right, or too old. Check the text message, or ask for a new code."))
    return render_form("auth/phone_code.html", form, phone=phone, signing_up=True)


@bp.post("/signup/code/again")
@limiter.limit("3 per 15 minutes")
def signup_code_again() -> ResponseReturnValue:
    """Text the sign-up code again (not more than once a minute)."""
    phone = session.get("signup_phone")
    user = services.awaiting_code(phone) if phone else None
    if user is not None and services.send_phone_code(user):
        db.session.commit()
    flash(_("If the number is right, a new code is on its way."), "info")
    return redirect(url_for("auth.signup_code"), 303)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS"],
    key_func=_login_account_address_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed)
def login() -> ResponseReturnValue:
    """Sign in with an e-mail address or phone number and a password."""
    target = safe_next(request.args.get("next"), url_for("courses.index"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(filled(form.identifier.data), filled(form.password.data))
        if user is not None:
            _sign_in(user, remember=form.remember.data)
            db.session.commit()
            flash(_("You are signed in."), "success")
            return redirect(target)
        # The same words whether the account is unknown or the password wrong.
        add_error(form.password, _("This e-mail address or phone number and password do not match."))
    return render_form("auth/login.html", form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out, ending this sign-in on the server so the cookie cannot be used again."""
    if current_user.is_authenticated:
        sign_ins.end_login_session(current_user.get_id())
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("courses.index"))


@bp.get("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """Show the button that confirms an address (mail scanners follow links; people press buttons)."""
    try:
        user, email = read_verify_token(token)
    except TokenError as error:
        return render_template("auth/link_problem.html", expired=error.expired, kind="verify"), 400
    return render_template("auth/verify.html", user=user, email=email, token=token)


@bp.post("/verify/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """Confirm the address the link was sent to; an account without a password chooses one next."""
    try:
        user, email = read_verify_token(token)
    except TokenError as error:
        return render_template("auth/link_problem.html", expired=error.expired, kind="verify"), 400
    if not services.confirm_email(user, email):
        db.session.rollback()
        return render_template("auth/link_problem.html", expired=False, kind="verify"), 400
    db.session.commit()
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    if user.password_hash is None:  # made at the desk: the link just proved the mailbox is theirs
        return redirect(url_for("auth.reset_password", token=make_reset_token(user)), 303)
    return redirect(url_for("auth.profile") if current_user.is_authenticated else url_for("auth.login"), 303)


def _without_form_token(view: Callable[[str], ResponseReturnValue]) -> Callable[[str], ResponseReturnValue]:
    """Take a view out of CSRF protection (flask-wtf's ``csrf.exempt``, typed)."""
    csrf.exempt(view)
    return view


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@_without_form_token  # RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click", with no form token
def unsubscribe(token: str) -> ResponseReturnValue:
    """Stop reminder e-mails from the link in one: a page that asks, and one click (a POST).

    The token is the secret (as in a cancel link); mail scanners follow links, so only a POST acts.
    """
    user = read_unsubscribe_token(token)
    if user is None:
        return render_template("auth/unsubscribe.html", user=None, done=False), 404
    if request.method == "POST":
        stop_emails(user)
        db.session.commit()
        return render_template("auth/unsubscribe.html", user=user, done=True, told=reach.told(user))
    done = not user.email_notifications
    return render_template("auth/unsubscribe.html", user=user, done=done, told=reach.told(user), token=token)


@bp.post("/account/verify")
@signed_in
@limiter.limit("5 per hour", key_func=lambda: f"verify:{current_user.id}")
def resend_verification() -> ResponseReturnValue:
    """Send the confirmation link again."""
    if services.request_verification(current_user):
        db.session.commit()
        flash(_("We sent the link again. Please check your inbox (and the spam folder)."), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_ACCOUNT"], key_func=_reset_email_key, methods=["POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_ADDRESS"], methods=["POST"])
def reset_request() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(filled(form.email.data))
        db.session.commit()
        flash(_("If an account has this address, we have sent it a link. Please check your inbox."), "info")
        return redirect(url_for("auth.login"))
    return render_form("auth/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT_ADDRESS"], methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password with a single-use link."""
    try:
        user = read_reset_token(token)
    except TokenError as error:
        return render_template("auth/link_problem.html", expired=error.expired, kind="reset"), 400
    form = NewPasswordForm()
    form.personal = (user.name, user.email or "")
    if form.validate_on_submit():
        services.set_password(user, filled(form.password.data))
        _sign_in(user, remember=False)
        db.session.commit()
        flash(_("Your password is changed and you are signed in. Other devices are signed out."), "success")
        return redirect(url_for("courses.index"))
    return render_form("auth/reset_password.html", form, token=token)


@bp.route("/account", methods=["GET", "POST"])
@signed_in
@limiter.limit(
    lambda: current_app.config["PROFILE_RATE_LIMIT"], key_func=lambda: f"profile:{current_user.id}", methods=["POST"]
)
def profile() -> ResponseReturnValue:
    """Show and change name, contact, language, 'about you' and e-mail preferences.

    A new e-mail address or phone number needs the current password: on a shared or borrowed
    phone, an open session alone must not be enough to take the account over.
    """
    user: User = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.audience.data = user.audience.value
        form.notify_by.data = reach.channel_for(user)
    if form.validate_on_submit():
        email, phone = services.normalise_email(form.email.data), form.phone.data or None
        new_contact = email != user.email or phone != user.phone
        change = None
        if new_contact and not services.check_password(user, form.current_password.data or ""):
            add_error(
                form.current_password,
                _("Please type your current password to change your e-mail address or phone number."),
            )
        else:
            try:
                change = services.change_contact(user, email=email, phone=phone) if new_contact else None
            except services.AccountExistsError:
                add_error(form.phone, _("This phone number cannot be used. Please check it, or ask at the desk."))
            else:
                privacy.save_profile(
                    user,
                    name=filled(form.name.data),
                    locale=form.locale.data,
                    audience=Audience(form.audience.data),
                    email_notifications=form.email_notifications.data,
                    notify_by=form.notify_by.data or None,
                )
                db.session.commit()
                flash(_("Your profile is saved."), "success")
                if change is not None and change.code_sent:
                    flash(_("We sent a code by text message to %(phone)s. Type it here.", phone=phone), "info")
                    return redirect(url_for("auth.confirm_phone"), 303)
                if change is not None and change.email_sent:
                    flash(
                        _(
                            "We sent a link to %(email)s. Your new address is used once you follow it; "
                            "until then we keep writing to the old one.",
                            email=email,
                        ),
                        "info",
                    )
                return redirect(url_for("auth.profile"))
        db.session.rollback()
    return render_form("auth/profile.html", form, user=user, ways=reach.channels_of(user), told=reach.told(user))


@bp.route("/account/phone", methods=["GET", "POST"])
@signed_in
@limiter.limit(lambda: current_app.config["PHONE_CODE_RATE_LIMIT"], methods=["POST"])
def confirm_phone() -> ResponseReturnValue:
    """Type the code texted to a new number: from then on it is the account's."""
    user: User = current_user._get_current_object()
    phone = user.phone_to_verify
    if phone is None:
        return redirect(url_for("auth.profile"))
    form = PhoneCodeForm()
    if form.validate_on_submit():
        if services.confirm_phone(user, form.code.data or ""):
            db.session.commit()
            flash(_("Thank you, your phone number is confirmed: %(told)s", told=reach.told(user)), "success")
            return redirect(url_for("auth.profile"), 303)
        db.session.commit()  # a wrong try counts
        add_error(form.code, _("This code is not right, or too old. Check the text message, or ask for a new code."))
    return render_form("auth/phone_code.html", form, phone=phone, signing_up=False)


@bp.post("/account/phone/send")
@signed_in
@limiter.limit("3 per 15 minutes", key_func=lambda: f"phone-code:{current_user.id}")
def send_phone_code() -> ResponseReturnValue:
    """Text a code to the number waiting to be confirmed (not more than once a minute)."""
    if services.send_phone_code(current_user):
        db.session.commit()
        flash(_("A new code is on its way."), "info")
    else:
        flash(_("Please wait a minute before asking for another code."), "info")
    return redirect(url_for("auth.confirm_phone"), 303)


@bp.route("/account/devices", methods=["GET"])
@signed_in
def devices() -> ResponseReturnValue:
    """The devices signed in to this account, with a button to sign each one out."""
    user: User = current_user._get_current_object()
    live = sign_ins.live_login_sessions(user)
    current = next((s.id for s in live if sign_ins.is_current(s, user.get_id())), None)
    return render_template("auth/devices.html", sessions=live, current=current, form=ButtonForm())


@bp.post("/account/devices/<int:session_id>/end")
@signed_in
def end_device(session_id: int) -> ResponseReturnValue:
    """Sign one device out."""
    form = ButtonForm()
    if form.validate_on_submit() and sign_ins.end_login_session_by_id(current_user, session_id):
        db.session.commit()
        flash(_("That device is signed out."), "success")
    return redirect(url_for("auth.devices"), 303)


@bp.post("/account/devices/end-others")
@signed_in
def end_other_devices() -> ResponseReturnValue:
    """Sign out every device but this one."""
    form = ButtonForm()
    if form.validate_on_submit():
        count = sign_ins.end_all_login_sessions(current_user, keep=current_user.get_id())
        db.session.commit()
        flash(_("%(num)d other device(s) signed out.", num=count), "success")
    return redirect(url_for("auth.devices"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> ResponseReturnValue:
    """Change the password; every other device is signed out."""
    user: User = current_user._get_current_object()
    form = ChangePasswordForm()
    form.personal = (user.name, user.email or "")
    if form.validate_on_submit():
        if user.password_hash is not None and not services.check_password(user, filled(form.current_password.data)):
            add_error(form.current_password, _("This is not your current password."))
        else:
            services.set_password(user, filled(form.password.data))
            _sign_in(user, remember=False)
            db.session.commit()
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("auth.profile"))
    return render_form("auth/change_password.html", form)


@bp.get("/people")
@role_required(Role.COORDINATOR)
def people() -> ResponseReturnValue:
    """List and find people, to change their role (coordinators and admins)."""
    form = PeopleSearchForm(request.args)
    query, role = None, None
    if form.validate():
        query = form.q.data or None
        role = Role(form.role.data) if form.role.data else None
    # each person's languages for translating are shown beside their name: read for the whole
    # page at once (the catalogue adds that collection to User; the accounts do not import it)
    grants = sa.inspect(User).relationships["translator_languages"].class_attribute
    listed = services.search_people(query, role).options(selectinload(grants))
    pagination = db.paginate(listed, page=page_arg(), per_page=25, error_out=False)
    # the roles the current person may give each person listed
    assignable = {
        person.id: [role for role in Role if role != person.role and policy.may_set_role(current_user, person, role)]
        for person in pagination.items
    }
    return render_template("auth/people.html", form=form, pagination=pagination, assignable=assignable)


@bp.post("/people/<int:user_id>/role")
@role_required(Role.COORDINATOR)
def set_role(user_id: int) -> ResponseReturnValue:
    """Change someone's role, within what the current role may give."""
    target = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Please choose a role."), "error")
        return redirect(url_for("auth.people")), 303
    new_role = Role(form.role.data)
    if not policy.may_set_role(current_user, target, new_role):
        abort(403)
    services.set_role(target, new_role, by=current_user)
    db.session.commit()
    flash(_("%(name)s is now: %(role)s.", name=target.name, role=new_role.label), "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.people")))


@bp.post("/people/<int:user_id>/trusted")
@role_required(Role.COORDINATOR)
def set_trusted(user_id: int) -> ResponseReturnValue:
    """Mark a volunteer as trusted (their activities skip approval), or not."""
    target = db.get_or_404(User, user_id)
    if not services.set_trusted(target, request.form.get("trusted") == "1", by=current_user):
        flash(_("Only volunteers can be trusted this way."), "error")
        return redirect(url_for("auth.people"))
    db.session.commit()
    if target.trusted:
        flash(_("%(name)s's activities will be published without waiting for approval.", name=target.name), "success")
    else:
        flash(_("%(name)s's activities will wait for approval again.", name=target.name), "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.people")))


@bp.post("/people/<int:user_id>/sign-out")
@role_required(Role.ADMIN)
def end_sign_ins(user_id: int) -> ResponseReturnValue:
    """Sign a person out on every device (admins)."""
    target = db.get_or_404(User, user_id)
    form = ButtonForm()
    if not form.validate_on_submit() or not policy.may_end_sign_ins(current_user, target):
        abort(403)
    count = sign_ins.end_all_login_sessions(target)
    audit.record("person.signed_out", actor_id=current_user.id, subject_id=target.id, sessions=count)
    db.session.commit()
    flash(_("%(name)s is signed out on %(num)d device(s).", name=target.name, num=count), "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.people")), 303)
