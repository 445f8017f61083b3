"""Loading resources whose owner is known only from their data, checked in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lib.auth.policies import require_owner
from lib.db import contracts, subscribers
from lib.db.contracts import Contract
from lib.db.subscribers import Subscriber
from lib.errors import NotFound

if TYPE_CHECKING:
    from lib.http.dispatch import Call

__all__ = ["owned_contract", "owned_subscriber"]


def owned_subscriber(call: Call) -> Subscriber:
    """The path's subscriber if the caller owns it or is an admin. Raises NotFound or Forbidden."""
    subscriber = subscribers.get_subscriber(call.services.db, call.path["subscriber_id"])
    if subscriber is None:
        raise NotFound("no such subscriber", code="subscriber_not_found")
    require_owner(call.caller, subscriber.user_id)
    return subscriber


def owned_contract(call: Call) -> Contract:
    """The path's contract if the caller owns it or is an admin. Raises NotFound or Forbidden."""
    contract = contracts.get_contract(call.services.db, call.path["contract_id"])
    if contract is None:
        raise NotFound("no such contract", code="contract_not_found")
    require_owner(call.caller, contract.user_id)
    return contract
