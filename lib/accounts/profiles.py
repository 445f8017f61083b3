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
    """The `GET /auth` shape: public fields plus metadata, with the contract running now."""
    contract = current_contract(services, user.user_id)
    subscription = (
        {"plan_id": contract.plan_id, "contract_id": contract.contract_id, "ends_at": contract.ends_at}
        if contract is not None
        else None
    )
    return {
        "user_id": user.user_id,
        "nickname": user.nickname,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "metadata": {
            "role": user.role,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "last_login_at": user.last_login_at,
            "subscription": subscription,
        },
    }
