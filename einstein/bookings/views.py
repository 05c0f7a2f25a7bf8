"""Routes for booking, cancelling, my bookings, calendar feeds and the desk."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from einstein import policy
from einstein.attendance import feedback
from einstein.attendance import services as attendance
from einstein.auth import reach
from einstein.auth import services as accounts
from einstein.auth.access import role_required, signed_in
from einstein.auth.models import AgeGroup, Audience, Role, User
from einstein.auth.phones import display_phone
from einstein.bookings import desk as at_desk
from einstein.bookings import household, links, queries, services
from einstein.bookings.errors import BookingChangedError, BookingError
from einstein.bookings.forms import (
    BookForm,
    CancelForm,
    DeskBookForm,
    DeskCancelForm,
    DeskEditForm,
    DeskListForm,
    DeskPersonForm,
    DeskSearchForm,
    HouseholdBookForm,
    MemberForm,
    MergeForm,
    RemoveMemberForm,
)
from einstein.bookings.models import Booking, BookingSource, BookingStatus, CancelReason
from einstein.bookings.targets import Target
from einstein.bounds import as_id, page_arg
from einstein.courses.calendar import calendar_bytes
from einstein.courses.models import Offer, OfferSession
from einstein.db import db, utcnow
from einstein.extensions import limiter
from einstein.forms import add_error, choices, filled
from einstein.i18n import LANGUAGES, current_language, format_when
from einstein.privacy import desk as people
from einstein.privacy import merge as merging
from einstein.urls import safe_next
from einstein.views import FORM_INVALID, render_form

bp = Blueprint("bookings", __name__)

#: A booking that cannot be made conflicts with the current state of the places.
REFUSED = 409


def _refused(target: Target, error: BookingError) -> ResponseReturnValue:
    db.session.rollback()
    offer = db.session.get(Offer, target.offer.id)
    unit = db.session.get(type(target.unit), target.unit.id)
    can_wait = error.code in ("full_offer_waitlist", "held_waitlist")
    return render_template(
        "bookings/refused.html", offer=offer, unit=unit, target=target, message=error.message, can_wait=can_wait
    ), REFUSED


def _book(locked: services.Locked | None, kind_ok: bool) -> ResponseReturnValue:
    """Book what ``lock_for_booking`` found and locked, if the person may see it and it is of the
    kind the address says."""
    if locked is None or not kind_ok or not policy.may_view_offer(current_user, locked.target.offer):
        abort(404)
    target = locked.target
    if request.form.get("household") == "1":
        return _book_household(locked)
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
        # on the list with places free: they are held for the mix (say until when, nothing more)
        holding = None if confirmed or target.unit.is_full else target.unit.holding
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
        if holding is not None:
            until = format_when(holding.opens_at)
            flash(_("Places are held for the mix until %(until)s; then they open to everyone.", until=until), "info")
    return redirect(url_for("bookings.mine"), 303)


def household_form(people: list[User], field_id: str | None = None) -> HouseholdBookForm:
    """The "Who is coming?" form for these people (the holder first, as "me"); ``field_id`` keeps
    the boxes of several sessions on one page apart."""
    form = HouseholdBookForm()
    if field_id:
        form.who.id = field_id
    form.who.choices = choices(
        (HouseholdBookForm.ME if person.id == current_user.id else person.id, _household_label(person))
        for person in people
    )
    return form


def _household_label(person: User) -> Markup:
    """A box's label: "Me", or the member's name (kept in its own direction) and age group."""
    if person.id == current_user.id:
        return Markup.escape(_("Me"))
    if person.age_group is None:
        return Markup("<bdi>{}</bdi>").format(person.name)
    return Markup("<bdi>{}</bdi> ({})").format(person.name, person.age_group.label)


def _book_household(locked: services.Locked) -> ResponseReturnValue:
    """Book the people ticked in "Who is coming?", in the order ticked, under the one lock."""
    target = locked.target
    members = household.members_of(current_user)
    form = household_form([current_user, *members])
    if not form.validate_on_submit():
        db.session.rollback()  # let go of the places' lock before the page is written
        return _household_problem(target, form)
    by_value = {str(m.id): m for m in members} | {HouseholdBookForm.ME: current_user}
    chosen = list(dict.fromkeys(filled(form.who.data)))  # a box sent twice counts once
    people_chosen = [by_value[value] for value in chosen]
    try:
        outcomes = household.book_people(current_user, locked, people_chosen)
        lines = [(outcome.message, outcome.error is None) for outcome in outcomes]
        if not any(ok for _line, ok in lines):
            db.session.rollback()
            return _refused_household(target, [line for line, _ok in lines])
        db.session.commit()
    except IntegrityError:  # only reachable without the lock (a test setting)
        return _refused(target, BookingError("already_booked"))
    told = reach.told(current_user)
    for line, ok in lines:
        flash(line, "success" if ok else "error")
    flash(told, "info")
    return redirect(url_for("bookings.mine"), 303)


def _household_problem(target: Target, form: HouseholdBookForm) -> ResponseReturnValue:
    offer = db.session.get(Offer, target.offer.id)
    unit = db.session.get(type(target.unit), target.unit.id)
    return render_form("bookings/household_book.html", form, offer=offer, unit=unit, action=request.path)


def _refused_household(target: Target, lines: list[str]) -> ResponseReturnValue:
    offer = db.session.get(Offer, target.offer.id)
    unit = db.session.get(type(target.unit), target.unit.id)
    message = " ".join(lines)
    page = render_template(
        "bookings/refused.html", offer=offer, unit=unit, target=target, message=message, can_wait=False
    )
    return page, REFUSED


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


def _own(booking: Booking) -> bool:
    """The signed-in person's own booking, or one of their household's."""
    return booking.user_id == current_user.id or policy.is_household_member_of(current_user, booking.user)


def _cancel(booking: Booking, form: CancelForm, action: str) -> ResponseReturnValue:
    for_someone = not _own(booking)  # a coordinator, at the desk
    reason = CancelReason.ORGANISER if for_someone else CancelReason.PARTICIPANT
    was_waiting = booking.status == BookingStatus.WAITLISTED
    try:
        services.cancel(booking, reason=reason, by=current_user, seen=form.seen.data)
    except BookingChangedError:
        db.session.rollback()
        return _ask_again(booking, form, action)
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
    if not _own(booking):  # a coordinator, for someone: the desk's page asks and says how they hear
        return redirect(url_for("bookings.desk_cancel", reference=booking.reference), 307)
    form = CancelForm()
    action = url_for("bookings.cancel", reference=booking.reference)
    if form.validate_on_submit():
        return _cancel(booking, form, action)
    if not booking.is_active:
        flash(_("This booking was already cancelled."), "info")
        return redirect(url_for("bookings.mine"))
    return render_template("bookings/cancel.html", booking=booking, form=form, action=action)


def _ask_again(booking: Booking, form: CancelForm, action: str, back: str | None = None) -> ResponseReturnValue:
    """The booking changed after the person saw it (a place came free while they tapped "leave
    the waiting list"): nothing is done; the page shows it as it is now and asks again."""
    page = render_template("bookings/cancel.html", booking=booking, form=form, action=action, back=back, changed=True)
    return page, 409


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
                services.cancel(booking, reason=CancelReason.PARTICIPANT, seen=form.seen.data)
            except BookingChangedError:
                db.session.rollback()
                return _ask_again(booking, form, url_for("bookings.cancel_by_link", token=token))
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
            services.cancel(booking, reason=CancelReason.PARTICIPANT, seen=form.seen.data)
        except BookingChangedError:
            db.session.rollback()
            back = url_for("bookings.short", code=code)
            return _ask_again(booking, form, url_for("bookings.cancel_short", code=code), back)
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
    mine = queries.bookings_of(current_user, current_language().code, None if show_all else queries.PAST_SHOWN)
    marks = attendance.attendance_of(current_user, [b.id for b in mine.upcoming + mine.past])
    completions = {
        b.id: attendance.completion_from(b, marks.get(b.id, {}))
        for b in mine.upcoming + mine.past
        if b.session_id is None and b.is_active
    }
    # "How was it?" for the sessions just over, each with the signed link a message would carry
    to_answer = [(s, given, feedback.feedback_token(current_user, s)) for s, given in feedback.to_answer(current_user)]
    return render_template(
        "bookings/mine.html",
        mine=mine,
        reset_form=CancelForm(),
        attendance=marks,
        completions=completions,
        to_answer=to_answer,
        faces=list(feedback.Face),
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


# --- the household -------------------------------------------------------------------------------


def _member_form(member: User | None = None) -> MemberForm:
    if member is None:
        return MemberForm(data={"locale": current_user.locale})
    data = {"name": member.name, "locale": member.locale}
    if member.age_group is not None:
        data["age_group"] = member.age_group.value
    return MemberForm(data=data)


def _save_member(holder: User, form: MemberForm, member: User | None) -> User | None:
    """Add or correct a member from a validated form; None when the household is full."""
    name, age_group, locale = filled(form.name.data), AgeGroup(form.age_group.data), filled(form.locale.data)
    if member is not None:
        household.update_member(member, name=name, age_group=age_group, locale=locale, recorded_by=current_user)
        return member
    try:
        return household.add_member(holder, name=name, age_group=age_group, locale=locale, recorded_by=current_user)
    except household.HouseholdError:
        add_error(form.name, _("A household can have at most %(num)d people here.", num=household.MAX_MEMBERS))
        return None


@bp.route("/my/household", methods=["GET", "POST"])
@signed_in
def household_page() -> ResponseReturnValue:
    """The people someone books for (children, a partner): see them, and add one."""
    if not policy.may_have_household(current_user):
        abort(404)
    form = _member_form()
    if form.validate_on_submit():
        member = _save_member(current_user, form, None)
        if member is not None:
            db.session.commit()
            flash(_("%(name)s is in your household. You can now book for them.", name=member.name), "success")
            return redirect(url_for("bookings.household_page"), 303)
    return render_form("bookings/household.html", form, members=household.members_of(current_user))


def _my_member(member_id: int) -> User:
    member = household.member_of(current_user, member_id)
    if member is None or not policy.may_act_for_member(current_user, member):
        abort(404)
    return member


@bp.route("/my/household/<int:member_id>", methods=["GET", "POST"])
@signed_in
def household_edit(member_id: int) -> ResponseReturnValue:
    """Correct a household member's name, age group or language."""
    member = _my_member(member_id)
    form = _member_form(member) if request.method == "GET" else MemberForm()
    if form.validate_on_submit():
        _save_member(current_user, form, member)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("bookings.household_page"), 303)
    return render_form("bookings/household_edit.html", form, member=member)


@bp.route("/my/household/<int:member_id>/remove", methods=["GET", "POST"])
@signed_in
def household_remove(member_id: int) -> ResponseReturnValue:
    """Take someone out of the household, after a page that asks; their coming places are given up."""
    member = _my_member(member_id)
    form = RemoveMemberForm()
    if form.validate_on_submit():
        name = member.name
        household.remove_member(member)
        db.session.commit()
        flash(_("%(name)s is no longer in your household; their places went to others.", name=name), "success")
        return redirect(url_for("bookings.household_page"), 303)
    coming = queries.upcoming_bookings_of(member)
    return render_template("bookings/household_remove.html", form=form, member=member, coming=coming)


@bp.route("/desk/people/<int:user_id>/household", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_household(user_id: int) -> ResponseReturnValue:
    """The household of someone registered at the desk: add the people they book for."""
    person = db.get_or_404(User, user_id)
    if not policy.may_manage_household_at_desk(current_user, person):
        abort(403)
    form = _member_form()
    if request.method == "GET":
        form.locale.data = person.locale
    if form.validate_on_submit():
        member = _save_member(person, form, None)
        if member is not None:
            db.session.commit()
            flash(_("%(name)s is in their household. Now choose what to book.", name=member.name), "success")
            return redirect(url_for("bookings.desk_household", user_id=person.id), 303)
    return render_form("bookings/household_desk.html", form, person=person, members=household.members_of(person))


# --- the desk ------------------------------------------------------------------------------------


@bp.get("/desk")
@role_required(Role.COORDINATOR)
def desk() -> ResponseReturnValue:
    """Find a participant, or make a new one, to book them in."""
    form = DeskSearchForm(request.args)
    people = at_desk.find_participants(form.q.data) if form.validate() and form.q.data else []
    return render_template("bookings/desk.html", form=form, people=people, searched=bool(form.q.data))


def _seen(raw: str | None) -> set[int]:
    """The ids in the registration form's "seen" field (people shown, and said to be someone else)."""
    return {i for i in (as_id(part) for part in (raw or "").split(",")[:20]) if i is not None}


@bp.route("/desk/people/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_new_person() -> ResponseReturnValue:
    """Make an account for someone at the desk (no password needed), with their recorded consent,
    after showing anyone who may be them already."""
    form = DeskPersonForm()
    duplicates: list[User] = []
    contact_taken = False
    if request.method == "GET":
        form.name.data = request.args.get("name", "")[:120]
    if form.validate_on_submit():
        name, phone, email = filled(form.name.data), form.phone.data or None, form.email.data or None
        duplicates = at_desk.likely_duplicates(name, phone=phone, email=email)
        taken = accounts.contact_taken(accounts.normalise_email(email), phone)
        if taken:
            contact_taken = True
            add_error(getattr(form, taken), _("Someone already has this. Search for them instead."))
        elif duplicates and not {p.id for p in duplicates} <= _seen(form.seen.data):
            form.seen.data = ",".join(str(p.id) for p in duplicates)
        else:
            try:
                person = at_desk.register_at_desk(
                    current_user,
                    name=name,
                    phone=phone,
                    email=email,
                    locale=form.locale.data,
                    audience=Audience(form.audience.data),
                )
            except accounts.AccountExistsError as error:  # taken a moment ago
                db.session.rollback()
                add_error(getattr(form, error.field), _("Someone already has this. Search for them instead."))
            else:
                db.session.commit()
                flash(_("%(name)s is registered. Now choose what to book.", name=person.name), "success")
                return redirect(url_for("bookings.desk_person", user_id=person.id))
    return render_form(
        "bookings/desk_new.html",
        form,
        duplicates=duplicates,
        contact_taken=contact_taken,
        counts=at_desk.coming_counts(duplicates),
    )


def _desk_list_url(person: User, **args: str | int | None) -> str:
    """The person's desk page with the list's search and pages (those set)."""
    kept: dict[str, Any] = {k: v for k, v in args.items() if v and v != 1}
    return url_for("bookings.desk_person", user_id=person.id, **kept)


@bp.route("/desk/people/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_person(user_id: int) -> ResponseReturnValue:
    """A participant's bookings, and the list of what to book them in (searchable, paged)."""
    person = db.get_or_404(User, user_id)
    search = DeskListForm(request.args)
    query = search.q.data if search.validate() else None
    course_page, session_page = page_arg("cpage"), page_arg("spage")
    here = {"q": query, "cpage": course_page, "spage": session_page}
    members = household.members_of(person) if policy.may_manage_household_at_desk(current_user, person) else []
    form = DeskBookForm()
    form.who.choices = choices([(HouseholdBookForm.ME, person.name), *((member.id, member.name) for member in members)])
    if form.validate_on_submit():
        target = at_desk.target_from_key(filled(form.target.data))
        if target is None:
            add_error(form.target, _("Not a valid choice."))
        elif form.who.data:
            lines = _desk_book_household(person, members, target, form.who.data)
            if lines is not None:
                for line, ok in lines:
                    flash(line, "success" if ok else "error")
                return redirect(_desk_list_url(person, **here))
            add_error(form.target, _("Nobody could be booked on this."))
        else:
            try:
                booking = services.book(
                    person, target, source=BookingSource.DESK, booked_by=current_user, waitlist=form.waitlist.data
                )
                confirmed, reference = booking.status == BookingStatus.CONFIRMED, booking.reference
            except BookingError as error:
                db.session.rollback()
                add_error(form.target, error.message)
            else:
                db.session.commit()
                if confirmed:
                    flash(_("Booked: %(ref)s. Print the card for them.", ref=reference), "success")
                else:
                    flash(_("On the waiting list: %(ref)s. Print the card for them.", ref=reference), "success")
                return redirect(_desk_list_url(person, **here))
    mine = queries.bookings_of(person, current_language().code, past_limit=0)  # the desk shows what is coming
    page = render_template(
        "bookings/desk_person.html",
        form=form,
        members=members,
        search=search,
        person=person,
        mine=mine,
        courses=at_desk.bookable_courses(query, course_page),
        sessions=at_desk.bookable_sessions(query, session_page),
        booked=at_desk.booked_keys(person),
        now=utcnow(),
        here=here,
        list_url=lambda **args: _desk_list_url(person, **{**here, **args}),
    )
    return page, FORM_INVALID if form.errors or search.errors else 200


def _desk_book_household(
    person: User, members: list[User], target: Target, who: list[str]
) -> list[tuple[str, bool]] | None:
    """Book the person and/or their household's members ticked at the desk, in that order, under
    one lock; commit and return a line per person, or roll back and return None when nobody got
    anything (the lines are then put on the form)."""
    by_value = {str(member.id): member for member in members} | {HouseholdBookForm.ME: person}
    people = [by_value[value] for value in dict.fromkeys(who)]
    locked = services.lock_for_booking(person, type(target.unit), target.unit.id)
    if locked is None:  # deleted since the list was shown
        db.session.rollback()
        return None
    outcomes = household.book_people(person, locked, people, by=current_user, source=BookingSource.DESK)
    lines = [(outcome.message, outcome.error is None) for outcome in outcomes]
    if not any(ok for _line, ok in lines):
        db.session.rollback()
        for line, _ok in lines:
            flash(line, "error")
        return None
    db.session.commit()
    return lines


@bp.route("/desk/people/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_edit(user_id: int) -> ResponseReturnValue:
    """Correct the name and contact details of someone registered at the desk."""
    person = db.get_or_404(User, user_id)
    if not policy.may_edit_at_desk(current_user, person):
        abort(403)
    form = DeskEditForm(
        data={
            "name": person.name,
            "phone": display_phone(person.phone),
            "email": people.shown_email(person),
            "locale": person.locale,
            "audience": person.audience.value,
        }
    )
    if form.validate_on_submit():
        try:
            changed = people.edit_desk_person(
                person,
                by=current_user,
                name=filled(form.name.data),
                phone=form.phone.data or None,
                email=form.email.data or None,
                locale=filled(form.locale.data),
                audience=Audience(form.audience.data),
            )
        except accounts.AccountExistsError as error:
            db.session.rollback()
            add_error(
                getattr(form, error.field),
                _("Someone else has this. If they are the same person, merge the two from the desk."),
            )
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("bookings.desk_person", user_id=user_id), 303)
    return render_form("bookings/desk_edit.html", form, person=person)


@bp.get("/desk/people/<int:user_id>/merge")
@role_required(Role.COORDINATOR)
def desk_merge(user_id: int) -> ResponseReturnValue:
    """Choose the other record of the same person: the likely ones first, or found by a search."""
    person = db.get_or_404(User, user_id)
    if not policy.may_merge_people(current_user, person):
        abort(403)
    form = DeskSearchForm(request.args)
    found = at_desk.likely_duplicates(person.name, phone=person.phone, email=person.email, but_not=person)
    if form.validate() and form.q.data:
        found += [p for p in at_desk.find_participants(form.q.data) if p not in found]
    candidates = [p for p in found if policy.may_merge_people(current_user, person, p)]
    return render_template(
        "bookings/desk_merge.html",
        form=form,
        person=person,
        candidates=candidates,
        counts=at_desk.coming_counts(candidates),
        searched=bool(form.q.data),
    ), FORM_INVALID if form.errors else 200


def _merge_choices(form: MergeForm, found: merging.Plan) -> None:
    """Offer, per detail, the values of the records that have one (the kept record's chosen first)."""
    for name in merging.FIELDS:
        field = getattr(form, name)
        field.choices = choices([(user.id, _detail(user, name)) for user in found.options[name]])
        if field.data is None:
            field.data = str(found.options[name][0].id)


def _detail(person: User, name: str) -> str:
    if name == "phone":
        return display_phone(person.phone)
    if name == "locale":
        return LANGUAGES[person.locale].native_name if person.locale in LANGUAGES else person.locale
    if name == "audience":
        return person.audience.label
    return str(getattr(person, name) or "")


@bp.route("/desk/people/<int:user_id>/merge/<int:other_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_merge_with(user_id: int, other_id: int) -> ResponseReturnValue:
    """Both records side by side, what happens to their bookings, the details to keep; then merge."""
    first, second = db.get_or_404(User, user_id), db.get_or_404(User, other_id)
    if not policy.may_merge_people(current_user, first, second):
        abort(403)
    found = merging.plan(first, second)
    form = MergeForm()
    _merge_choices(form, found)
    status = 200
    if request.method == "POST":
        if found.problem:
            status = REFUSED
        elif not form.validate_on_submit():
            status = FORM_INVALID
        else:
            chosen = {name: as_id(getattr(form, name).data) for name in merging.FIELDS}
            try:
                merged = merging.merge(
                    first, second, by=current_user, chosen={k: v for k, v in chosen.items() if v is not None}
                )
                name, given_up, person_id = merged.person.name, len(merged.given_up), merged.person.id
                db.session.commit()
            except merging.MergeError as error:
                db.session.rollback()
                form.form_errors.append(error.message)
                status = REFUSED
            except IntegrityError:  # something changed for one of them meanwhile
                db.session.rollback()
                form.form_errors.append(_("Something changed for one of them meanwhile. Look at both again."))
                status = REFUSED
            else:
                flash(_("%(name)s is one person now: everything of both records is here.", name=name), "success")
                if given_up:
                    flash(
                        ngettext(
                            "%(num)d booking they had twice was removed; a place it freed goes to the waiting list.",
                            "%(num)d bookings they had twice were removed; places they freed go to the waiting list.",
                            given_up,
                        ),
                        "info",
                    )
                return redirect(url_for("bookings.desk_person", user_id=person_id), 303)
        if status == REFUSED:  # the records may have changed: show them as they are
            found = merging.plan(db.get_or_404(User, user_id), db.get_or_404(User, other_id))
            _merge_choices(form, found)
    return render_template(
        "bookings/desk_merge_with.html",
        form=form,
        plan=found,
        problem=merging.ERRORS[found.problem] if found.problem else None,
        counts=at_desk.coming_counts([found.keep, found.drop]),
    ), status


def _cancelled_message(done: at_desk.CancelledAtDesk) -> str:
    if done.told is None:
        if done.was_waiting:
            message = _("%(name)s is off the waiting list. No message can reach them: tell them now.", name=done.name)
        else:
            message = _("Cancelled for %(name)s. No message can reach them: tell them now.", name=done.name)
    elif done.was_waiting:
        message = _("%(name)s is off the waiting list; they are told %(how)s.", name=done.name, how=done.told)
    else:
        message = _("Cancelled for %(name)s; they are told %(how)s.", name=done.name, how=done.told)
    return str(message)


@bp.route("/desk/bookings/<reference>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def desk_cancel(reference: str) -> ResponseReturnValue:
    """Cancel someone's place at the desk, after a page that asks (and asks who wanted it)."""
    booking = _booking_for(reference)
    person = booking.user
    back = url_for("bookings.desk_person", user_id=person.id) if person is not None else url_for("bookings.desk")
    if person is None or not booking.is_active:
        flash(_("This booking was already cancelled."), "info")
        return redirect(back, 303)
    form = DeskCancelForm()
    if form.validate_on_submit():
        try:
            done = at_desk.cancel_at_desk(
                booking, by=current_user, they_asked=form.asked.data == "yes", seen=form.seen.data
            )
        except BookingChangedError:
            db.session.rollback()
            return render_template(
                "bookings/desk_cancel.html",
                form=form,
                booking=booking,
                person=person,
                back=back,
                reachable=bool(reach.channels_of(person)),
                changed=True,
            ), REFUSED
        except BookingError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(back, 303)
        db.session.commit()
        flash(_cancelled_message(done), "success")
        return redirect(back, 303)
    reachable = bool(reach.channels_of(person))
    return render_form(
        "bookings/desk_cancel.html", form, booking=booking, person=person, back=back, reachable=reachable
    )


@bp.get("/bookings/<reference>/card")
@signed_in
def card(reference: str) -> ResponseReturnValue:
    """A printable booking card in the participant's language, with the reference as a QR code;
    the page around it (menu, buttons) stays in the reader's."""
    booking = _booking_for(reference)
    locale = booking.user.locale if booking.user is not None else "nl"
    qr = segno.make(booking.reference, error="m").svg_inline(scale=5, border=2, title=booking.reference)
    return render_template("bookings/card.html", booking=booking, qr=qr, locale=locale)


bp.add_app_template_global(queries.next_session_start, "next_session_start")
bp.add_app_template_global(links.short_code, "short_code")
bp.add_app_template_global(reach.told_about, "told_about")
bp.add_app_template_global(household_form, "household_form")


@bp.app_template_global()
def household_members() -> list[User]:
    """The signed-in person's household members (once per page, however many panels ask)."""
    if not policy.may_have_household(current_user):
        return []
    if current_user.has_household is False:  # the user loader found none: no statement for an empty list
        return []
    if "einstein_household" not in g:
        g.einstein_household = household.members_of(current_user)
    members: list[User] = g.einstein_household
    return members


@bp.app_template_global()
def household_bookings(offer: Offer, unit: Offer | OfferSession) -> dict[int, Booking]:
    """The active bookings of the signed-in person's household members on this course or session."""
    target = Target(offer, unit if isinstance(unit, OfferSession) else None)
    return household.household_bookings(current_user, target)
