"""Account rules shared by the users functions: answers, targets and password confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.auth import passwords
from lib.db import users
from lib.db.users import User
from lib.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent

if TYPE_CHECKING:
    from lib.http.dispatch import Call
    from lib.services import Services

__all__ = [
    "change_profile_field",
    "check_password",
    "confirm_password",
    "is_bootstrap_admin",
    "target_user",
]


def is_bootstrap_admin(services: Services, email: str) -> bool:
    wanted = services.settings.bootstrap_admin_email
    return bool(wanted) and users.email_key(wanted) == users.email_key(email)


def target_user(call: Call) -> User:
    """The user named by the path: the caller itself, or (for admins) anyone. Raises NotFound."""
    caller = call.caller
    user_id = call.path["user_id"]
    if user_id == caller.user_id:
        return caller.user
    user = users.get_user(call.services.db, user_id)
    if user is None:
        raise NotFound("no such user", code="user_not_found")
    return user


def check_password(services: Services, user: User, password: str) -> bool:
    """Verify `password` for `user`, counting the attempt against the account's login limit."""
    key = users.email_key(user.email)
    services.login_per_account.attempt(key)
    if passwords.verify_password(password, user.password_hash):
        services.login_per_account.refund(key)
        return True
    return False


def confirm_password(call: Call, user: User) -> None:
    """Require the account's current password, unless an admin acts on another user.

    Raises UnprocessableContent when it is missing and Forbidden when it is wrong.
    """
    if call.caller.is_admin and user.user_id != call.caller.user_id:
        return
    current = call.body.get("current_password")
    if current is None:
        raise UnprocessableContent(
            "current_password is required", errors={"current_password": ["Missing data for required field."]}
        )
    if not check_password(call.services, user, current):
        raise Forbidden("the current password is wrong", code="wrong_password")


def change_profile_field(call: Call, field: str) -> dict[str, Any]:
    """Set nickname, name or surname from `new_<field>`; answer with the old and new values."""
    user = target_user(call)
    old, _ = users.update_field(call.services.db, user.user_id, field, call.body[f"new_{field}"], call.services.now())
    return {"message": f"{field.title()} changed", f"old_{field}": old, f"new_{field}": call.body[f"new_{field}"]}


def invalid_credentials() -> Unauthorized:
    return Unauthorized("invalid email or password", code="invalid_credentials")
