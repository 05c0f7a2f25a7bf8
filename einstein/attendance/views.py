"""Routes for taking attendance, course completion, certificates, the dashboard and exports."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
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
from einstein.attendance import exports, reports, services
from einstein.attendance.forms import MarkForm, PeriodForm, ReferenceForm, WalkInForm
from einstein.attendance.models import AttendanceStatus
from einstein.audit import services as audit
from einstein.auth.access import role_required, signed_in
from einstein.auth.models import Audience, Role
from einstein.bookings import queries
from einstein.bookings.errors import BookingError
from einstein.bookings.models import Booking
from einstein.bounds import page_arg
from einstein.courses.models import Category, Offer, OfferSession
from einstein.db import db
from einstein.errors import wants_json
from einstein.extensions import limiter
from einstein.forms import add_error, filled
from einstein.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language

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
    with force_locale(lang):
        document = render_template(
            "attendance/_certificate.html",
            booking=booking,
            result=result,
            offer=offer,
            text=offer.text_for(lang),
            held=services.held_sessions(offer),
            language=LANGUAGES[lang],
        )
    choices = [LANGUAGES[code] for code in dict.fromkeys((own, DEFAULT_LANGUAGE))]
    return render_template(
        "attendance/certificate.html",
        booking=booking,
        document=Markup(document),  # noqa: S704 (rendered by our own autoescaped template)
        choices=choices,
        lang=lang,
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
        offers, more_offers = reports.by_offer(period, category, page)
        session_rows, more_sessions = reports.sessions(period, category, spage)
        mix_months = reports.mix_by_month(period, category)
        return render_template(
            "attendance/_figures.html",
            form=form,
            period=period,
            totals=reports.totals(period, category),
            weeks=reports.by_week(period, category),
            categories=reports.by_category(period),
            offers=offers,
            more_offers=more_offers,
            page=page,
            sessions=session_rows,
            more_sessions=more_sessions,
            spage=spage,
            mix_months=mix_months,
            mix=reports.mix_overall(mix_months),
            mix_min=reports.MIX_MIN_PLACES,
            mix_rounding=reports.MIX_ROUNDING,
            follow_up=reports.follow_up(period),
            audiences=list(Audience),
            repeated=reports.REPEATED_NO_SHOWS,
        )

    # The same for every coordinator; figures may be up to a minute old (reports are heavy queries).
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
