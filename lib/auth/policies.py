"""Who may call what: the auth levels of the route table, checked once, in the dispatch."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lib.errors import Forbidden

if TYPE_CHECKING:
    from lib.accounts.principal import Principal

__all__ = ["Auth", "authorize", "require_owner"]


class Auth(enum.Enum):
    PUBLIC = "public"  # anyone, no token
    USER = "user"  # any authenticated caller
    SELF = "self"  # the token's subject is the path's {user_id}
    SELF_OR_ADMIN = "self_or_admin"
    ADMIN = "admin"


def authorize(level: Auth, principal: Principal | None, path: Mapping[str, str]) -> None:
    """Raise Forbidden unless `principal` may call a route of `level` with these path params."""
    if level in (Auth.PUBLIC, Auth.USER) or principal is None:
        return
    is_self = path.get("user_id") == principal.user_id
    if level is Auth.SELF and is_self:
        return
    if level is Auth.SELF_OR_ADMIN and (is_self or principal.is_admin):
        return
    if level is Auth.ADMIN and principal.is_admin:
        return
    raise Forbidden("you may not act on another user's resources" if "user_id" in path else None)


def require_owner(principal: Principal, owner_id: str) -> None:
    """For ownership that depends on data (a contract's user): owner or admin, else Forbidden."""
    if principal.user_id != owner_id and not principal.is_admin:
        raise Forbidden("this resource belongs to another user")
