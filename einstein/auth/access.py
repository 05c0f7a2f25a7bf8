"""Who may open what: one decorator for roles, and object rules used by views and templates."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from einstein.auth.models import Role
from einstein.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: Role) -> Callable[[F], F]:
    """Let only people with ``role`` or a higher role in; send others to sign in or to a 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


#: Any signed-in person.
signed_in = role_required(Role.PARTICIPANT)


def can_set_role(actor: Any, target: Any, new_role: Role) -> bool:
    """Coordinators move people between participant and volunteer; admins can give any role."""
    if actor.id == target.id:
        return False
    if actor.has_role(Role.ADMIN):
        return True
    if actor.has_role(Role.COORDINATOR):
        allowed = {Role.PARTICIPANT, Role.VOLUNTEER}
        return target.role in allowed and new_role in allowed
    return False
