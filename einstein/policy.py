"""Who may do what: every permission einstein knows, in one place.

Views and templates ask these questions (templates through the globals registered by
``init_app``); nothing re-derives them. A rule takes the person asking (signed in or not) and
the thing asked about, and reads only their attributes, so this module sits right above the
accounts and below every area. The coarse gate "which role may open this page at all" is
``auth.access.role_required`` on the route; the rules here decide for one offer, booking or person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask

from einstein.auth.models import Role

if TYPE_CHECKING:
    from einstein.bookings.models import Booking
    from einstein.courses.models import Offer, OfferSession


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _coordinator(user: Any) -> bool:
    return _signed_in(user) and bool(user.has_role(Role.COORDINATOR))


# --- the catalogue ---------------------------------------------------------------------------------


def may_manage_offer(user: Any, offer: Offer) -> bool:
    """The organiser, coordinators and admins change an offer, see who is booked and take attendance."""
    return _signed_in(user) and (
        _coordinator(user) or (offer.organiser_id is not None and offer.organiser_id == user.id)
    )


def may_view_offer(user: Any, offer: Offer) -> bool:
    """Published and cancelled offers are public; others only for those who may change them."""
    return offer.status.value in {"published", "cancelled"} or may_manage_offer(user, offer)


def may_create_offer(user: Any, kind: str) -> bool:
    """Volunteers put activities online; courses are for coordinators (they involve partners)."""
    if not _signed_in(user) or not user.has_role(Role.VOLUNTEER):
        return False
    return kind != "course" or _coordinator(user)


def publishes_directly(user: Any) -> bool:
    """Coordinators and trusted volunteers publish; what others write waits for a coordinator."""
    return _coordinator(user) or bool(getattr(user, "trusted", False))


def may_review(user: Any) -> bool:
    """Coordinators approve volunteers' activities and their changes."""
    return _coordinator(user)


def may_translate(user: Any, locale: str) -> bool:
    """Coordinators translate offers into any language; others into the languages a coordinator
    gave them (``User.translator_languages``, kept by the catalogue)."""
    if not _signed_in(user):
        return False
    if _coordinator(user):
        return True
    return any(grant.locale == locale for grant in getattr(user, "translator_languages", ()))


def may_see_translation_queue(user: Any) -> bool:
    """Translators (for their languages) and coordinators (for all) see what waits to be translated."""
    return _coordinator(user) or (_signed_in(user) and bool(getattr(user, "translator_languages", ())))


def may_translate_offer(user: Any, offer: Offer, locale: str) -> bool:
    """Whoever manages an offer writes its translations; a translator those of a published offer."""
    return may_manage_offer(user, offer) or (offer.status.value == "published" and may_translate(user, locale))


def may_give_translator_languages(actor: Any, target: Any) -> bool:
    """Coordinators make a bilingual participant or volunteer a translator (others translate anyway)."""
    return _coordinator(actor) and actor.id != target.id and target.role in {Role.PARTICIPANT, Role.VOLUNTEER}


def may_take_attendance(user: Any, session: OfferSession) -> bool:
    """Whoever manages the offer takes attendance of its sessions."""
    return may_manage_offer(user, session.offer)


def may_see_feedback(user: Any, offer: Offer) -> bool:
    """Whoever manages an offer sees its participants' answers, in aggregate only (never who said what)."""
    return may_manage_offer(user, offer)


def may_help(user: Any) -> bool:
    """Volunteers (and the roles above) sign up to help at sessions and keep a record of their hours."""
    return _signed_in(user) and bool(user.has_role(Role.VOLUNTEER))


def may_see_helpers(user: Any, offer: Offer) -> bool:
    """The organiser and coordinators see who helps and ask for helpers."""
    return may_manage_offer(user, offer)


# --- bookings --------------------------------------------------------------------------------------


def may_change_booking(user: Any, booking: Booking) -> bool:
    """The person booked (or the holder of their household), and coordinators (at the desk, for
    someone), cancel a booking or print its card.

    An organiser does not: they cancel a whole session, not one person's place.
    """
    return _signed_in(user) and (booking.user_id == user.id or _coordinator(user) or _holds(user, booking))


def may_see_record(user: Any, booking: Booking) -> bool:
    """The person booked (or the holder of their household), and whoever manages the offer, see
    what the booking earned (a certificate)."""
    return _signed_in(user) and (
        booking.user_id == user.id or _holds(user, booking) or may_manage_offer(user, booking.offer)
    )


