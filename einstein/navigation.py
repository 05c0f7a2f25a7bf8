"""The navigation each role sees: one table, filtered by role and by what is installed."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from einstein.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation."""

    endpoint: str
    label: object
    icon: str
    #: Lowest role that sees the link; None means "everyone, signed in or not".
    role: Role | None = None
    anonymous_only: bool = False


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("courses.index", _l("What's on"), "search"),
    NavItem("bookings.mine", _l("My bookings"), "ticket", Role.PARTICIPANT),
    NavItem("courses.my_offers", _l("My offers"), "list", Role.VOLUNTEER),
    NavItem("courses.review", _l("Approvals"), "check", Role.COORDINATOR),
    NavItem("bookings.desk", _l("Desk"), "desk", Role.COORDINATOR),
    NavItem("attendance.dashboard", _l("Dashboard"), "chart", Role.COORDINATOR),
    NavItem("auth.people", _l("People"), "people", Role.COORDINATOR),
    NavItem("staff.outbox", _l("Messages"), "speech", Role.COORDINATOR),
    NavItem("staff.calls", _l("Calls"), "user", Role.COORDINATOR),
    NavItem("attendance.exports_page", _l("Exports"), "download", Role.COORDINATOR),
    NavItem("auth.profile", _l("Profile"), "user", Role.PARTICIPANT),
    NavItem("auth.login", _l("Sign in"), "login", anonymous_only=True),
    NavItem("auth.signup", _l("Sign up"), "user", anonymous_only=True),
)


def nav_items() -> list[dict[str, object]]:
    """Return the links the current person may use, marking the current page."""
    items = []
    for item in NAV_ITEMS:
        if item.anonymous_only and current_user.is_authenticated:
            continue
        if item.role is not None and not (current_user.is_authenticated and current_user.has_role(item.role)):
            continue
        items.append(
            {
                "url": url_for(item.endpoint),
                "label": item.label,
                "icon": item.icon,
                "current": request.endpoint == item.endpoint,
            }
        )
    return items


def init_app(app: Flask) -> None:
    """Make the navigation available to the base layout."""
    app.jinja_env.globals["nav_items"] = nav_items
