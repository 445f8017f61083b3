"""Account rules shared by the users functions: e-mail addresses, targets and password confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.accounts import repository as users
from lib.accounts.repository import User
from lib.auth import passwords
from lib.emails import MAX_EMAIL_INPUT, normalize_email
from lib.errors import Forbidden, Unauthorized, UnprocessableContent, UserNotFound

if TYPE_CHECKING:
    from lib.accounts.principal import Principal
    from lib.services import Services

__all__ = [
    "MAX_EMAIL_INPUT",
    "change_profile_field",
    "check_password",
    "confirm_password",
    "is_bootstrap_admin",
    "normalize_email",
    "target_user",
]


def is_bootstrap_admin(services: Services, email: str) -> bool:
    """Whether `email` (normalised) is KIROSHI_BOOTSTRAP_ADMIN_EMAIL (normalised by load_settings).

    The address only asks to be the first admin: lib.accounts.repository.create_user grants it once, while
    no admin exists.
    """
    wanted = services.settings.bootstrap_admin_email
    return bool(wanted) and users.email_key(wanted) == users.email_key(email)


def target_user(services: Services, caller: Principal, user_id: str) -> User:
    """The user `user_id` as `caller` may act on it: the caller itself, or (for admins) anyone.
    Raises NotFound (authorization, before this, refused anyone else)."""
    if user_id == caller.user_id:
        return caller.user
    user = users.get_user(services.db, user_id)
    if user is None:
        raise UserNotFound
    return user


def check_password(services: Services, user: User, password: str) -> bool:
    """Verify `password` for `user`, counting the attempt against the account's login limit."""
    key = users.email_key(user.email)
    services.login_per_account.attempt(key)
    if passwords.verify_password(password, user.password_hash):
        services.login_per_account.refund(key)
        return True
    return False


def confirm_password(services: Services, caller: Principal, user: User, current: str | None) -> None:
    """Require the account's current password, unless an admin acts on another user.

    Raises UnprocessableContent when it is missing and Forbidden when it is wrong.
    """
    if caller.is_admin and user.user_id != caller.user_id:
        return
    if current is None:
        raise UnprocessableContent(
            "current_password is required", errors={"current_password": ["Missing data for required field."]}
        )
    if not check_password(services, user, current):
        raise Forbidden("the current password is wrong", code="wrong_password")


def change_profile_field(services: Services, caller: Principal, user_id: str, field: str, value: str) -> dict[str, Any]:
    """Set nickname, name or surname; answer with the old and new values."""
    user = target_user(services, caller, user_id)
    old, _ = users.update_field(services.db, user.user_id, field, value, services.now())
    return {"message": f"{field.title()} changed", f"old_{field}": old, f"new_{field}": value}


def invalid_credentials() -> Unauthorized:
    return Unauthorized("invalid email or password", code="invalid_credentials")
