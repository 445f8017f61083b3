"""GET /subscriptions/contracts/{contract_id} — the contract's user or admin."""

from __future__ import annotations

from typing import Any

from lib.http.dispatch import Call
from lib.ownership import owned_contract
from lib.views import contract_view


def handler(call: Call) -> dict[str, Any]:
    return contract_view(owned_contract(call), call.services.now())
