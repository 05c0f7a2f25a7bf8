"""Routes of the catalogue: finding offers, their pages, and making and changing them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from einstein import caching, policy
from einstein.api import jsonld
from einstein.attendance import volunteering
from einstein.audit import services as audit
from einstein.auth import reach
from einstein.auth.access import role_required
from einstein.auth.models import Audience, Role, User
from einstein.bookings import operations, queries
from einstein.bookings.models import Booking, BookingStatus
from einstein.bookings.views import household_members
from einstein.bounds import page_arg
from einstein.courses import catalogue, noticeboard, offer_page, revisions, schedule, services, translations
from einstein.courses.calendar import calendar_bytes
from einstein.courses.errors import CatalogueError
from einstein.courses.forms import (
    AddSessionsForm,
    ConfirmForm,
    FilterForm,
    NewOfferForm,
    NoticeBoardForm,
    OfferForm,
    RejectForm,
    SessionForm,
    TranslationForm,
    TranslationRejectForm,
    TranslatorLanguagesForm,
    text_language_choices,
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
    TranslationProposal,
    began,
    first_start,
    has_started,
)
from einstein.db import db
from einstein.forms import add_error, choices, filled
from einstein.i18n import LANGUAGES, TIMEZONE, current_language
from einstein.urls import external_url
from einstein.views import FORM_INVALID, render_form

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
        # stale when an offer shown changes (or, filtered on free places, when any course or
        # session fills up or comes free: another may join the list)
        shown = [caching.offer_scope(s.offer_id) for s in page.sessions]
        caching.depends_on(*shown, *([caching.FREE] if filters.free else []))
        next_url = url_for("courses.index", after=page.next_cursor.encode(), **args) if page.next_cursor else None
        first_url = url_for("courses.index", **args) if cursor else None
        return render_template(
            "courses/_listing.html", page=page, filters=filters, next_url=next_url, first_url=first_url
        )

    # The same for everyone reading this language: cached until the catalogue changes, at most a minute.
    key = (current_language().code, tuple(sorted(args.items())), cursor, caching.minute())
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
    caching.depends_on(caching.offer_scope(offer_id))  # a visitor's page is kept until this offer changes
    # a broken or stale "after" shows the first sessions, as the listing's cursor does
    after = request.args.get("after", type=int)
    language = current_language().code
    helps = policy.may_help(current_user)
    # The shared part is the same for everyone who reads this language and neither manages the
    # offer nor helps at it (they see their own links) nor books for a household (its boxes ask
    # about the sessions themselves): cached until the catalogue is edited, at most a minute; not
    # when places are booked, since they are read now. It is looked up first and loads the offer
    # itself when it is made; kept, the page needs the offer's own row (whether this person may see
    # it, a course's places, what their buttons say), an activity's sessions (their places) and the
    # person's bookings there: one statement (``queries.offer_now``).
    page, sessions, current = None, None, None
    offer: Offer | None
    if not (helps or household_members()):
        made: list[tuple[Offer, list[OfferSession]]] = []

        def shared() -> offer_page.SharedPage:
            offer = _offer_or_404(offer_id)
            made_page, shown = _shared_part(offer, after, language, can_manage=False, helps=False)
            made.append((offer, shown))
            return made_page

        page = caching.kept(
            "offer-page", (offer_id, language, after, caching.minute()), shared, scopes=offer_page.SHARED_SCOPES
        )
        if made:
            offer, sessions = made[0]
        else:
            current = queries.offer_now(offer_id, page.session_ids, current_user)
            offer = current.offer if current is not None else None
    else:
        offer = catalogue.load_offer(offer_id, texts=False)
    if offer is None or not policy.may_view_offer(current_user, offer):
        abort(404)
    can_manage = policy.may_manage_offer(current_user, offer)
    units: Mapping[int, OfferSession] | None = None
    mine: Mapping[int | None, Booking] | None = None
    if page is not None and not can_manage:
        # the shared part was made just now with its sessions, or kept: their places are read now
        if sessions is not None:
            units = {s.id: s for s in sessions}
        elif current is not None:
            units, mine = current.sessions, current.mine
    if page is None or units is None:
        page, shown = _shared_part(offer, after, language, can_manage=can_manage, helps=helps)
        units, mine = {s.id: s for s in shown}, None
    return render_template(
        "courses/offer.html",
        page=page,
        structured_data=jsonld.with_places(page.structured_data, offer, units),
        content=_with_controls(offer, page, units, mine),
    )


def _offer_or_404(offer_id: int) -> Offer:
    offer = catalogue.load_offer(offer_id, texts=False)
    if offer is None:
        abort(404)
    return offer


def _shared_part(
    offer: Offer, after: int | None, language: str, *, can_manage: bool, helps: bool
) -> tuple[offer_page.SharedPage, list[OfferSession]]:
    """The part of the offer page that is the same for everyone reading ``language`` with these
    rights (cached for those without them), and the sessions it shows."""
    caching.depends_on(caching.offer_scope(offer.id))
    sessions = catalogue.sessions_for_page(offer, after, recent=can_manage)
    content = render_template(
        "courses/_offer_content.html",
        offer=offer,
        sessions=sessions,
        can_manage=can_manage,
        help_slots=volunteering.slots(current_user, offer, sessions.upcoming) if helps else {},
        personal=offer_page.personal_slot,
        places=offer_page.places_slot,
    )
    page = offer_page.SharedPage(
        title=offer.text_for(language).title,
        structured_data=jsonld.offer_events(offer, sessions.upcoming, language),
        content=content,
        session_ids=tuple(s.id for s in sessions.upcoming),
        first_start=first_start(offer) if offer.is_course else None,
    )
    return page, sessions.upcoming


def _with_controls(
    offer: Offer,
    page: offer_page.SharedPage,
    units: Mapping[int, OfferSession],
    mine: Mapping[int | None, Booking] | None = None,
) -> Markup:
    """The page's content with the free places as they are now and the signed-in person's booking
    controls (their bookings, buttons and form token) rendered into its placeholders; ``mine``:
    their bookings here, if already read."""
    if mine is None:
        mine = queries.active_bookings_for_offer(current_user, offer)
    course_started = offer.is_course and began(page.first_start)
    context: dict[str, Any] = {
        "offer": offer,
        "my_bookings": mine,
        "positions": queries.waitlist_places([b for b in mine.values() if b.status == BookingStatus.WAITLISTED]),
    }
    current_app.update_template_context(context)
    templates = current_app.jinja_env
    places = templates.get_template("courses/_availability.html")
    language = current_language().code
    signed_in = bool(current_user.is_authenticated)
    # with household members, a panel asks about each of them: made per request
    members = signed_in and bool(household_members())
    made_panels: list[Any] = []

    def panels() -> Any:
        # the panels' macros, made once for the page (Any: a template's macros are its attributes)
        if not made_panels:
            made_panels.append(templates.get_template("bookings/_panels.html").make_module(context))
        return made_panels[0]

    def places_of(unit: Offer | OfferSession) -> str:
        # what the badge says follows from these alone, unless places are held for the mix (it
        # then says until when): the same few badges are made once per process and kept
        def make() -> str:
            return places.render({**context, "unit": unit})

        if unit.holding is not None:
            return make()
        said = (language, unit.is_full, unit.free_places, offer.waitlist_enabled)
        return caching.kept_here("einstein.place_badges", said, make, offer_page.BADGES_KEPT)

    def controls_of(key: str, unit: Offer | OfferSession) -> str:
        session = unit if isinstance(unit, OfferSession) else None
        started = has_started(offer, session) if session is not None else course_started
        booking = mine.get(session.id if session is not None else None)

        def make() -> str:
            if session is not None:
                return str(panels().session_panel(session, started))
            return str(panels().course_panel(started))

        if members:
            return make()
        if booking is not None:
            return booked(booking, unit, started)
        # without a booking here, the buttons follow from these alone: the same panel serves
        # everyone, kept per process with a slot for the person's form token
        said = offer_page.panel_key(language, key, offer, unit, started=started, signed_in=signed_in)
        return caching.kept_with_token("einstein.panels", said, make, offer_page.PANELS_KEPT)

    def booked(booking: Booking, unit: Offer | OfferSession, started: bool) -> str:
        # a booking's panel says its state, its place on the list and its reference: kept per
        # process by the first two, made with a stand-in reference that each request replaces
        waiting = booking.status == BookingStatus.WAITLISTED
        position = context["positions"].get(booking.id, 1) if waiting else None

        def make_for_anyone() -> str:
            stand_in = SimpleNamespace(id=booking.id, status=booking.status, reference=offer_page.REFERENCE_SLOT)
            return str(panels().panel(unit, stand_in, "", started))  # no booking button: no address

        said = offer_page.booked_panel_key(language, booking.status.value, position)
        html = caching.kept_with_token("einstein.booked_panels", said, make_for_anyone, offer_page.PANELS_KEPT)
        return html.replace(offer_page.REFERENCE_SLOT, booking.reference)

    def render(kind: str, key: str) -> str:
        unit: Offer | OfferSession = offer if key == "course" else units[int(key)]
        if kind == "places":
            return places_of(unit)
        return controls_of(key, unit)

    return offer_page.fill(page.content, render)


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
        held_places=form.held_places.data or 0,
        held_for=Audience(form.held_for.data or Audience.NEIGHBOUR.value),
        held_days=7 if form.held_days.data is None else form.held_days.data,
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
        form.held_for.data = offer.held_for.value
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
            edit = operations.change_session(
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
            if edit.told:
                flash(
                    _(
                        "The session is changed. Everyone booked is told "
                        "(by e-mail, text message, or a call from the desk)."
                    ),
                    "success",
                )
            elif edit.changed:
                flash(_("The session is changed."), "success")
            else:
                flash(_("Nothing was changed."), "info")
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
@role_required(Role.PARTICIPANT)
def translation(offer_id: int, locale: str) -> ResponseReturnValue:
    """Write the title and description of an offer in another language (its organiser, or a translator)."""
    offer = _visible_offer(offer_id)
    if locale not in LANGUAGES or locale == offer.language:
        abort(404)
    if not policy.may_translate_offer(current_user, offer, locale):
        abort(403)
    manages = policy.may_manage_offer(current_user, offer)
    from_queue = request.args.get("from") == "queue" or not manages
    back = (
        url_for("courses.translation_queue", lang=locale)
        if from_queue
        else url_for("courses.edit_offer", offer_id=offer.id)
    )
    existing = next((t for t in offer.translations if t.locale == locale), None)
    waiting = translations.pending_proposal(offer, locale)
    form = TranslationForm(obj=(waiting or existing) if request.method == "GET" else None)
    for text in (form.title, form.description):  # typed in that language; the labels stay in the reader's
        text.render_kw = {"lang": locale, "dir": LANGUAGES[locale].direction}
    if form.validate_on_submit():
        if request.form.get("remove") and existing is not None and manages:
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
        return redirect(back)
    return render_form(
        "courses/translation_form.html",
        form,
        offer=offer,
        locale=locale,
        language=LANGUAGES[locale],
        existing=existing,
        waiting=waiting,
        manages=manages,
        back=back,
    )


@bp.get("/my/offers")
@role_required(Role.VOLUNTEER)
def my_offers() -> ResponseReturnValue:
    """The offers a person organises; coordinators can see every offer."""
    everyone = policy.may_review(current_user) and request.args.get("all") == "1"
    pagination = db.paginate(catalogue.offers_of(current_user, everyone), page=page_arg(), per_page=25, error_out=False)
    changes = revisions.latest_revisions([offer.id for offer in pagination.items])
    return render_template("courses/my_offers.html", pagination=pagination, everyone=everyone, changes=changes)


@bp.get("/review")
@role_required(Role.COORDINATOR)
def review() -> ResponseReturnValue:
    """Volunteers' activities waiting for approval, and changes to public ones, side by side."""
    return _review_page()


