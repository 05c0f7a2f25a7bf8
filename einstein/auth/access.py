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


def can_end_sign_ins(actor: Any, target: Any) -> bool:
    """Admins can sign anyone else out everywhere (a lost phone, a person who left)."""
    return bool(actor.is_authenticated and actor.has_role(Role.ADMIN) and actor.id != target.id)


def can_act_for_privacy(actor: Any, person: Any) -> bool:
    """A coordinator may export or erase the data of a participant who cannot sign in to do it.

    Those are people registered at the desk without a password: without a coordinator they
    could never use their rights to a copy of their data or to erasure.
    """
    return bool(
        actor.is_authenticated
        and actor.has_role(Role.COORDINATOR)
        and actor.id != person.id
        and person.role == Role.PARTICIPANT
        and person.password_hash is None
    )
