"""The navigation each role sees: one table, filtered by role and by what is installed, in groups.

On a phone the groups are a list behind a "Menu" button, on a wide screen one bar (base.html).
Every page shows the menu twice, and making it was about a sixth of a signed-in page's time: each
menu is made once per language and what it shows, and kept in the process (``nav_menu``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from einstein.auth.models import Role
from einstein.caching import kept_here, kept_with_token
from einstein.policy import may_see_translation_queue
from einstein.urls import served_under

#: The menu's groups, in the order they are shown: key -> heading.
GROUPS: dict[str, object] = {
    "find": _l("Find and book"),
    "organise": _l("Organise"),
    "coordinate": _l("Coordinate"),
    "account": _l("My account"),
}


@dataclass(frozen=True)
class NavItem:
    """A link in the main navigation."""

    endpoint: str
    label: object
    icon: str
    #: Lowest role that sees the link; None means "everyone, signed in or not".
    role: Role | None = None
    anonymous_only: bool = False
    #: A rule of ``einstein.policy`` the person must pass too (e.g. translators of any role).
    allowed: Callable[[Any], bool] | None = None
    #: The heading it is listed under (a key of GROUPS).
    group: str = "find"


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("courses.index", _l("What's on"), "search"),
    NavItem("bookings.mine", _l("My bookings"), "ticket", Role.PARTICIPANT),
    NavItem("courses.my_offers", _l("My offers"), "list", Role.VOLUNTEER, group="organise"),
    NavItem("attendance.volunteer_work", _l("My volunteer work"), "clock", Role.VOLUNTEER, group="organise"),
    NavItem(
        "courses.translation_queue",
        _l("Translations"),
        "globe",
        Role.PARTICIPANT,
        allowed=may_see_translation_queue,
        group="organise",
    ),
    NavItem("courses.review", _l("Approvals"), "check", Role.COORDINATOR, group="organise"),
    NavItem("bookings.desk", _l("Desk"), "desk", Role.COORDINATOR, group="coordinate"),
    NavItem("attendance.dashboard", _l("Dashboard"), "chart", Role.COORDINATOR, group="coordinate"),
    NavItem("auth.people", _l("People"), "people", Role.COORDINATOR, group="coordinate"),
    NavItem("staff.outbox", _l("Messages"), "speech", Role.COORDINATOR, group="coordinate"),
    NavItem("staff.calls", _l("Calls"), "phone", Role.COORDINATOR, group="coordinate"),
    NavItem("attendance.exports_page", _l("Exports"), "download", Role.COORDINATOR, group="coordinate"),
    NavItem("courses.notice_board", _l("Notice board"), "print", Role.COORDINATOR, group="coordinate"),
    NavItem("attendance.learning_record", _l("My learning record"), "check", Role.PARTICIPANT, group="account"),
    NavItem("auth.profile", _l("Profile"), "user", Role.PARTICIPANT, group="account"),
    NavItem("auth.login", _l("Sign in"), "login", anonymous_only=True, group="account"),
    NavItem("auth.signup", _l("Sign up"), "plus", anonymous_only=True, group="account"),
)


#: Counts shown beside a menu item (what waits for review), registered by the areas when the app
#: is assembled; asked only when the item is shown, so only for the roles that see it.
_BADGES: dict[str, Callable[[], int]] = {}


def register_badge(endpoint: str, count: Callable[[], int]) -> None:
    """Show ``count()`` beside the menu item of ``endpoint`` when it is more than nought."""
    _BADGES[endpoint] = count


def _url(endpoint: str) -> str:
    """The menu link's URL: ``url_for(endpoint)``, worked out once per process and script root
    (the path einstein is mounted under); a link of the menu takes no arguments."""
    return kept_here("einstein.menu_urls", (endpoint, served_under()), lambda: url_for(endpoint), MENUS_KEPT)


def nav_items() -> list[dict[str, object]]:
    """Return the links the current person may use, marking the current page."""
    user = current_user._get_current_object()  # once, not once per link
    signed_in = bool(user.is_authenticated)
    items = []
    for item in NAV_ITEMS:
        if item.anonymous_only and signed_in:
            continue
        if item.role is not None and not (signed_in and user.has_role(item.role)):
            continue
        if item.allowed is not None and not item.allowed(user):
            continue
        items.append(
            {
                "endpoint": item.endpoint,
                "url": _url(item.endpoint),
                "label": item.label,
                "icon": item.icon,
                "current": request.endpoint == item.endpoint,
                "badge": _BADGES[item.endpoint]() if item.endpoint in _BADGES else 0,
                "group": item.group,
            }
        )
    return items


def nav_groups() -> list[dict[str, object]]:
    """Return the current person's links under their headings, leaving out empty groups."""
    items = nav_items()
    groups = []
    for key, label in GROUPS.items():
        members = [item for item in items if item["group"] == key]
        if members or (key == "account" and current_user.is_authenticated):
            groups.append({"key": key, "label": label, "items": members})
    return groups


#: Menus kept per process; more than this many (languages x roles x pages x counts) start again.
MENUS_KEPT = 512


def _menu_key(prefix: str, groups: list[dict[str, Any]], signed_in: bool) -> tuple[object, ...]:
    """Everything a menu's HTML depends on. A link's words and icon follow from its endpoint (the
    table above) and the language; the rest is in the key as it is."""
    shown = tuple(
        (group["key"], tuple((i["endpoint"], i["url"], i["current"], i["badge"]) for i in group["items"]))
        for group in groups
    )
    return (str(get_locale()), prefix, signed_in, shown)


def nav_menu(prefix: str) -> Markup:
    """The menu's HTML for this request (``prefix`` names one of the page's two menus)."""
    groups = g.get("einstein_nav_groups")
    if groups is None:
        groups = g.einstein_nav_groups = nav_groups()
    signed_in = bool(current_user.is_authenticated)

    def make() -> str:
        lists = current_app.jinja_env.get_template("_nav.html").module.nav_lists  # type: ignore[attr-defined]
        return str(lists(groups, prefix, signed_in))

    html = kept_with_token("einstein.menus", _menu_key(prefix, groups, signed_in), make, MENUS_KEPT)
    return Markup(html)  # noqa: S704  (rendered by Jinja with autoescape; the token is URL-safe)


def init_app(app: Flask) -> None:
    """Make the navigation available to the base layout."""
    app.extensions["einstein.menus"] = {}
    app.jinja_env.globals["nav_menu"] = nav_menu
