"""GET /subscriptions/contracts/{contract_id} — the contract's user or admin."""

from __future__ import annotations

from lib.billing.contracts_repository import Contract
from lib.billing.purchases import owned_contract
from lib.http.dispatch import Call


def handler(call: Call) -> Contract:
    return owned_contract(call.services, call.caller, call.path["contract_id"])