def _review_page(status: int = 200, form: RejectForm | None = None, refused: str | None = None) -> ResponseReturnValue:
    """The review page; after a refused "no", with the problem at the card it was for (``refused``)."""
    waiting = [(revision, revisions.differences(revision)) for revision in revisions.revisions_waiting()]
    page = render_template(
        "courses/review.html",
        offers=catalogue.waiting_for_approval(),
        revisions=waiting,
        form=form or RejectForm(formdata=None),
        refused=refused,
    )
    return page, status


def _reason_refused(form: RejectForm, refused: str, error: CatalogueError | None = None) -> ResponseReturnValue:
    """A "no" without a reason: the review page again, 422, the problem at its card."""
    db.session.rollback()
    if error is not None:
        add_error(form.reason, error.message)
    return _review_page(FORM_INVALID, form, refused)


def _told(person: User | None) -> str:
    return reach.told_about(person) if person is not None else ""


def _decide_revision(revision_id: int, approve: bool) -> ResponseReturnValue:
    revision = db.get_or_404(OfferRevision, revision_id)
    form = RejectForm()
    if not approve and not form.validate_on_submit():
        return _reason_refused(form, f"revision-{revision_id}")
    try:
        if approve:
            revisions.approve_revision(revision, current_user)
        else:
            revisions.reject_revision(revision, current_user, form.reason.data or "")
    except CatalogueError as error:
        if error.field == "reason":
            return _reason_refused(form, f"revision-{revision_id}", error)
        flash(error.message, "error")
        return redirect(url_for("courses.review"), 303)
    audit.record(
        "revision.approved" if approve else "revision.rejected",
        actor_id=current_user.id,
        subject_id=revision.author_id,
        offer_id=revision.offer_id,
    )
    db.session.commit()
    title, how = revision.offer.title, _told(revision.author)
    if approve:
        done = _("The changes to “%(title)s” are online. The volunteer is told %(how)s.", title=title, how=how)
        flash(done, "success")
    else:
        done = _(
            "The changes to “%(title)s” are not published. The volunteer is told why %(how)s.", title=title, how=how
        )
        flash(done, "info")
    return redirect(url_for("courses.review"), 303)


