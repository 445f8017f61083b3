"""Who is calling: a verified, unrevoked token and its user, loaded in one database round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.accounts import repository as users
from lib.auth.tokens import TokenClaims, to_millis
from lib.errors import Unauthorized

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["Principal", "authenticate", "principal_for"]


@dataclass(slots=True)
class Principal:  # one per request: slotted, not frozen (cheaper to build)
    user: users.User
    claims: TokenClaims

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def is_admin(self) -> bool:
        # The role comes from the database, not the token: a demotion takes effect at once.
        return self.user.is_admin


def _issued_before(claims: TokenClaims, user: users.User) -> bool:
    """Whether the token predates the user's last password change (same millisecond included)."""
    after = user.tokens_valid_after
    return after is not None and claims.issued_at <= to_millis(after.timestamp())


def authenticate(services: Services, token: str) -> Principal:
    """Verify the token and check it is neither revoked nor older than the user's last
    password change, and that the user still exists. Raises Unauthorized."""
    return _unrevoked(services, services.tokens.verify(token))  # verify checked the expiry


def principal_for(services: Services, claims: TokenClaims) -> Principal:
    """The principal of verified claims, unless expired, revoked or the user is gone. Raises Unauthorized."""
    return _unrevoked(services, services.tokens.unexpired(claims))


def _unrevoked(services: Services, claims: TokenClaims) -> Principal:
    user, revoked = users.load_for_token(services.db, claims.user_id, claims.jti)
    if user is None or revoked or _issued_before(claims, user):
        raise Unauthorized("the token has been revoked", code="token_revoked")
    return Principal(user, claims)
