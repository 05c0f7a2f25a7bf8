"""Every route, for every role, against one table of who may do what.

Adding a route without adding it to ``TABLE`` fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from einstein.db import db
from einstein.models import Role, User

ROLES = ["anonymous", "participant", "other_participant", "volunteer", "other_volunteer", "coordinator", "admin"]
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
VOLUNTEERS = frozenset({"volunteer", "other_volunteer", "coordinator", "admin"})
COORDINATORS = frozenset({"coordinator", "admin"})
ADMINS = frozenset({"admin"})
#: The organiser of the world's offers is "volunteer"; coordinators and admins may change any offer.
ORGANISER = frozenset({"volunteer", "coordinator", "admin"})
#: The world's booking belongs to "participant"; coordinators and admins may handle any booking.
BOOKED = frozenset({"participant", "coordinator", "admin"})
#: The world's household member belongs to "participant"'s household: nobody else sees them there.
HOLDER = frozenset({"participant"})


@dataclass(frozen=True)
class Rule:
    """Who may use one route with one method, and how to call it."""

    allowed: frozenset[str]
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda world: {})
    #: What a signed-in person who may not gets: 403, or 404 where existence is not revealed.
    denied: int = 403
    #: What an anonymous person who may not gets; None means "a redirect to sign in".
    anonymous_denied: int | None = None


def fixed(path: str) -> Callable[[dict[str, Any]], str]:
    return lambda world: path


#: (endpoint, method) -> Rule
TABLE: dict[tuple[str, str], Rule] = {
    ("static", "GET"): Rule(EVERYONE, fixed("/static/css/app.css")),
    ("core.healthz", "GET"): Rule(EVERYONE, fixed("/healthz")),
    ("core.live", "GET"): Rule(EVERYONE, fixed("/healthz/live")),
    ("core.ready", "GET"): Rule(EVERYONE, fixed("/healthz/ready")),
    # only a scraper with the bearer token (no role); without EINSTEIN_METRICS_TOKEN it is not there
    ("core.metrics", "GET"): Rule(frozenset(), fixed("/metrics"), denied=404, anonymous_denied=404),
    ("core.language", "GET"): Rule(EVERYONE, fixed("/language")),
    ("core.set_language", "POST"): Rule(EVERYONE, fixed("/language"), lambda w: {"lang": "ar"}),
    ("core.privacy", "GET"): Rule(EVERYONE, fixed("/privacy")),
    ("courses.index", "GET"): Rule(EVERYONE, fixed("/")),
    ("auth.signup", "GET"): Rule(EVERYONE, fixed("/signup")),
    ("auth.signup", "POST"): Rule(EVERYONE, fixed("/signup")),
    ("auth.login", "GET"): Rule(EVERYONE, fixed("/login")),
    ("auth.login", "POST"): Rule(EVERYONE, fixed("/login")),
    ("auth.logout", "POST"): Rule(EVERYONE, fixed("/logout")),
    ("auth.verify_email", "GET"): Rule(EVERYONE, lambda w: f"/verify/{w['verify_token']}"),
    ("auth.confirm_email", "POST"): Rule(EVERYONE, lambda w: f"/verify/{w['verify_token']}"),
    # the token is the key (RFC 8058: a mail program POSTs it, signed in as nobody)
    ("auth.unsubscribe", "GET"): Rule(EVERYONE, lambda w: f"/unsubscribe/{w['unsubscribe_token']}"),
    ("auth.unsubscribe", "POST"): Rule(EVERYONE, lambda w: f"/unsubscribe/{w['unsubscribe_token']}"),
    ("auth.resend_verification", "POST"): Rule(SIGNED_IN, fixed("/account/verify")),
    ("auth.reset_request", "GET"): Rule(EVERYONE, fixed("/reset")),
    ("auth.reset_request", "POST"): Rule(EVERYONE, fixed("/reset")),
    ("auth.reset_password", "GET"): Rule(EVERYONE, lambda w: f"/reset/{w['reset_token']}"),
    ("auth.reset_password", "POST"): Rule(EVERYONE, lambda w: f"/reset/{w['reset_token']}"),
    ("auth.profile", "GET"): Rule(SIGNED_IN, fixed("/account")),
    ("auth.profile", "POST"): Rule(SIGNED_IN, fixed("/account")),
    ("auth.change_password", "GET"): Rule(SIGNED_IN, fixed("/account/password")),
    ("auth.change_password", "POST"): Rule(SIGNED_IN, fixed("/account/password")),
    ("privacy.download_data", "GET"): Rule(SIGNED_IN, fixed("/account/data.json")),
    ("privacy.delete_account", "GET"): Rule(SIGNED_IN, fixed("/account/delete")),
    ("privacy.delete_account", "POST"): Rule(SIGNED_IN, fixed("/account/delete")),
    ("auth.signup_code", "GET"): Rule(EVERYONE, fixed("/signup/code")),
    ("auth.signup_code", "POST"): Rule(EVERYONE, fixed("/signup/code"), lambda w: {"code": "123456"}),
    ("auth.signup_code_again", "POST"): Rule(EVERYONE, fixed("/signup/code/again")),
    ("auth.confirm_phone", "GET"): Rule(SIGNED_IN, fixed("/account/phone")),
    ("auth.confirm_phone", "POST"): Rule(SIGNED_IN, fixed("/account/phone"), lambda w: {"code": "123456"}),
    ("auth.send_phone_code", "POST"): Rule(SIGNED_IN, fixed("/account/phone/send")),
    ("auth.devices", "GET"): Rule(SIGNED_IN, fixed("/account/devices")),
    ("auth.end_device", "POST"): Rule(SIGNED_IN, lambda w: f"/account/devices/{w['target_session_id']}/end"),
    ("auth.end_other_devices", "POST"): Rule(SIGNED_IN, fixed("/account/devices/end-others")),
    ("auth.people", "GET"): Rule(COORDINATORS, fixed("/people")),
    ("auth.end_sign_ins", "POST"): Rule(ADMINS, lambda w: f"/people/{w['target'].id}/sign-out"),
    ("privacy.export_for", "GET"): Rule(COORDINATORS, lambda w: f"/people/{w['desk_person'].id}/data"),
    ("privacy.export_for", "POST"): Rule(COORDINATORS, lambda w: f"/people/{w['desk_person'].id}/data"),
    ("privacy.erase_for", "GET"): Rule(COORDINATORS, lambda w: f"/people/{w['desk_person'].id}/erase"),
    ("privacy.erase_for", "POST"): Rule(COORDINATORS, lambda w: f"/people/{w['desk_person'].id}/erase"),
    ("auth.set_role", "POST"): Rule(
        COORDINATORS, lambda w: f"/people/{w['target'].id}/role", lambda w: {"role": "volunteer"}
    ),
    ("auth.set_trusted", "POST"): Rule(
        COORDINATORS, lambda w: f"/people/{w['target'].id}/trusted", lambda w: {"trusted": "1"}
    ),
    # the catalogue
    ("courses.offer_detail", "GET"): Rule(
        ORGANISER, lambda w: f"/offers/{w['pending'].id}", denied=404, anonymous_denied=404
    ),
    ("courses.offer_ics", "GET"): Rule(EVERYONE, lambda w: f"/offers/{w['offer'].id}.ics"),
    ("courses.session_ics", "GET"): Rule(EVERYONE, lambda w: f"/sessions/{w['session'].id}.ics"),
    ("courses.new_offer", "GET"): Rule(VOLUNTEERS, fixed("/offers/new/activity")),
    ("courses.new_offer", "POST"): Rule(VOLUNTEERS, fixed("/offers/new/activity")),
    ("courses.edit_offer", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/edit"),
    ("courses.edit_offer", "POST"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/edit"),
    ("courses.add_sessions", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/sessions/new"),
    ("courses.add_sessions", "POST"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/sessions/new"),
    ("courses.translation", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/translations/ar"),
    ("courses.translation", "POST"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/translations/ar"),
    # translators: in the world nobody but coordinators translates (tests/courses/test_translations.py has translators)
    ("courses.translation_queue", "GET"): Rule(COORDINATORS, fixed("/translations?lang=ti")),
    ("courses.translation_proposal", "GET"): Rule(
        COORDINATORS, lambda w: f"/translations/proposals/{w['proposal_id']}"
    ),
    ("courses.approve_translation", "POST"): Rule(
        COORDINATORS, lambda w: f"/translations/proposals/{w['proposal_id']}/approve"
    ),
    ("courses.reject_translation", "POST"): Rule(
        COORDINATORS, lambda w: f"/translations/proposals/{w['proposal_id']}/reject", lambda w: {"reason": "Too loose."}
    ),
    ("courses.translator_languages", "GET"): Rule(COORDINATORS, lambda w: f"/people/{w['target'].id}/translator"),
    ("courses.translator_languages", "POST"): Rule(
        COORDINATORS, lambda w: f"/people/{w['target'].id}/translator", lambda w: {"languages": ["ti"]}
    ),
    ("courses.cancel_offer", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/cancel"),
    ("courses.cancel_offer", "POST"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/cancel"),
    ("courses.edit_session", "GET"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/edit"),
    ("courses.edit_session", "POST"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/edit"),
    ("courses.cancel_session", "GET"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/cancel"),
    ("courses.cancel_session", "POST"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/cancel"),
    ("courses.my_offers", "GET"): Rule(VOLUNTEERS, fixed("/my/offers")),
    ("courses.review", "GET"): Rule(COORDINATORS, fixed("/review")),
    ("courses.approve", "POST"): Rule(COORDINATORS, lambda w: f"/offers/{w['pending'].id}/approve"),
    ("courses.reject", "POST"): Rule(
        COORDINATORS, lambda w: f"/offers/{w['pending'].id}/reject", lambda w: {"reason": "Not this month."}
    ),
    ("courses.notice_board", "GET"): Rule(COORDINATORS, fixed("/notice-board")),
    ("courses.notice_board_print", "GET"): Rule(
        COORDINATORS, lambda w: f"/notice-board/{w['offer'].location_id}/2030-W10?lang=nl&lang=ar"
    ),
    ("courses.approve_revision", "POST"): Rule(COORDINATORS, lambda w: f"/revisions/{w['revision_id']}/approve"),
    ("courses.reject_revision", "POST"): Rule(
        COORDINATORS, lambda w: f"/revisions/{w['revision_id']}/reject", lambda w: {"reason": "Not this month."}
    ),
    # bookings
    ("bookings.book_course", "POST"): Rule(SIGNED_IN, lambda w: f"/offers/{w['course'].id}/book"),
    ("bookings.book_session", "POST"): Rule(SIGNED_IN, lambda w: f"/sessions/{w['session'].id}/book"),
    ("bookings.cancel", "GET"): Rule(BOOKED, lambda w: f"/bookings/{w['booking'].reference}/cancel", denied=404),
    ("bookings.cancel", "POST"): Rule(BOOKED, lambda w: f"/bookings/{w['booking'].reference}/cancel", denied=404),
    ("bookings.cancel_by_link", "GET"): Rule(EVERYONE, lambda w: f"/cancel/{w['cancel_token']}"),
    ("bookings.cancel_by_link", "POST"): Rule(EVERYONE, lambda w: f"/cancel/{w['cancel_token']}"),
    ("bookings.short", "GET"): Rule(EVERYONE, lambda w: f"/b/{w['short_code']}"),
    ("bookings.keep", "POST"): Rule(EVERYONE, lambda w: f"/b/{w['short_code']}/keep"),
    ("bookings.cancel_short", "POST"): Rule(EVERYONE, lambda w: f"/b/{w['short_code']}/cancel"),
    ("bookings.cancel_short", "GET"): Rule(EVERYONE, lambda w: f"/b/{w['short_code']}/cancel"),
    ("bookings.card", "GET"): Rule(BOOKED, lambda w: f"/bookings/{w['booking'].reference}/card", denied=404),
    ("bookings.mine", "GET"): Rule(SIGNED_IN, fixed("/my/bookings")),
    # the household: anyone signed in has one; a member is seen and changed by the holder alone
    ("bookings.household_page", "GET"): Rule(SIGNED_IN, fixed("/my/household")),
    ("bookings.household_page", "POST"): Rule(SIGNED_IN, fixed("/my/household")),
    ("bookings.household_edit", "GET"): Rule(HOLDER, lambda w: f"/my/household/{w['member_id']}", denied=404),
    ("bookings.household_edit", "POST"): Rule(HOLDER, lambda w: f"/my/household/{w['member_id']}", denied=404),
    ("bookings.household_remove", "GET"): Rule(HOLDER, lambda w: f"/my/household/{w['member_id']}/remove", denied=404),
    ("bookings.household_remove", "POST"): Rule(HOLDER, lambda w: f"/my/household/{w['member_id']}/remove", denied=404),
    ("bookings.desk_household", "GET"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/household"),
    ("bookings.desk_household", "POST"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/household"),
    ("bookings.reset_feed", "POST"): Rule(SIGNED_IN, fixed("/my/calendar/reset")),
    ("bookings.feed", "GET"): Rule(EVERYONE, lambda w: f"/calendar/{w['feed_token']}.ics"),
    ("bookings.course_people", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['course'].id}/people"),
    ("bookings.session_people", "GET"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/people"),
    ("bookings.desk", "GET"): Rule(COORDINATORS, fixed("/desk?q=a")),
    ("bookings.desk_new_person", "GET"): Rule(COORDINATORS, fixed("/desk/people/new")),
    ("bookings.desk_new_person", "POST"): Rule(COORDINATORS, fixed("/desk/people/new")),
    ("bookings.desk_person", "GET"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['target'].id}"),
    ("bookings.desk_person", "POST"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['target'].id}"),
    # correcting, merging and cancelling at the desk (the POSTs sent here lack their confirmation: 422)
    ("bookings.desk_edit", "GET"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/edit"),
    ("bookings.desk_edit", "POST"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/edit"),
    ("bookings.desk_merge", "GET"): Rule(COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/merge?q=a"),
    ("bookings.desk_merge_with", "GET"): Rule(
        COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/merge/{w['booking'].user_id}"
    ),
    ("bookings.desk_merge_with", "POST"): Rule(
        COORDINATORS, lambda w: f"/desk/people/{w['desk_person'].id}/merge/{w['booking'].user_id}"
    ),
    ("bookings.desk_cancel", "GET"): Rule(COORDINATORS, lambda w: f"/desk/bookings/{w['booking'].reference}/cancel"),
    ("bookings.desk_cancel", "POST"): Rule(COORDINATORS, lambda w: f"/desk/bookings/{w['booking'].reference}/cancel"),
    # the SMS gateway's calls back (they carry the shared secret)
    ("gateway.delivery_report", "GET"): Rule(
        EVERYONE, lambda w: f"/sms/dlr?secret={w['sms_secret']}&id={w['failed_id']}&status=1"
    ),
    ("gateway.inbound", "GET"): Rule(
        EVERYONE, lambda w: f"/sms/inbound?secret={w['sms_secret']}&from=%2B31600000000&text=hi"
    ),
    # the outbox
    ("staff.outbox", "GET"): Rule(COORDINATORS, fixed("/outbox")),
    ("staff.retry", "POST"): Rule(COORDINATORS, lambda w: f"/outbox/{w['failed_id']}/retry"),
    ("staff.calls", "GET"): Rule(COORDINATORS, fixed("/calls")),
    ("staff.called", "POST"): Rule(COORDINATORS, lambda w: f"/calls/{w['failed_id']}/done"),
    ("staff.offer_history", "GET"): Rule(COORDINATORS, lambda w: f"/offers/{w['offer'].id}/history"),
    ("staff.person_history", "GET"): Rule(COORDINATORS, lambda w: f"/people/{w['target'].id}/history"),
    # attendance and reports
    ("attendance.take", "GET"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/attendance"),
    ("attendance.mark", "POST"): Rule(
        ORGANISER,
        lambda w: f"/sessions/{w['session'].id}/attendance/{w['booking'].id}",
        lambda w: {"status": "present"},
    ),
    ("attendance.by_reference", "POST"): Rule(
        ORGANISER,
        lambda w: f"/sessions/{w['session'].id}/attendance/reference",
        lambda w: {"reference": w["booking"].reference},
    ),
    ("attendance.walk_in", "POST"): Rule(ORGANISER, lambda w: f"/sessions/{w['session'].id}/attendance/walk-in"),
    ("attendance.completion", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['course'].id}/completion"),
    ("attendance.certificate", "GET"): Rule(
        BOOKED | {"volunteer"}, lambda w: f"/bookings/{w['completed'].reference}/certificate", denied=404
    ),
    # certificates anyone can check; revoked by coordinators; the learning record is one's own
    ("attendance.check_form", "GET"): Rule(EVERYONE, fixed("/check")),
    ("attendance.check", "GET"): Rule(EVERYONE, lambda w: f"/check/{w['credential_code']}"),
    ("attendance.issued", "GET"): Rule(COORDINATORS, lambda w: f"/offers/{w['completed'].offer_id}/certificates"),
    ("attendance.revoke", "GET"): Rule(COORDINATORS, lambda w: f"/certificates/{w['credential_id']}/revoke"),
    ("attendance.revoke", "POST"): Rule(
        COORDINATORS, lambda w: f"/certificates/{w['credential_id']}/revoke", lambda w: {"reason": "Issued by mistake"}
    ),
    ("attendance.learning_record", "GET"): Rule(SIGNED_IN, fixed("/my/record")),
    ("attendance.learning_record_pdf", "GET"): Rule(SIGNED_IN, fixed("/my/record.pdf")),
    ("attendance.dashboard", "GET"): Rule(COORDINATORS, fixed("/dashboard")),
    ("attendance.exports_page", "GET"): Rule(COORDINATORS, fixed("/exports")),
    ("attendance.export", "GET"): Rule(COORDINATORS, fixed("/exports/bookings.csv")),
    # open data: the programme API, its description, feeds per place and theme, the widget
    ("api-docs.openapi_json", "GET"): Rule(EVERYONE, fixed("/api/v1/openapi.json")),
    ("opendata.docs", "GET"): Rule(EVERYONE, fixed("/api/v1/")),
    ("programme.offers", "GET"): Rule(EVERYONE, fixed("/api/v1/offers")),
    # the course: "offer" is cancelled by its organiser earlier in the table
    ("programme.offer", "GET"): Rule(EVERYONE, lambda w: f"/api/v1/offers/{w['course'].id}"),
    ("programme.offer_sessions", "GET"): Rule(EVERYONE, lambda w: f"/api/v1/offers/{w['course'].id}/sessions"),
    ("programme.sessions", "GET"): Rule(EVERYONE, fixed("/api/v1/sessions")),
    ("programme.locations", "GET"): Rule(EVERYONE, fixed("/api/v1/locations")),
    ("programme.categories", "GET"): Rule(EVERYONE, fixed("/api/v1/categories")),
    ("opendata.location_feed", "GET"): Rule(EVERYONE, lambda w: f"/calendar/locations/{w['offer'].location_id}.ics"),
    ("opendata.category_feed", "GET"): Rule(
        EVERYONE, lambda w: f"/calendar/categories/{w['offer'].category.value}.ics"
    ),
    ("opendata.embed_programme", "GET"): Rule(
        EVERYONE, lambda w: f"/embed/programme?location={w['offer'].location_id}&category=social&lang=ar"
    ),
    ("opendata.embed_help", "GET"): Rule(EVERYONE, fixed("/embed")),
    # the signed link is the key (people registered at the desk have no password)
    ("attendance.how_was_it", "GET"): Rule(EVERYONE, lambda w: f"/feedback/{w['feedback_token']}"),
    ("attendance.how_was_it", "POST"): Rule(
        EVERYONE, lambda w: f"/feedback/{w['feedback_token']}", lambda w: {"face": "good"}
    ),
    ("attendance.offer_feedback", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/feedback"),
    ("attendance.helpers", "GET"): Rule(ORGANISER, lambda w: f"/offers/{w['offer'].id}/helpers"),
    ("attendance.helpers", "POST"): Rule(
        ORGANISER, lambda w: f"/offers/{w['offer'].id}/helpers", lambda w: {"number": "2"}
    ),
    ("attendance.sign_up_to_help", "POST"): Rule(VOLUNTEERS, lambda w: f"/sessions/{w['session'].id}/help"),
    ("attendance.withdraw_help", "GET"): Rule(VOLUNTEERS, lambda w: f"/sessions/{w['session'].id}/help/withdraw"),
    ("attendance.withdraw_help", "POST"): Rule(VOLUNTEERS, lambda w: f"/sessions/{w['session'].id}/help/withdraw"),
    ("attendance.volunteer_work", "GET"): Rule(VOLUNTEERS, fixed("/my/volunteering")),
    ("attendance.volunteer_statement", "GET"): Rule(VOLUNTEERS, fixed("/my/volunteering/statement")),
    ("attendance.volunteer_hours", "GET"): Rule(COORDINATORS, fixed("/dashboard/volunteers")),
}


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_the_table(app) -> None:
    routes = _routes(app)
    missing = routes - set(TABLE)
    stale = set(TABLE) - routes
    assert not missing, f"routes without a rule in tests/test_access.py: {sorted(missing)}"
    assert not stale, f"rules for routes that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(
    app, make_user, participant, other_participant, volunteer, other_volunteer, coordinator, admin
) -> dict[str, Any]:
    """People of every role and the things the routes are about."""
    from einstein.auth.tokens import make_reset_token, make_verify_token

    people = {
        "participant": participant,
        "other_participant": other_participant,
        "volunteer": volunteer,
        "other_volunteer": other_volunteer,
        "coordinator": coordinator,
        "admin": admin,
    }
    target = make_user(role=Role.PARTICIPANT, email_verified_at=None)
    desk_person = make_user(role=Role.PARTICIPANT, password_hash=None, email=None, phone="+31687654321")
    with app.app_context():
        from einstein.auth.sessions import start_login_session

        target_row = db.session.get(User, target.id)
        start_login_session(target_row)
        db.session.commit()
        world = {
            "people": people,
            "target": target,
            "desk_person": desk_person,
            "target_session_id": target_row.login_sessions[0].id,
            "verify_token": make_verify_token(target_row, target_row.email),
            "reset_token": make_reset_token(target_row),
        }
    world.update(extra_world(app, people))
    return world


def extra_world(app: Flask, people: dict[str, Any]) -> dict[str, Any]:
    """Offers, sessions and bookings the routes are about, organised by "volunteer"."""
    from datetime import timedelta

    from einstein.attendance import credentials
    from einstein.attendance import services as attendance
    from einstein.attendance.feedback import feedback_token
    from einstein.auth.unsubscribe import unsubscribe_token
    from einstein.bookings import services as bookings
    from einstein.bookings.links import cancel_token, short_code
    from einstein.db import utcnow
    from einstein.models import (
        Attendance,
        AttendanceStatus,
        Booking,
        BookingStatus,
        Notification,
        NotificationKind,
        NotificationStatus,
        OfferKind,
        OfferRevision,
        OfferStatus,
        TranslationProposal,
    )
    from tests import factories

    with app.app_context():
        organiser = db.session.get(User, people["volunteer"].id)
        participant = db.session.get(User, people["participant"].id)
        session = factories.SessionFactory(offer__organiser=organiser)
        course = factories.OfferFactory(organiser=organiser, kind=OfferKind.COURSE)
        factories.SessionFactory(offer=course)
        pending = factories.OfferFactory(organiser=organiser, status=OfferStatus.PENDING)
        booking = bookings.book(participant, bookings.Target(session.offer, session))
        # a course that has taken place, which the participant completed
        done = factories.OfferFactory(organiser=organiser, kind=OfferKind.COURSE)
        held = factories.SessionFactory(offer=done, starts_at=utcnow() - timedelta(days=7))
        completed = Booking(
            reference="DNTK-4444", user_id=participant.id, offer_id=done.id, status=BookingStatus.CONFIRMED
        )
        db.session.add(completed)
        db.session.flush()
        db.session.add(Attendance(session_id=held.id, booking_id=completed.id, status=AttendanceStatus.PRESENT))
        db.session.flush()
        # the certificate of the completed course, as issued when it was first shown
        credential = credentials.certificate_for(completed, attendance.completion_of(completed))
        credential_code, credential_id = credential.shown_code, credential.id
        failed = Notification(
            kind=NotificationKind.BOOKING_CONFIRMED,
            user_id=participant.id,
            booking_id=booking.id,
            status=NotificationStatus.FAILED,
            last_error="550 no such mailbox",
        )
        db.session.add(failed)
        member = User(name="Yusuf", household_of_id=participant.id, locale="ar")  # in participant's household
        db.session.add(member)
        revision = OfferRevision(offer=session.offer, author=organiser, changes={"title": "A new title"})
        db.session.add(revision)
        proposal = TranslationProposal(offer=session.offer, locale="ti", author=participant, title="ሰላም")
        db.session.add(proposal)
        db.session.commit()
        world = {
            "offer": session.offer,
            "session": session,
            "pending": pending,
            "course": course,
            "booking": booking,
            "completed": completed,
        }
        for value in world.values():
            db.session.refresh(value)
        world["credential_code"], world["credential_id"] = credential_code, credential_id
        world["cancel_token"] = cancel_token(booking)
        world["short_code"] = short_code(booking)
        world["sms_secret"] = app.config["SMS_CALLBACK_SECRET"]
        world["failed_id"] = failed.id
        world["revision_id"] = revision.id
        world["proposal_id"] = proposal.id
        world["feed_token"] = participant.calendar_token
        world["unsubscribe_token"] = unsubscribe_token(participant)
        world["member_id"] = member.id
        world["feedback_token"] = feedback_token(participant, held)
        db.session.expunge_all()
    return world


def _is_login_redirect(response) -> bool:
    # Flask-Login's refusal: "sign in first, then come back here".
    return response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_says(app, world, role) -> None:
    app.config["RATELIMIT_ENABLED"] = False
    problems = []
    for (_endpoint, method), rule in sorted(TABLE.items()):
        client = app.test_client()
        if role != "anonymous":
            client.sign_in(world["people"][role])
        url = rule.url(world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={**rule.data(world), "csrf_token": client.csrf_token()})
        status = response.status_code
        response.close()
        if status >= 500:
            problems.append(f"{method} {url} as {role}: {status}")
        elif role in rule.allowed:
            if status in {401, 403, 404} or _is_login_redirect(response):
                problems.append(f"{method} {url} as {role}: refused ({status}) but the table allows it")
        elif role == "anonymous" and rule.anonymous_denied is None:
            if not _is_login_redirect(response):
                problems.append(f"{method} {url} as anonymous: {status}, expected a redirect to sign in")
        elif role == "anonymous":
            if status != rule.anonymous_denied:
                problems.append(f"{method} {url} as anonymous: {status}, expected {rule.anonymous_denied}")
        elif status != rule.denied:
            problems.append(f"{method} {url} as {role}: {status}, expected {rule.denied}")
    assert not problems, "\n".join(problems)


@pytest.mark.own_app  # adds a route
def test_a_new_route_without_a_rule_is_noticed(app) -> None:
    @app.get("/__new-page")
    def new_page() -> str:
        return "new"

    assert ("new_page", "GET") in _routes(app) - set(TABLE)