@bp.post("/revisions/<int:revision_id>/approve")
@role_required(Role.COORDINATOR)
def approve_revision(revision_id: int) -> ResponseReturnValue:
    """Put a volunteer's changes online, and tell them."""
    return _decide_revision(revision_id, approve=True)


@bp.post("/revisions/<int:revision_id>/reject")
@role_required(Role.COORDINATOR)
def reject_revision(revision_id: int) -> ResponseReturnValue:
    """Keep the approved words online, and tell the volunteer why (a reason is required)."""
    return _decide_revision(revision_id, approve=False)


def _decided(offer: Offer) -> ResponseReturnValue:
    action = "offer.approved" if offer.is_public else "offer.rejected"
    audit.record(action, actor_id=current_user.id, subject_id=offer.organiser_id, offer_id=offer.id)
    db.session.commit()
    title, told = offer.title, _told(offer.organiser)
    if offer.is_public:
        flash(_("“%(title)s” is published. The volunteer is told %(how)s.", title=title, how=told), "success")
    else:
        flash(_("“%(title)s” is not published. The volunteer is told why %(how)s.", title=title, how=told), "info")
    return redirect(url_for("courses.review"), 303)


@bp.post("/offers/<int:offer_id>/approve")
@role_required(Role.COORDINATOR)
def approve(offer_id: int) -> ResponseReturnValue:
    """Publish a volunteer's activity, and tell them."""
    offer = _visible_offer(offer_id)
    try:
        services.approve(offer, current_user)
    except CatalogueError as error:
        flash(error.message, "error")
        return redirect(url_for("courses.review"), 303)
    return _decided(offer)


