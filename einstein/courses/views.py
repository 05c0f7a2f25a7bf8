"""Routes of the catalogue: finding offers, their pages, and making and changing them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from einstein import caching, policy
from einstein.audit import services as audit
from einstein.auth.access import role_required
from einstein.auth.models import Role
from einstein.bookings import operations, queries
from einstein.bookings.models import BookingStatus
from einstein.bounds import page_arg
from einstein.courses import catalogue, revisions, schedule, services
from einstein.courses.calendar import calendar_bytes
from einstein.courses.errors import CatalogueError
from einstein.courses.forms import (
    AddSessionsForm,
    ConfirmForm,
    FilterForm,
    NewOfferForm,
    OfferForm,
    RejectForm,
    SessionForm,
    TranslationForm,
)
from einstein.courses.models import (
    DEFAULT_REMINDER_OFFSETS,
    Category,
    DutchLevel,
    Location,
    Offer,
    OfferKind,
    OfferRevision,
    OfferSession,
    Organisation,
    has_started,
)
from einstein.db import db
from einstein.forms import add_error, choices, filled
from einstein.i18n import LANGUAGES, TIMEZONE, current_language
from einstein.views import render_form

bp = Blueprint("courses", __name__)


# --- finding things ------------------------------------------------------------------------------


def _filters(form: FilterForm) -> catalogue.Filters:
    def valid(field: object) -> bool:
        return not getattr(field, "errors", None)

    return catalogue.Filters(
        q=form.q.data if valid(form.q) and form.q.data else None,
        kind=OfferKind(form.kind.data) if valid(form.kind) and form.kind.data else None,
        category=Category(form.category.data) if valid(form.category) and form.category.data else None,
        language=form.language.data if valid(form.language) and form.language.data else None,
        date_from=form.date_from.data if valid(form.date_from) else None,
        date_to=form.date_to.data if valid(form.date_to) else None,
        free=bool(form.free.data),
    )


@bp.get("/")
@caching.for_visitors
def index() -> ResponseReturnValue:
    """List what is on, with free places or waiting-list status, filtered and a page at a time."""
    form = FilterForm(request.args)
    valid = form.validate()
    filters = _filters(form)
    cursor = catalogue.Cursor.decode(request.args.get("after"))
    args = filters.as_args()

    def listing() -> str:
        page = catalogue.upcoming_sessions(filters, cursor)
        next_url = url_for("courses.index", after=page.next_cursor.encode(), **args) if page.next_cursor else None
        first_url = url_for("courses.index", **args) if cursor else None
        return render_template(
            "courses/_listing.html", page=page, filters=filters, next_url=next_url, first_url=first_url
        )

    # The same for everyone reading this language: cached until the catalogue changes, at most a minute.
    key = (current_language().code, tuple(sorted(args.items())), cursor, int(time.time() // 60))
    html = caching.fragment("listing", key, listing)
    body = render_template("courses/index.html", listing=html, form=form, filters=filters)
    return body, 200 if valid else 400


def _visible_offer(offer_id: int) -> Offer:
    offer = catalogue.load_offer(offer_id)
    if offer is None or not policy.may_view_offer(current_user, offer):
        abort(404)
    return offer


def _managed_offer(offer_id: int) -> Offer:
    offer = _visible_offer(offer_id)
    if not policy.may_manage_offer(current_user, offer):
        abort(403)
    return offer


def _managed_session(session_id: int) -> OfferSession:
    session = db.get_or_404(OfferSession, session_id)
    _managed_offer(session.offer_id)
    return session


@bp.get("/offers/<int:offer_id>")
@caching.for_visitors
def offer_detail(offer_id: int) -> ResponseReturnValue:
    """Show an offer with its sessions and the booking buttons."""
    offer = _visible_offer(offer_id)
    # a broken or stale "after" shows the first sessions, as the listing's cursor does
    after = request.args.get("after", type=int)
    can_manage = policy.may_manage_offer(current_user, offer)
    sessions = catalogue.sessions_for_page(offer, after, recent=can_manage)
    mine = queries.active_bookings_for_offer(current_user, offer)
    positions = queries.waitlist_places([b for b in mine.values() if b.status == BookingStatus.WAITLISTED])
    return render_template(
        "courses/offer.html",
        offer=offer,
        sessions=sessions,
        can_manage=can_manage,
        my_bookings=mine,
        positions=positions,
        course_started=offer.is_course and has_started(offer),
    )


def _ics(body: bytes, filename: str) -> ResponseReturnValue:
    return current_app.response_class(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/offers/<int:offer_id>.ics")
def offer_ics(offer_id: int) -> ResponseReturnValue:
    """All sessions of an offer as a calendar file."""
    offer = _visible_offer(offer_id)
    locale = current_language().code
    title, _description = offer.text_in(locale)
    return _ics(calendar_bytes(offer.sessions, title, locale), f"einstein-{offer.id}.ics")


@bp.get("/sessions/<int:session_id>.ics")
def session_ics(session_id: int) -> ResponseReturnValue:
    """One session as a calendar file."""
    session = db.get_or_404(OfferSession, session_id)
    offer = _visible_offer(session.offer_id)
    locale = current_language().code
    title, _description = offer.text_in(locale)
    return _ics(calendar_bytes([session], title, locale), f"einstein-session-{session.id}.ics")


# --- making and changing offers ------------------------------------------------------------------


def _place_choices(form: OfferForm | SessionForm, *current: Location | None) -> None:
    """The places to choose from: those approved, and the ones already chosen here."""
    known = [place.id for place in current if place is not None]
    places = db.session.scalars(
        sa.select(Location)
        .where(sa.or_(Location.approved_at.is_not(None), Location.id.in_(known)))
        .order_by(Location.name)
    )
    form.location_id.choices = choices([("", _("Choose a place")), *((p.id, p.one_line) for p in places)])


def _organisation_choices(form: OfferForm) -> None:
    organisations = db.session.scalars(sa.select(Organisation).order_by(Organisation.name))
    form.organisation_id.choices = choices([("", _("None")), *((o.id, o.name) for o in organisations)])


def _place(form: OfferForm | SessionForm) -> Location:
    """The place chosen in the form, or the new place it describes."""
    return services.find_or_add_place(
        form.location_id.data,
        form.new_place_name.data,
        form.new_place_address.data,
        form.new_place_postcode.data,
        form.new_place_step_free.data,
    )


def _offer_data(form: OfferForm, offer: Offer | None = None) -> services.OfferData:
    location = _place(form)
    if policy.may_review(current_user):  # partner organisations are named by coordinators
        organisation = services.find_or_add_organisation(form.organisation_id.data, form.new_organisation.data)
    else:
        organisation = offer.organisation if offer is not None else None
    return services.OfferData(
        title=filled(form.title.data),
        description=form.description.data or "",
        language=form.language.data,
        category=Category(form.category.data),
        dutch_level=DutchLevel(form.dutch_level.data),
        languages=list(filled(form.languages.data)),
        location=location,
        organisation=organisation,
        contact=form.contact.data or "",
        capacity=filled(form.capacity.data),
        waitlist_enabled=form.waitlist_enabled.data,
        promotion_hold=form.promotion_hold.data,
        promotion_hours=form.promotion_hours.data or 24,
        reminder_offsets=list(form.reminder_offsets.data or []),
        completion_threshold=form.completion_threshold.data or 80,
        covers=form.covers.data or "",
    )


def _field_error(form: OfferForm | SessionForm, error: CatalogueError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None:
        add_error(field, error.message)
    else:
        flash(error.message, "error")


@bp.route("/offers/new/<any(course, activity):kind>", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def new_offer(kind: str) -> ResponseReturnValue:
    """Put a new course (coordinators) or activity (volunteers and coordinators) online."""
    offer_kind = OfferKind(kind)
    if not policy.may_create_offer(current_user, offer_kind.value):
        abort(403)
    form = NewOfferForm()
    _place_choices(form)
    _organisation_choices(form)
    if request.method == "GET":
        form.language.data = current_language().code
        form.reminder_offsets.data = list(DEFAULT_REMINDER_OFFSETS)
        form.capacity.data = 12
        form.repeat.data = "weekly" if offer_kind == OfferKind.COURSE else "once"
        form.count.data = 8 if offer_kind == OfferKind.COURSE else 1
    if form.validate_on_submit():
        try:
            plan = schedule.Schedule(
                filled(form.first_date.data),
                filled(form.start_time.data),
                filled(form.end_time.data),
                form.session_count,
                form.every_weeks,
            )
            offer = operations.create_offer(current_user, offer_kind, _offer_data(form), plan)
        except CatalogueError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            if offer.is_public:
                flash(_("“%(title)s” is online.", title=offer.title), "success")
            else:
                flash(
                    _("Thank you! “%(title)s” is waiting for a coordinator to approve it.", title=offer.title),
                    "success",
                )
            return redirect(url_for("courses.offer_detail", offer_id=offer.id))
    return render_form("courses/offer_form.html", form, kind=offer_kind, offer=None)


@bp.route("/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def edit_offer(offer_id: int) -> ResponseReturnValue:
    """Change what an offer says, its place or its places (words from some wait for review)."""
    offer = _managed_offer(offer_id)
    revision = revisions.pending_revision(offer)
    proposed = revision.changes if revision is not None else {}
    form = OfferForm(obj=offer if request.method == "GET" else None)
    _place_choices(
        form, offer.location, db.session.get(Location, proposed["location_id"]) if "location_id" in proposed else None
    )
    _organisation_choices(form)
    if request.method == "GET":
        # the organiser goes on from the words they proposed, not from what is online
        for name in ("title", "description", "language", "contact"):
            if name in proposed:
                getattr(form, name).data = proposed[name]
        form.category.data = offer.category.value
        form.dutch_level.data = offer.dutch_level.value
        form.location_id.data = str(proposed.get("location_id", offer.location_id) or "")
        form.organisation_id.data = str(offer.organisation_id or "")
        upcoming = next((s for s in offer.sessions if s.languages), None)
        form.languages.data = upcoming.language_codes if upcoming else []
    if form.validate_on_submit():
        try:
            held = operations.change_offer(offer, _offer_data(form, offer), current_user)
        except CatalogueError as error:
            db.session.rollback()
            offer = _managed_offer(offer_id)
            _field_error(form, error)
        else:
            db.session.commit()
            if held:
                flash(
                    _(
                        "Thank you! A coordinator looks at new words and places before participants see them. "
                        "Until then the approved version stays online; the rest of your changes are saved."
                    ),
                    "success",
                )
            else:
                flash(_("Your changes are saved."), "success")
            return redirect(url_for("courses.offer_detail", offer_id=offer.id))
    return render_form("courses/offer_form.html", form, kind=offer.kind, offer=offer, revision=revision)


@bp.route("/offers/<int:offer_id>/sessions/new", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def add_sessions(offer_id: int) -> ResponseReturnValue:
    """Add more sessions to an offer."""
    offer = _managed_offer(offer_id)
    form = AddSessionsForm()
    if form.validate_on_submit():
        plan = schedule.Schedule(
            filled(form.first_date.data),
            filled(form.start_time.data),
            filled(form.end_time.data),
            form.session_count,
            form.every_weeks,
        )
        try:
            added = operations.add_sessions(offer, plan)
        except CatalogueError as error:
            db.session.rollback()
            offer = _managed_offer(offer_id)
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("%(num)d session(s) added.", num=len(added)), "success")
            return redirect(url_for("courses.offer_detail", offer_id=offer.id))
    return render_form("courses/add_sessions.html", form, offer=offer)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def edit_session(session_id: int) -> ResponseReturnValue:
    """Change one session's time, place, places or languages; the people booked are told."""
    session = _managed_session(session_id)
    form = SessionForm()
    _place_choices(form, session.location)
    if request.method == "GET":
        local_start, local_end = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
        form.day.data, form.start_time.data, form.end_time.data = (
            local_start.date(),
            local_start.time(),
            local_end.time(),
        )
        form.location_id.data = str(session.location_id or "")
        form.capacity.data = session.capacity
        form.languages.data = session.language_codes
    if form.validate_on_submit():
        try:
            starts_at, ends_at = schedule.session_times(
                filled(form.day.data), filled(form.start_time.data), filled(form.end_time.data)
            )
            told = operations.change_session(
                session,
                starts_at=starts_at,
                ends_at=ends_at,
                location=_place(form),
                capacity=form.capacity.data,
                languages=list(filled(form.languages.data)),
                editor=current_user,
            )
        except CatalogueError as error:
            db.session.rollback()
            session = _managed_session(session_id)
            _field_error(form, error)
        else:
            db.session.commit()
            flash(
                _("The session is changed. Everyone booked is told (by e-mail, text message, or a call from the desk).")
                if told
                else _("The session is changed."),
                "success",
            )
            return redirect(url_for("courses.offer_detail", offer_id=session.offer_id))
    return render_form("courses/session_form.html", form, session=session, offer=session.offer)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def cancel_session(session_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then cancel one session and tell everyone booked."""
    session = _managed_session(session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            told = operations.cancel_session(session, form.message.data or "")
        except CatalogueError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The session is cancelled. %(num)d people booked are told.", num=told), "success")
        return redirect(url_for("courses.offer_detail", offer_id=session.offer_id))
    booked = len(queries.booked_on(session))
    return render_form("courses/confirm_cancel.html", form, offer=session.offer, session=session, booked=booked)


@bp.route("/offers/<int:offer_id>/cancel", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def cancel_offer(offer_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then cancel a whole offer and tell everyone booked."""
    offer = _managed_offer(offer_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            told = operations.cancel_offer(offer, form.message.data or "")
        except CatalogueError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _("“%(title)s” is cancelled. %(num)d people booked are told.", title=offer.title, num=told),
                "success",
            )
        return redirect(url_for("courses.offer_detail", offer_id=offer.id))
    booked = queries.people_booked(offer)
    return render_form("courses/confirm_cancel.html", form, offer=offer, session=None, booked=booked)


@bp.route("/offers/<int:offer_id>/translations/<locale>", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def translation(offer_id: int, locale: str) -> ResponseReturnValue:
    """Write the title and description of an offer in another language."""
    offer = _managed_offer(offer_id)
    if locale not in LANGUAGES or locale == offer.language:
        abort(404)
    existing = next((t for t in offer.translations if t.locale == locale), None)
    form = TranslationForm(obj=existing if request.method == "GET" else None)
    for text in (form.title, form.description):  # typed in that language; the labels stay in the reader's
        text.render_kw = {"lang": locale, "dir": LANGUAGES[locale].direction}
    if form.validate_on_submit():
        if request.form.get("remove") and existing is not None:
            held = services.remove_translation(offer, locale, current_user)
            done = _("The translation is removed.")
        else:
            held = services.set_translation(
                offer, locale, filled(form.title.data), form.description.data or "", current_user
            )
            done = _("The translation is saved.")
        db.session.commit()
        if held:
            flash(_("Thank you! The translation is online once a coordinator has looked at it."), "success")
        else:
            flash(done, "success")
        return redirect(url_for("courses.edit_offer", offer_id=offer.id))
    return render_form(
        "courses/translation_form.html", form, offer=offer, locale=locale, language=LANGUAGES[locale], existing=existing
    )


@bp.get("/my/offers")
@role_required(Role.VOLUNTEER)
def my_offers() -> ResponseReturnValue:
    """The offers a person organises; coordinators can see every offer."""
    everyone = policy.may_review(current_user) and request.args.get("all") == "1"
    pagination = db.paginate(catalogue.offers_of(current_user, everyone), page=page_arg(), per_page=25, error_out=False)
    return render_template("courses/my_offers.html", pagination=pagination, everyone=everyone)


@bp.get("/review")
@role_required(Role.COORDINATOR)
def review() -> ResponseReturnValue:
    """Volunteers' activities waiting for approval, and changes to public ones, side by side."""
    waiting = [(revision, revisions.differences(revision)) for revision in revisions.revisions_waiting()]
    return render_template(
        "courses/review.html", offers=catalogue.waiting_for_approval(), revisions=waiting, form=RejectForm()
    )


def _decide_revision(revision_id: int, approve: bool) -> ResponseReturnValue:
    revision = db.get_or_404(OfferRevision, revision_id)
    form = RejectForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if approve:
            revisions.approve_revision(revision, current_user)
        else:
            revisions.reject_revision(revision, current_user, form.reason.data or "")
    except CatalogueError as error:
        flash(error.message, "error")
        return redirect(url_for("courses.review"), 303)
    audit.record(
        "revision.approved" if approve else "revision.rejected",
        actor_id=current_user.id,
        subject_id=revision.author_id,
        offer_id=revision.offer_id,
    )
    db.session.commit()
    title = revision.offer.title
    if approve:
        flash(_("The changes to “%(title)s” are online.", title=title), "success")
    else:
        flash(_("The changes to “%(title)s” are not published.", title=title), "info")
    return redirect(url_for("courses.review"), 303)


@bp.post("/revisions/<int:revision_id>/approve")
@role_required(Role.COORDINATOR)
def approve_revision(revision_id: int) -> ResponseReturnValue:
    """Put a volunteer's changes online."""
    return _decide_revision(revision_id, approve=True)


@bp.post("/revisions/<int:revision_id>/reject")
@role_required(Role.COORDINATOR)
def reject_revision(revision_id: int) -> ResponseReturnValue:
    """Keep the approved words online, and tell the volunteer why."""
    return _decide_revision(revision_id, approve=False)


def _decide(
    offer_id: int, decide: Callable[[Offer, Any], None], done: Callable[[str], str], category: str
) -> ResponseReturnValue:
    offer = _visible_offer(offer_id)
    try:
        decide(offer, current_user)
    except CatalogueError as error:
        flash(error.message, "error")
        return redirect(url_for("courses.review")), 303
    action = "offer.approved" if offer.is_public else "offer.rejected"
    audit.record(action, actor_id=current_user.id, subject_id=offer.organiser_id, offer_id=offer.id)
    db.session.commit()
    flash(done(offer.title), category)
    return redirect(url_for("courses.review"))


@bp.post("/offers/<int:offer_id>/approve")
@role_required(Role.COORDINATOR)
def approve(offer_id: int) -> ResponseReturnValue:
    """Publish a volunteer's activity."""
    return _decide(offer_id, services.approve, lambda title: _("“%(title)s” is published.", title=title), "success")


@bp.post("/offers/<int:offer_id>/reject")
@role_required(Role.COORDINATOR)
def reject(offer_id: int) -> ResponseReturnValue:
    """Decline a volunteer's activity (the volunteer still sees it and can talk to you)."""
    return _decide(offer_id, services.reject, lambda title: _("“%(title)s” is not published.", title=title), "info")


bp.add_app_template_global(has_started, "has_started")
