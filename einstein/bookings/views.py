"""Routes for booking, cancelling, my bookings, calendar feeds and the desk."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from einstein import policy
from einstein.attendance import services as attendance
from einstein.auth import reach
from einstein.auth import services as accounts
from einstein.auth.access import role_required, signed_in
from einstein.auth.models import Audience, Role, User
from einstein.bookings import desk as at_desk
from einstein.bookings import links, queries, services
from einstein.bookings.errors import BookingError
from einstein.bookings.forms import BookForm, CancelForm, DeskBookForm, DeskPersonForm, DeskSearchForm
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.courses.calendar import calendar_bytes
from einstein.courses.models import Offer, OfferSession
from einstein.db import db, utcnow
from einstein.extensions import limiter
from einstein.forms import add_error, choices, filled
from einstein.urls import safe_next
from einstein.views import render_form

bp = Blueprint("bookings", __name__)

#: A booking that cannot be made conflicts with the current state of the places.
REFUSED = 409


def _refused(target: Target, error: BookingError) -> ResponseReturnValue:
    db.session.rollback()
    offer = db.session.get(Offer, target.offer.id)
    unit = db.session.get(type(target.unit), target.unit.id)
    can_wait = error.code == "full_offer_waitlist"
    return render_template(
        "bookings/refused.html", offer=offer, unit=unit, target=target, message=error.message, can_wait=can_wait
    ), REFUSED


def _book(locked: services.Locked | None, kind_ok: bool) -> ResponseReturnValue:
    """Book what ``lock_for_booking`` found and locked, if the person may see it and it is of the
    kind the address says."""
    if locked is None or not kind_ok or not policy.may_view_offer(current_user, locked.target.offer):
        abort(404)
    target = locked.target
    form = BookForm()
    if not form.validate_on_submit():
        abort(400)
    waitlist = form.waitlist.data == "1"
    try:
        booking = services.book(current_user, locked, waitlist=waitlist)
        # Read what the message needs inside the transaction: after the commit it would be reloaded.
        confirmed, reference = booking.status == BookingStatus.CONFIRMED, booking.reference
        told = reach.told(current_user)  # how they will hear of it (read before the commit expires it)
        # A new place on the list is always the last one: the list's length, counted under the lock.
        place = None if confirmed else target.unit.waitlist_count
        db.session.commit()
    except BookingError as error:
        if error.code == "full" and target.offer.waitlist_enabled:
            error = BookingError("full_offer_waitlist")
        return _refused(target, error)
    except IntegrityError:
        # Only reachable without the lock (a test setting): the unique index still says no.
        return _refused(target, BookingError("already_booked"))
    if confirmed:
        flash(_("You have a place! Your booking reference is %(ref)s. %(told)s", ref=reference, told=told), "success")
    else:
        flash(
            _(
                "You are on the waiting list, number %(num)d. If a place comes free, we tell you. %(told)s",
                num=place,
                told=told,
            ),
            "success",
        )
    return redirect(url_for("bookings.mine"), 303)


@bp.post("/offers/<int:offer_id>/book")
@signed_in
def book_course(offer_id: int) -> ResponseReturnValue:
    """Book a whole course."""
    locked = services.lock_for_booking(current_user, Offer, offer_id)
    return _book(locked, locked is not None and locked.target.offer.is_course)


@bp.post("/sessions/<int:session_id>/book")
@signed_in
def book_session(session_id: int) -> ResponseReturnValue:
    """Book one session of an activity (a course is booked as a whole)."""
    locked = services.lock_for_booking(current_user, OfferSession, session_id)
    return _book(locked, locked is not None and not locked.target.offer.is_course)


def _booking_for(reference: str) -> Booking:
    booking = queries.by_reference(reference)
    if booking is None or not policy.may_change_booking(current_user, booking):
        abort(404)
    return booking


def _cancel(booking: Booking) -> ResponseReturnValue:
    for_someone = booking.user_id != current_user.id  # a coordinator, at the desk
    reason = CancelReason.ORGANISER if for_someone else CancelReason.PARTICIPANT
    was_waiting = booking.status == BookingStatus.WAITLISTED
    try:
        services.cancel(booking, reason=reason, by=current_user)
    except BookingError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("bookings.mine"), 303)
    db.session.commit()
    flash(
        _("You left the waiting list.")
        if was_waiting
        else _("Your booking is cancelled. Thank you for letting us know."),
        "success",
    )
    return redirect(safe_next(request.form.get("next"), url_for("bookings.mine")), 303)


@bp.route("/bookings/<reference>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(reference: str) -> ResponseReturnValue:
    """Cancel a booking (after a confirmation page), or leave the waiting list in one tap."""
    booking = _booking_for(reference)
    form = CancelForm()
    if form.validate_on_submit():
        return _cancel(booking)
    if not booking.is_active:
        flash(_("This booking was already cancelled."), "info")
        return redirect(url_for("bookings.mine"))
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        form=form,
        action=url_for("bookings.cancel", reference=booking.reference),
    )


@bp.route("/cancel/<token>", methods=["GET", "POST"])
def cancel_by_link(token: str) -> ResponseReturnValue:
    """Cancel from the link in a reminder e-mail, without signing in: one button, then done."""
    booking = links.read_cancel_token(token)
    if booking is None:
        return render_template("auth/link_problem.html", expired=False, kind="cancel"), 400
    if Target.of_booking(booking).has_started:  # the link ends when the session begins
        return render_template("auth/link_problem.html", expired=True, kind="cancel"), 400
    form = CancelForm()
    if form.validate_on_submit():
        if booking.is_active:
            try:
                services.cancel(booking, reason=CancelReason.PARTICIPANT)
            except BookingError as error:
                db.session.rollback()
                return render_template("bookings/cancelled.html", booking=booking, message=error.message), REFUSED
            db.session.commit()
        return render_template("bookings/cancelled.html", booking=booking, message=None)
    if not booking.is_active:
        return render_template("bookings/cancelled.html", booking=booking, message=None)
    return render_template(
        "bookings/cancel.html", booking=booking, form=form, action=url_for("bookings.cancel_by_link", token=token)
    )


def _short_booking(code: str) -> Booking:
    booking = links.read_short_code(code)
    if booking is None:
        abort(404)
    return booking


@bp.get("/b/<code>")
@limiter.limit(lambda: current_app.config["SHORT_LINK_RATE_LIMIT"])
def short(code: str) -> ResponseReturnValue:
    """A booking opened from the link in a text message: what, when, and what can be done."""
    booking = _short_booking(code)
    return render_template(
        "bookings/short.html",
        booking=booking,
        code=code,
        form=CancelForm(),
        started=Target.of_booking(booking).has_started,
        held=booking.hold_until is not None and booking.hold_until > utcnow(),
    )


@bp.post("/b/<code>/keep")
@limiter.limit(lambda: current_app.config["SHORT_LINK_RATE_LIMIT"])
def keep(code: str) -> ResponseReturnValue:
    """Yes, I want the place that was held for me."""
    booking = _short_booking(code)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.accept_hold(booking)
    except BookingError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The place is yours. See you there!"), "success")
    return redirect(url_for("bookings.short", code=code), 303)


@bp.route("/b/<code>/cancel", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SHORT_LINK_RATE_LIMIT"])
def cancel_short(code: str) -> ResponseReturnValue:
    """Cancel from the booking's short link, after a page that asks."""
    booking = _short_booking(code)
    form = CancelForm()
    if request.method == "GET" and booking.is_active and not Target.of_booking(booking).has_started:
        back = url_for("bookings.short", code=code)
        action = url_for("bookings.cancel_short", code=code)
        return render_template("bookings/cancel.html", booking=booking, form=form, action=action, back=back)
    if not form.validate_on_submit():
        return redirect(url_for("bookings.short", code=code), 303)
    if booking.is_active:
        try:
            services.cancel(booking, reason=CancelReason.PARTICIPANT)
        except BookingError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("bookings.short", code=code), 303)
        db.session.commit()
        flash(_("Your booking is cancelled. Thank you for letting us know."), "success")
    return redirect(url_for("bookings.short", code=code), 303)