@bp.post("/offers/<int:offer_id>/reject")
@role_required(Role.COORDINATOR)
def reject(offer_id: int) -> ResponseReturnValue:
    """Decline a volunteer's activity and tell them why (a reason is required; they still see it)."""
    offer = _visible_offer(offer_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _reason_refused(form, f"offer-{offer_id}")
    try:
        services.reject(offer, current_user, form.reason.data or "")
    except CatalogueError as error:
        if error.field == "reason":
            return _reason_refused(form, f"offer-{offer_id}", error)
        flash(error.message, "error")
        return redirect(url_for("courses.review"), 303)
    return _decided(offer)


def review_count() -> int:
    """What waits for review, for the badge on the coordinators' menu; nothing is counted (or
    asked of the database) for anyone else."""
    return revisions.waiting_count() if policy.may_review(current_user) else 0


# --- translators ----------------------------------------------------------------------------------


@bp.get("/translations")
@role_required(Role.PARTICIPANT)
def translation_queue() -> ResponseReturnValue:
    """What waits to be translated into one of the translator's languages (new or out of date), soonest first."""
    if not policy.may_see_translation_queue(current_user):
        abort(403)
    languages = translations.languages_of(current_user)
    locale = request.args.get("lang") or (languages[0] if languages else "")
    if locale not in LANGUAGES:
        abort(404)
    if not policy.may_translate(current_user, locale):
        abort(403)
    pagination = db.paginate(translations.queue(locale), page=page_arg(), per_page=20, error_out=False)
    return render_template(
        "courses/translation_queue.html",
        items=translations.queue_items(list(pagination.items), locale),
        pagination=pagination,
        locale=locale,
        language=LANGUAGES[locale],
        languages=languages,
    )


def _proposal_page(
    proposal: TranslationProposal, form: TranslationRejectForm, status: int = 200
) -> ResponseReturnValue:
    online = next((t for t in proposal.offer.translations if t.locale == proposal.locale), None)
    page = render_template(
        "courses/translation_proposal.html",
        proposal=proposal,
        offer=proposal.offer,
        online=online,
        language=LANGUAGES.get(proposal.locale),
        form=form,
    )
    return page, status


@bp.get("/translations/proposals/<int:proposal_id>")
@role_required(Role.COORDINATOR)
def translation_proposal(proposal_id: int) -> ResponseReturnValue:
    """A held translation beside the original and the translation online, to approve or not."""
    return _proposal_page(db.get_or_404(TranslationProposal, proposal_id), TranslationRejectForm(formdata=None))


def _decide_translation(proposal_id: int, approve: bool) -> ResponseReturnValue:
    proposal = db.get_or_404(TranslationProposal, proposal_id)
    form = TranslationRejectForm()
    if not form.validate_on_submit():
        return _proposal_page(proposal, form, FORM_INVALID)
    try:
        if approve:
            translations.approve(proposal, current_user)
        else:
            translations.reject(proposal, current_user, form.reason.data or "")
    except CatalogueError as error:
        db.session.rollback()
        if error.field == "reason":
            add_error(form.reason, error.message)
            return _proposal_page(db.get_or_404(TranslationProposal, proposal_id), form, FORM_INVALID)
        flash(error.message, "error")
        return redirect(url_for("courses.review", _anchor="translations"), 303)
    db.session.commit()
    title = proposal.offer.text_in(current_language().code)[0]
    if approve:
        flash(_("The translation of “%(title)s” is online.", title=title), "success")
    else:
        flash(_("The translation of “%(title)s” is not published; the translator sees why.", title=title), "info")
    return redirect(url_for("courses.review", _anchor="translations"), 303)


@bp.post("/translations/proposals/<int:proposal_id>/approve")
@role_required(Role.COORDINATOR)
def approve_translation(proposal_id: int) -> ResponseReturnValue:
    """Put a held translation online."""
    return _decide_translation(proposal_id, approve=True)


@bp.post("/translations/proposals/<int:proposal_id>/reject")
@role_required(Role.COORDINATOR)
def reject_translation(proposal_id: int) -> ResponseReturnValue:
    """Keep a held translation off the pages, with a reason for the translator."""
    return _decide_translation(proposal_id, approve=False)


@bp.route("/people/<int:user_id>/translator", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def translator_languages(user_id: int) -> ResponseReturnValue:
    """Choose the languages a bilingual volunteer or participant translates offers into."""
    person = db.get_or_404(User, user_id)
    if not policy.may_give_translator_languages(current_user, person):
        abort(403)
    form = TranslatorLanguagesForm()
    if request.method == "GET":
        form.languages.data = translations.languages_of(person)
    if form.validate_on_submit():
        added, removed = translations.set_languages(person, filled(form.languages.data), by=current_user)
        db.session.commit()
        if added or removed:
            flash(_("%(name)s's languages for translating are saved.", name=person.name), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("auth.people", q=person.name))
    return render_form("courses/translator_form.html", form, person=person)


# --- the notice board ------------------------------------------------------------------------------


def _week_label(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    return str(_("%(first)s to %(last)s", first=format_date(monday, "d MMM"), last=format_date(sunday, "d MMM yyyy")))


@bp.get("/notice-board")
@role_required(Role.COORDINATOR)
def notice_board() -> ResponseReturnValue:
    """Choose a place, a week and two languages for a printed programme."""
    form = NoticeBoardForm(request.args)
    form.location.choices = choices((place.id, place.one_line) for place in noticeboard.places())
    form.week.choices = choices(
        (noticeboard.week_name(monday), _week_label(monday)) for monday in noticeboard.weeks_to_choose()
    )
    form.second.choices = choices([("", _("(only the first language)"))]) + text_language_choices()
    if not request.args:
        first, second = noticeboard.default_languages(current_language().code)
        form.first.data, form.second.data = first, second
        form.week.data = noticeboard.week_name(noticeboard.this_monday())
        return render_form("courses/notice_board_form.html", form)
    if form.validate():
        languages = [code for code in (form.first.data, form.second.data) if code]
        target = url_for(
            "courses.notice_board_print", location_id=int(form.location.data), week=form.week.data, lang=languages
        )
        return redirect(target, 303)
    return render_form("courses/notice_board_form.html", form)


@bp.get("/notice-board/<int:location_id>/<week>")
@role_required(Role.COORDINATOR)
def notice_board_print(location_id: int, week: str) -> ResponseReturnValue:
    """A week's programme at one place on A4, in one or two languages (``?lang=nl&lang=ar``), each
    offer with a QR code to its page."""
    location = db.get_or_404(Location, location_id)
    monday = noticeboard.week_start(week)
    if monday is None:
        abort(404)
    asked = request.args.getlist("lang")
    codes = noticeboard.board_languages(asked) if asked else noticeboard.default_languages(current_language().code)
    if codes is None:
        abort(400)
    days = noticeboard.programme(location, monday)
    return render_template(
        "courses/notice_board.html",
        location=location,
        monday=monday,
        sunday=monday + timedelta(days=6),
        week=week,
        days=days,
        qr=noticeboard.qr_codes(days),
        languages=[LANGUAGES[code] for code in codes],
        site=external_url("courses.index"),  # the public address, as in the codes
    )


bp.add_app_template_global(translations.proposals_waiting, "translations_waiting")
bp.add_app_template_global(translations.coverage, "translation_coverage")
bp.add_app_template_global(translations.titles_in, "offer_titles")
bp.add_app_template_global(has_started, "has_started")
bp.add_app_template_global(noticeboard.clock, "board_clock")
