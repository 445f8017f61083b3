"""The `GET /auth` and `GET /users/{user_id}` answer: a user's public fields, metadata and the
subscription running now (only these two functions load billing for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.accounts.repository import User
from lib.billing.purchases import current_contract

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["profile"]


def profile(services: Services, user: User) -> dict[str, Any]:
    """The `GET /auth` answer (ProfileOut): the user, with its metadata (the user's again) and the
    contract running now, as `subscription`."""
    fields = vars(user)
    return fields | {"metadata": fields | {"subscription": current_contract(services, user.user_id)}}
