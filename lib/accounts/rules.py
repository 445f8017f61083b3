"""Account rules shared by the users functions: e-mail addresses, targets and password confirmation."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from lib.accounts import repository as users
from lib.accounts.repository import User
from lib.auth import passwords
from lib.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent

if TYPE_CHECKING:
    from lib.http.dispatch import Call
    from lib.services import Services

__all__ = [
    "change_profile_field",
    "check_password",
    "confirm_password",
    "is_bootstrap_admin",
    "normalize_email",
    "target_user",
]

MAX_EMAIL_INPUT = 512  # bounds the work spent on one input; the address itself is at most 254 characters
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})  # control, format (U+200B, U+00AD...), unassigned


def normalize_email(raw: str) -> str:
    """The one form of an e-mail address that Kiroshi stores, looks up and compares.

    Trimmed; the local part NFC-normalised with its case kept; the domain mapped by IDNA (UTS #46:
    lower-cased, fullwidth letters and dots folded, Punycode shown as Unicode). Raises ValueError,
    with a reason a person can act on, for what is not one plain mailbox: invisible or control
    characters, a trailing dot, quoted local parts, IP literals, special-use domains (`.test`,
    `.local`...) or a domain without a dot. Syntax only: nothing is looked up in the DNS.
    """
    text = raw.strip()
    if len(text) > MAX_EMAIL_INPUT:
        raise ValueError("The email address is too long.")
    if any(unicodedata.category(ch) in _INVISIBLE for ch in text):
        raise ValueError("The email address contains invisible or control characters.")
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415 - ~30 ms: e-mail takers only

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def is_bootstrap_admin(services: Services, email: str) -> bool:
    """Whether `email` (normalised) is KIROSHI_BOOTSTRAP_ADMIN_EMAIL (normalised by load_settings).

    The address only asks to be the first admin: lib.accounts.repository.create_user grants it once, while
    no admin exists.
    """
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
