"""Routes for taking attendance, course completion, certificates, the dashboard and exports."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from einstein import caching, policy
from einstein.attendance import credentials, exports, feedback, record, reports, services, summary, volunteering
from einstein.attendance.credential_forms import CheckForm, RevokeForm
from einstein.attendance.forms import (
    FeedbackForm,
    HelpersWantedForm,
    HelpForm,
    MarkForm,
    PeriodForm,
    ReferenceForm,
    WalkInForm,
)
from einstein.attendance.models import AttendanceStatus, Credential
from einstein.audit import services as audit
from einstein.auth.access import role_required, signed_in
from einstein.auth.models import Audience, Role, User
from einstein.bookings import queries
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking
from einstein.bounds import page_arg
from einstein.courses.models import Category, Offer, OfferSession
from einstein.db import db, utcnow
from einstein.errors import wants_json
from einstein.extensions import limiter
from einstein.forms import add_error, filled
from einstein.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language
from einstein.views import render_form

bp = Blueprint("attendance", __name__)

#: The query parameter that chooses a certificate's language (``?lang=`` is the page's).
DOCUMENT_LANGUAGE = "in"


def _session_to_take(session_id: int) -> OfferSession:
    session = db.get_or_404(OfferSession, session_id)
    if not policy.may_take_attendance(current_user, session):
        abort(403)
    return session


def _back(session: OfferSession, anchor: str = "") -> WerkzeugResponse:
    return redirect(url_for("attendance.take", session_id=session.id) + anchor, 303)


def _walk_in_form(session: OfferSession) -> WalkInForm:
    form = WalkInForm()
    form.offer_choices(session.offer.waitlist_enabled)
    return form


@bp.get("/sessions/<int:session_id>/attendance")
@role_required(Role.VOLUNTEER)
def take(session_id: int) -> ResponseReturnValue:
    """The list of people booked, with one tap each for present, absent or excused."""
    session = _session_to_take(session_id)
    return _take_page(session, _walk_in_form(session))


def _take_page(session: OfferSession, walk_in_form: WalkInForm, status: int = 200) -> ResponseReturnValue:
    problem = None
    try:
        services.check_open(session)
    except services.AttendanceError as error:
        problem = error.message
    return render_template(
        "attendance/take.html",
        session=session,
        offer=session.offer,
        sheet=services.sheet(session),
        problem=problem,
        statuses=list(AttendanceStatus),
        reference_form=ReferenceForm(),
        walk_in_form=walk_in_form,
        unit=session.unit,
    ), status


@bp.post("/sessions/<int:session_id>/attendance/<int:booking_id>")
@role_required(Role.VOLUNTEER)
def mark(session_id: int, booking_id: int) -> ResponseReturnValue:
    """Save one tap at once (as JSON for the page's script, or a redirect without it)."""
    session = _session_to_take(session_id)
    booking = db.get_or_404(Booking, booking_id)
    form = MarkForm()
    if not form.validate_on_submit():
        if wants_json():
            return jsonify(error=_("Choose present, absent or excused.")), 400
        abort(400)
    try:
        services.mark(session, booking, AttendanceStatus(form.status.data), current_user)
    except services.AttendanceError as error:
        db.session.rollback()
        if wants_json():
            return jsonify(error=error.message), 409
        flash(error.message, "error")
        return _back(session)
    db.session.commit()
    if wants_json():
        counts = {status.value: count for status, count in services.counts_of(session).items()}
        return jsonify(booking=booking.id, status=form.status.data, counts=counts)
    return _back(session, f"#person-{booking.id}")


@bp.post("/sessions/<int:session_id>/attendance/reference")
@role_required(Role.VOLUNTEER)
def by_reference(session_id: int) -> ResponseReturnValue:
    """Mark the person on a booking card present, from its reference."""
    session = _session_to_take(session_id)
    form = ReferenceForm()
    if form.validate_on_submit():
        try:
            booking = services.mark_by_reference(session, filled(form.reference.data), current_user)
        except services.AttendanceError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _back(session), 303
        db.session.commit()
        name = booking.user.name if booking.user else booking.reference
        flash(_("%(name)s is marked present.", name=name), "success")
        return _back(session, f"#person-{booking.id}")
    for message in form.reference.errors:
        flash(message, "error")
    return _back(session)


@bp.post("/sessions/<int:session_id>/attendance/walk-in")
@role_required(Role.VOLUNTEER)
@limiter.limit(lambda: current_app.config["WALK_IN_RATE_LIMIT"], key_func=lambda: f"walk-in:{current_user.id}")
def walk_in(session_id: int) -> ResponseReturnValue:
    """Add someone who turned up: a place and present; at a full session beyond the places, or waiting."""
    session = _session_to_take(session_id)
    form = _walk_in_form(session)
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
        return _back(session, "#walk-in")
    try:
        person = services.walk_in_person(
            current_user, session, name=filled(form.name.data), phone=form.phone.data or None, locale=form.locale.data
        )
        if_full = services.IfFull(form.if_full.data) if form.if_full.data else None
        done = services.walk_in(session, person, current_user, if_full)
    except (services.AttendanceError, BookingError) as error:
        db.session.rollback()
        if error.code in {"full_choose", "full_no_waitlist"}:
            # the person is still at the door: keep what was typed and ask what to do
            session = _session_to_take(session_id)
            add_error(form.if_full, error.message)
            return _take_page(session, form, 409)
        flash(error.message, "error")
        return _back(session, "#walk-in")
    db.session.commit()
    name = person.name
    if done.result == services.WalkInResult.OVER:
        flash(
            _(
                "%(name)s is let in beyond the %(places)d places and marked present; the list marks them so.",
                name=name,
                places=done.booking.unit.capacity,
            ),
            "success",
        )
    elif done.result == services.WalkInResult.WAITING:
        flash(
            _(
                "%(name)s is on the waiting list, number %(num)d, and not marked present: there is no place. "
                "If a place comes free, it is theirs and they are told.",
                name=name,
                num=done.position or 1,
            ),
            "info",
        )
        return _back(session, "#walk-in")
    else:
        flash(_("%(name)s is booked and marked present.", name=name), "success")
    return _back(session, f"#person-{done.booking.id}")


@bp.get("/offers/<int:offer_id>/completion")
@role_required(Role.VOLUNTEER)
def completion(offer_id: int) -> ResponseReturnValue:
    """Attendance per participant over a whole course, with certificates for those who came enough."""
    offer = db.get_or_404(Offer, offer_id)
    if not policy.may_manage_offer(current_user, offer):
        abort(403)
    if not offer.is_course:
        abort(404)
    schedule, rows = services.completion(offer)
    return render_template("attendance/completion.html", offer=offer, schedule=schedule, held=schedule.held, rows=rows)


@bp.get("/bookings/<reference>/certificate")
@signed_in
def certificate(reference: str) -> ResponseReturnValue:
    """A print-ready certificate of participation once earned, in the participant's language or
    another (``?in=nl`` for an employer): only the document changes language, not the page."""
    booking = queries.by_reference(reference)
    if booking is None or not policy.may_see_record(current_user, booking):
        abort(404)
    result = services.completion_of(booking)
    if result is None or booking.user is None:
        abort(404)
    own = booking.user.locale if booking.user.locale in LANGUAGES else DEFAULT_LANGUAGE
    lang = request.args.get(DOCUMENT_LANGUAGE, own)
    if lang not in LANGUAGES:
        abort(400)
    offer = booking.offer
    if not result.earned:
        return render_template("attendance/certificate_refused.html", booking=booking, result=result, offer=offer), 409
    credential = credentials.certificate_for(booking, result)
    db.session.commit()  # issued the first time it is shown, with the code that checks it
    with force_locale(lang):
        document = render_template(
            "attendance/_certificate.html",
            booking=booking,
            result=result,
            offer=offer,
            text=offer.text_for(lang),
            held=services.held_sessions(offer),
            language=LANGUAGES[lang],
            **credentials.printed_with(credential),
        )
    choices = [LANGUAGES[code] for code in dict.fromkeys((own, DEFAULT_LANGUAGE))]
    return render_template(
        "attendance/certificate.html",
        booking=booking,
        document=Markup(document),  # noqa: S704 (rendered by our own autoescaped template)
        choices=choices,
        lang=lang,
    )


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def how_was_it(token: str) -> ResponseReturnValue:
    """ "How was it?" after a session: three faces, one tap (a plain form), then an optional sentence.

    Opened from "my bookings" or from a link in a message, so people without a password can answer.
    """
    found = feedback.read_feedback_token(token)
    if found is None:
        return render_template("attendance/feedback_refused.html", message=None), 404
    person, session = found
    try:
        feedback.check_answerable(person, session)
    except feedback.FeedbackError as error:
        return render_template("attendance/feedback_refused.html", message=error.message, session=session), 409
    form = FeedbackForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                feedback.answer(
                    person,
                    session,
                    feedback.Face(form.face.data),
                    form.sentence.data,
                    with_sentence="sentence" in request.form,
                )
            except feedback.FeedbackError as error:  # pragma: no cover (checked just above, in this transaction)
                db.session.rollback()
                return render_template("attendance/feedback_refused.html", message=error.message), 409
            db.session.commit()
            if "sentence" in request.form:
                flash(_("Thank you! Your answer is saved."), "success")
            return redirect(url_for("attendance.how_was_it", token=token, saved=1), 303)
        status = 422
    given = feedback.answer_of(person, session)
    if request.method == "GET" and given is not None:
        form.face.data = given.face.value
        form.sentence.data = given.sentence or ""
    return render_template(
        "attendance/feedback.html",
        form=form,
        session=session,
        offer=session.offer,
        given=given,
        faces=list(feedback.Face),
        token=token,
        saved=request.args.get("saved") == "1",
    ), status


@bp.get("/offers/<int:offer_id>/feedback")
@role_required(Role.VOLUNTEER)
def offer_feedback(offer_id: int) -> ResponseReturnValue:
    """What participants said about an offer, in aggregate only (nothing below five answers)."""
    offer = db.get_or_404(Offer, offer_id)
    if not policy.may_see_feedback(current_user, offer):
        abort(403)
    return render_template(
        "attendance/feedback_summary.html",
        offer=offer,
        result=feedback.of_offer(offer),
        faces=list(feedback.Face),
        min_answers=feedback.MIN_ANSWERS,
    )


def _period(form: PeriodForm) -> tuple[reports.Period, Category | None, bool]:
    """The period and category asked for (or the default period); an empty form shows the period."""
    valid = form.validate()
    default = reports.Period.default()
    start = form.start.data if valid and form.start.data else default.start
    end = form.end.data if valid and form.end.data else default.end
    if end < start:
        start, end = default.start, default.end
    category = Category(form.category.data) if valid and form.category.data else None
    if not form.start.data:
        form.start.data, form.end.data = start, end
    return reports.Period(start, end), category, valid


@bp.get("/dashboard")
@role_required(Role.COORDINATOR)
def dashboard() -> ResponseReturnValue:
    """Bookings, attendance, fill and no-show rates, over time and by category; the mix; follow-up."""
    form = PeriodForm(request.args)
    period, category, valid = _period(form)
    page, spage = page_arg("page"), page_arg("spage")

    def figures() -> str:
        summary.refresh()  # what changed since the last look, counted again (einstein.attendance.summary)
        offers, more_offers = summary.by_offer(period, category, page)
        session_rows, more_sessions = summary.sessions(period, category, spage)
        mix_months = reports.mix_by_month(period, category)
        return render_template(
            "attendance/_figures.html",
            form=form,
            period=period,
            totals=summary.totals(period, category),
            weeks=summary.by_week(period, category),
            categories=summary.by_category(period),
            offers=offers,
            more_offers=more_offers,
            page=page,
            sessions=session_rows,
            more_sessions=more_sessions,
            spage=spage,
            mix_months=mix_months,
            satisfaction=summary.satisfaction(period, category),
            feedback_min=feedback.MIN_ANSWERS,
            mix=reports.mix_overall(mix_months),
            mix_min=reports.MIX_MIN_PLACES,
            mix_rounding=reports.MIX_ROUNDING,
            follow_up=summary.follow_up(period),
            audiences=list(Audience),
            repeated=reports.REPEATED_NO_SHOWS,
        )

    # The same for every coordinator; figures may be up to a minute old.
    key = (current_language().code, period, category, page, spage)
    html = caching.fragment("dashboard", key, figures, timeout=60, versioned=False)
    return render_template("attendance/dashboard.html", form=form, period=period, figures=html), 200 if valid else 400


@bp.get("/exports")
@role_required(Role.COORDINATOR)
def exports_page() -> ResponseReturnValue:
    """Choose what to export, for which period, as CSV or XLSX."""
    form = PeriodForm(request.args)
    period, _category, valid = _period(form)
    return render_template(
        "attendance/exports.html", form=form, period=period, exports=exports.EXPORTS
    ), 200 if valid else 400


@bp.get("/exports/<name>.<any(csv, xlsx):fmt>")
@role_required(Role.COORDINATOR)
def export(name: str, fmt: str) -> ResponseReturnValue:
    """Download one export for the period."""
    chosen = exports.EXPORTS.get(name)
    if chosen is None:
        abort(404)
    form = PeriodForm(request.args)
    period, _category, valid = _period(form)
    if not valid:
        abort(400)
    audit.record(
        "report.exported",
        actor_id=current_user.id,
        export=name,
        format=fmt,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
    )
    db.session.commit()
    filename = f"einstein-{name}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if fmt == "xlsx":
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(exports.xlsx_bytes(chosen, period), mimetype=mimetype, headers=headers)
    # written whole before the answer starts: a failure is an error page, never half a file
    body, size = exports.csv_file(chosen, period)
    headers["Content-Length"] = str(size)
    return Response(body, mimetype="text/csv", headers=headers)


# --- volunteers: helping at sessions, hours, the statement of volunteer work -------------------------


def _session_to_help(session_id: int) -> OfferSession:
    session = db.get_or_404(OfferSession, session_id)
    if not policy.may_view_offer(current_user, session.offer):
        abort(404)
    return session


def _to_session(session: OfferSession) -> WerkzeugResponse:
    return redirect(url_for("courses.offer_detail", offer_id=session.offer_id) + f"#session-{session.id}", 303)


def _change_help(session: OfferSession, change: Callable[[User, OfferSession], object], done: str) -> WerkzeugResponse:
    """Sign the volunteer up or take them off (``change``), or say why not; back to the session."""
    try:
        change(current_user, session)
    except volunteering.VolunteeringError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _to_session(session)
    db.session.commit()
    flash(done, "success")
    return _to_session(session)


@bp.route("/offers/<int:offer_id>/helpers", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def helpers(offer_id: int) -> ResponseReturnValue:
    """Ask for helpers per session, and see who helps at each session (the organiser and coordinators)."""
    offer = db.get_or_404(Offer, offer_id)
    if not policy.may_view_offer(current_user, offer):
        abort(404)
    if not policy.may_see_helpers(current_user, offer):
        abort(403)
    form = HelpersWantedForm()
    if request.method == "GET":
        form.number.data = offer.helpers_wanted
    elif form.validate_on_submit():
        volunteering.set_wanted(offer, form.number.data or 0)
        db.session.commit()
        flash(_("Saved: %(num)d helpers wanted per session.", num=offer.helpers_wanted), "success")
        return redirect(url_for("attendance.helpers", offer_id=offer.id), 303)
    now = utcnow()
    upcoming = [s for s in offer.sessions if s.ends_at > now][:20]
    past = [s for s in offer.sessions if s.ends_at <= now][-10:]
    return render_form(
        "attendance/volunteer_helpers.html",
        form,
        offer=offer,
        upcoming=volunteering.helpers_of(offer, upcoming),
        past=volunteering.helpers_of(offer, reversed(past)),
    )


@bp.post("/sessions/<int:session_id>/help")
@role_required(Role.VOLUNTEER)
def sign_up_to_help(session_id: int) -> ResponseReturnValue:
    """ "I'll help": sign up as a helper, as long as helpers are still wanted."""
    session = _session_to_help(session_id)
    if not HelpForm().validate_on_submit():
        abort(400)
    return _change_help(
        session,
        volunteering.sign_up,
        _("Thank you: you are helping at this session. The organiser sees your name."),
    )


@bp.route("/sessions/<int:session_id>/help/withdraw", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def withdraw_help(session_id: int) -> ResponseReturnValue:
    """ "I can't help after all": asked once more, then the sign-up is taken back."""
    session = _session_to_help(session_id)
    form = HelpForm()
    if request.method == "GET":
        if volunteering.find(current_user, session) is None:
            flash(str(volunteering.ERRORS["not_helping"]), "info")
            return _to_session(session)
        return render_template("attendance/volunteer_withdraw.html", session=session, offer=session.offer, form=form)
    if not form.validate_on_submit():
        abort(400)
    return _change_help(
        session,
        volunteering.withdraw,
        _("You are no longer helping at this session. Thank you for letting the organiser know."),
    )


@bp.get("/my/volunteering")
@role_required(Role.VOLUNTEER)
def volunteer_work() -> ResponseReturnValue:
    """My volunteer work: the hours per month and the sessions I organised or helped at."""
    rows = volunteering.given(current_user)
    return render_template(
        "attendance/volunteer_work.html",
        months=volunteering.by_month(rows),
        total=sum(row.hours for row in rows),
        sessions=len(rows),
    )


@bp.get("/my/volunteering/statement")
@role_required(Role.VOLUNTEER)
def volunteer_statement() -> ResponseReturnValue:
    """A print-ready statement of volunteer work, in the volunteer's language or in Dutch (``?in=nl``)."""
    own = current_user.locale if current_user.locale in LANGUAGES else DEFAULT_LANGUAGE
    lang = request.args.get(DOCUMENT_LANGUAGE, own)
    if lang not in LANGUAGES:
        abort(400)
    statement = volunteering.statement_for(current_user)
    credential = None
    if not statement.empty and statement.first is not None and statement.last is not None:
        # issued the first time these hours are shown, with the code that checks them
        credential = credentials.statement_for(
            current_user,
            organisation=statement.organisation,
            first_day=statement.first,
            last_day=statement.last,
            minutes=round(statement.hours * 60),
        )
        db.session.commit()
    with force_locale(lang):
        document = render_template(
            "attendance/_volunteer_statement.html",
            statement=statement,
            language=LANGUAGES[lang],
            lang=lang,
            **credentials.printed_with(credential),
        )
    choices = [LANGUAGES[code] for code in dict.fromkeys((own, DEFAULT_LANGUAGE))]
    return render_template(
        "attendance/volunteer_statement.html",
        statement=statement,
        document=Markup(document),  # noqa: S704 (rendered by our own autoescaped template)
        choices=choices,
        lang=lang,
    )


@bp.get("/dashboard/volunteers")
@role_required(Role.COORDINATOR)
def volunteer_hours() -> ResponseReturnValue:
    """The volunteers' hours in a period: sessions organised and helped at, from sessions that took place."""
    form = PeriodForm(request.args)
    period, _category, valid = _period(form)
    rows = volunteering.hours_by_volunteer(period.starts_at, period.ends_before)
    return render_template(
        "attendance/volunteer_hours.html",
        form=form,
        period=period,
        rows=rows,
        total=sum(row.hours for row in rows),
    ), 200 if valid else 400


# --- certificates anyone can check, and the learning record -----------------------------------------


def _check_limit() -> str:
    return str(current_app.config["CHECK_RATE_LIMIT"])


def _not_indexed(response: WerkzeugResponse) -> WerkzeugResponse:
    """Search engines keep no copy of a check (a name on it), and no cache keeps an old answer."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/check")
@limiter.limit(_check_limit)
def check_form() -> ResponseReturnValue:
    """Type the code printed on a certificate or statement (capitals, spaces and dashes forgiven)."""
    form = CheckForm(request.args)
    status = 200
    if request.args:
        if form.validate():
            typed = credentials.read_code(filled(form.code.data))
            if typed.code is not None:
                return redirect(url_for("attendance.check", code=credentials.format_code(typed.code)), 303)
            add_error(
                form.code,
                _("This code has a typo: check it against the document and type it again.")
                if typed.typo
                else _("A code has 12 letters and digits, for example K7MQ-4X9A-B3CP."),
            )
        status = 422
    return _not_indexed(make_response(render_template("attendance/verify_form.html", form=form), status))


@bp.get("/check/<code>")
@limiter.limit(_check_limit)
def check(code: str) -> ResponseReturnValue:
    """The public check of a certificate or statement: valid (who, what, when) or not, nothing more."""
    typed = credentials.read_code(code)
    credential = credentials.by_code(typed.code) if typed.code else None
    if credential is None:
        page = render_template("attendance/verify_unknown.html", form=CheckForm(), typo=typed.typo)
        return _not_indexed(make_response(page, 404))
    canonical = credentials.format_code(credential.code)
    if code != canonical:
        return redirect(url_for("attendance.check", code=canonical), 301)
    page = render_template(
        "attendance/verify.html", credential=credential, days=credentials.days, hours=credentials.hours
    )
    return _not_indexed(make_response(page))


@bp.get("/offers/<int:offer_id>/certificates")
@role_required(Role.COORDINATOR)
def issued(offer_id: int) -> ResponseReturnValue:
    """The certificates issued for a course, with their codes, and a way to revoke each."""
    offer = db.get_or_404(Offer, offer_id)
    if not policy.may_see_credentials(current_user, offer):
        abort(403)
    return render_template("attendance/verify_issued.html", offer=offer, issued=credentials.issued_for(offer))


@bp.route("/certificates/<int:credential_id>/revoke", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def revoke(credential_id: int) -> ResponseReturnValue:
    """Revoke a certificate or statement, after a page that says what it means and asks why."""
    credential = db.get_or_404(Credential, credential_id)
    if not policy.may_revoke_credential(current_user):
        abort(403)
    form = RevokeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and credential.revoked_at is None:
            credentials.revoke(credential, current_user, filled(form.reason.data))
            db.session.commit()
            flash(
                _(
                    "Revoked: the check of %(code)s now says it is not valid.",
                    code=credentials.format_code(credential.code),
                ),
                "success",
            )
            if credential.offer_id is not None:
                return redirect(url_for("attendance.issued", offer_id=credential.offer_id), 303)
            return redirect(url_for("attendance.check", code=credentials.format_code(credential.code)), 303)
        status = 422 if credential.revoked_at is None else 409
    return render_template("attendance/verify_revoke.html", credential=credential, form=form), status


@bp.get("/my/record")
@signed_in
def learning_record() -> ResponseReturnValue:
    """Every course completed, certificate and volunteer statement, with the codes that check them."""
    found = record.record_of(current_user)
    db.session.commit()  # certificates shown here for the first time are issued
    return render_template(
        "attendance/record.html",
        record=found,
        days=credentials.days,
        hours=credentials.hours,
        form_url=credentials.check_form_url(),
    )


@bp.get("/my/record.pdf")
@signed_in
def learning_record_pdf() -> ResponseReturnValue:
    """The learning record as one PDF, in the reader's language (``?in=nl`` for Dutch)."""
    lang = request.args.get(DOCUMENT_LANGUAGE, current_language().code)
    if lang not in LANGUAGES:
        abort(400)
    found = record.record_of(current_user)
    db.session.commit()
    with force_locale(lang):
        body = record.pdf_bytes(found, LANGUAGES[lang])
    headers = {
        "Content-Disposition": f'attachment; filename="einstein-learning-record-{lang}.pdf"',
        "Cache-Control": "no-store",
    }
    return Response(body, mimetype="application/pdf", headers=headers)