@bp.get("/my/bookings")
@signed_in
def mine() -> ResponseReturnValue:
    """A person's upcoming and past bookings, waiting-list places and calendar links."""
    show_all = request.args.get("past") == "all"
    mine = queries.bookings_of(current_user, None if show_all else queries.PAST_SHOWN)
    marks = attendance.attendance_of(current_user, [b.id for b in mine.upcoming + mine.past])
    completions = {
        b.id: attendance.completion_from(b, marks.get(b.id, {}))
        for b in mine.upcoming + mine.past
        if b.session_id is None and b.is_active
    }
    return render_template(
        "bookings/mine.html", mine=mine, reset_form=CancelForm(), attendance=marks, completions=completions
    )


@bp.post("/my/calendar/reset")
@signed_in
def reset_feed() -> ResponseReturnValue:
    """Give the personal calendar feed a new secret address."""
    accounts.reset_calendar_token(current_user)
    db.session.commit()
    flash(_("Your calendar link is new. The old link no longer works: add the new one to your phone."), "success")
    return redirect(url_for("bookings.mine") + "#calendar", 303)


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    """A person's bookings as a calendar a phone can subscribe to; the secret is in the URL."""
    user = accounts.by_calendar_token(token)
    if user is None:
        abort(404)
    body = calendar_bytes(queries.feed_sessions(user), "einstein", user.locale)
    return current_app.response_class(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=900"})


def _people(target: Target) -> ResponseReturnValue:
    if not policy.may_manage_offer(current_user, target.offer):
        abort(403)
    return render_template(
        "bookings/people.html", target=target, offer=target.offer, bookings=queries.people_on(target)
    )


@bp.get("/offers/<int:offer_id>/people")
@role_required(Role.VOLUNTEER)
def course_people(offer_id: int) -> ResponseReturnValue:
    """Who is booked on a course and who waits (organiser and coordinators)."""
    offer = db.get_or_404(Offer, offer_id)
    if not offer.is_course:
        abort(404)
    return _people(Target(offer, None))


@bp.get("/sessions/<int:session_id>/people")
@role_required(Role.VOLUNTEER)
def session_people(session_id: int) -> ResponseReturnValue:
    """Who is booked on an activity session and who waits (organiser and coordinators)."""
    return _people(Target.of_session(db.get_or_404(OfferSession, session_id)))


# --- the desk ------------------------------------------------------------------------------------


@bp.get("/desk")
@role_required(Role.COORDINATOR)
def desk() -> ResponseReturnValue:
    """Find a participant, or make a new one, to book them in."""
    form = DeskSearchForm(request.args)
    people = at_desk.find_participants(form.q.data) if form.validate() and form.q.data else []
    return render_template("bookings/desk.html", form=form, people=people, searched=bool(form.q.data))


@bp.route("/desk/people/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_new_person() -> ResponseReturnValue:
    """Make an account for someone at the desk (no password needed), with their recorded consent."""
    form = DeskPersonForm()
    if request.method == "GET":
        form.name.data = request.args.get("name", "")[:120]
    if form.validate_on_submit():
        try:
            person = at_desk.register_at_desk(
                current_user,
                name=filled(form.name.data),
                phone=form.phone.data or None,
                email=form.email.data or None,
                locale=form.locale.data,
                audience=Audience(form.audience.data),
            )
        except accounts.AccountExistsError as error:
            add_error(getattr(form, error.field), _("Someone already has this. Search for them instead."))
        else:
            db.session.commit()
            flash(_("%(name)s is registered. Now choose what to book.", name=person.name), "success")
            return redirect(url_for("bookings.desk_person", user_id=person.id))
    return render_form("bookings/desk_new.html", form)


@bp.route("/desk/people/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_person(user_id: int) -> ResponseReturnValue:
    """A participant's bookings, and a form to book them in."""
    person = db.get_or_404(User, user_id)
    form = DeskBookForm()
    form.target.choices = choices([("", _("Choose…")), *((t.key, t.label) for t in at_desk.desk_targets())])
    if form.validate_on_submit():
        target = at_desk.target_from_key(form.target.data)
        if target is None:
            abort(404)
        try:
            booking = services.book(
                person, target, source=BookingSource.DESK, booked_by=current_user, waitlist=form.waitlist.data
            )
        except BookingError as error:
            db.session.rollback()
            add_error(form.target, error.message)
        else:
            db.session.commit()
            flash(_("Booked: %(ref)s. Print the card for them.", ref=booking.reference), "success")
            return redirect(url_for("bookings.desk_person", user_id=person.id))
    mine = queries.bookings_of(person, past_limit=0)  # the desk shows what is coming
    return render_form("bookings/desk_person.html", form, person=person, mine=mine)


@bp.get("/bookings/<reference>/card")
@signed_in
def card(reference: str) -> ResponseReturnValue:
    """A printable booking card in the participant's language, with the reference as a QR code."""
    booking = _booking_for(reference)
    locale = booking.user.locale if booking.user is not None else "nl"
    qr = segno.make(booking.reference, error="m").svg_inline(scale=5, border=2, title=booking.reference)
    with force_locale(locale):
        return render_template("bookings/card.html", booking=booking, qr=qr, locale=locale)


bp.add_app_template_global(queries.next_session_start, "next_session_start")
bp.add_app_template_global(links.short_code, "short_code")
bp.add_app_template_global(reach.told_about, "told_about")
