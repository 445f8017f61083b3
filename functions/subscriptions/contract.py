"""GET /subscriptions/contracts/{contract_id} — the contract's user or admin."""

from __future__ import annotations

from typing import Any

from lib.billing.purchases import owned_contract
from lib.billing.schemas import contract_view
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return contract_view(owned_contract(call), call.services.now())