def _holds(user: Any, booking: Booking) -> bool:
    """Whether ``booking`` is a household member's, and ``user`` the holder of that household."""
    return booking.user is not None and booking.user.household_of_id == user.id


def is_household_member_of(user: Any, person: Any) -> bool:
    """Whether ``person`` is a member of the signed-in ``user``'s household."""
    return _signed_in(user) and person is not None and person.household_of_id == user.id


def may_act_for_member(user: Any, person: Any) -> bool:
    """Only the holder of a household, or a coordinator at the desk, sees, edits, books or cancels
    for a household member."""
    return (
        _signed_in(user)
        and person is not None
        and person.household_of_id is not None
        and (person.household_of_id == user.id or _coordinator(user))
    )


def may_have_household(user: Any) -> bool:
    """Someone with an account (not a household member) may add the people they live with."""
    return _signed_in(user) and getattr(user, "household_of_id", None) is None


def may_book_for_others(user: Any) -> bool:
    """Coordinators book people in at the desk."""
    return _coordinator(user)


# --- people and their data -------------------------------------------------------------------------


def may_see_reports(user: Any) -> bool:
    """Coordinators see the figures, the outbox and the exports."""
    return _coordinator(user)


def may_see_credentials(user: Any, offer: Offer) -> bool:
    """Coordinators see the certificates issued for a course (codes, names, whether revoked)."""
    return _coordinator(user)


def may_revoke_credential(user: Any) -> bool:
    """Coordinators revoke a certificate or volunteer statement (issued by mistake, or not earned
    after all): its public check says "not valid" from then on."""
    return _coordinator(user)


def may_set_role(actor: Any, target: Any, new_role: Role) -> bool:
    """Coordinators move people between participant and volunteer; admins can give any role."""
    if not _signed_in(actor) or actor.id == target.id:
        return False
    if actor.has_role(Role.ADMIN):
        return True
    if actor.has_role(Role.COORDINATOR):
        allowed = {Role.PARTICIPANT, Role.VOLUNTEER}
        return target.role in allowed and new_role in allowed
    return False


def may_end_sign_ins(actor: Any, target: Any) -> bool:
    """Admins can sign anyone else out everywhere (a lost phone, a person who left)."""
    return _signed_in(actor) and actor.has_role(Role.ADMIN) and actor.id != target.id


def may_act_for_privacy(actor: Any, person: Any) -> bool:
    """A coordinator may export or erase the data of a participant who cannot sign in to do it.

    Those are people registered at the desk without a password: without a coordinator they
    could never use their rights to a copy of their data or to erasure.
    """
    return (
        _coordinator(actor)
        and actor.id != person.id
        and person.role == Role.PARTICIPANT
        and person.password_hash is None
    )


def may_manage_household_at_desk(actor: Any, person: Any) -> bool:
    """A coordinator adds and books household members for someone registered at the desk (who
    cannot sign in to do it); members have no household of their own."""
    return may_act_for_privacy(actor, person) and person.household_of_id is None


def may_edit_at_desk(actor: Any, person: Any) -> bool:
    """A coordinator corrects the name and contact details of someone registered at the desk.

    The same people as for export and erasure: those who can sign in change their own details
    (a new address or number needs their password), so nobody else can move their account.
    A household member is not: they have no e-mail or phone, and their holder corrects them.
    """
    return may_act_for_privacy(actor, person) and person.household_of_id is None


def may_merge_people(actor: Any, first: Any, second: Any = None) -> bool:
    """A coordinator merges two records of one participant (registered twice, or registered at
    the desk and signed up later); without ``second``: whether ``first`` could be merged at all.
    Whether two can be merged (not both with a password) is the merge's own rule. A household
    member is nobody's duplicate: they belong to their holder's household."""
    people = [first] if second is None else [first, second]
    return (
        _coordinator(actor)
        and all(
            person.role == Role.PARTICIPANT and person.id != actor.id and person.household_of_id is None
            for person in people
        )
        and (second is None or first.id != second.id)
    )


def init_app(app: Flask) -> None:
    """Let templates ask the same questions."""
    for name, rule in globals().items():
        if name.startswith("may_") or name == "publishes_directly":
            app.jinja_env.globals[name] = rule
