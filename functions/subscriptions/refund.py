"""POST /subscriptions/refund — the contract's user or admin. `{"contract": "<contract_id>"}` (or the
whole contract object), or `{"contract_id": "<contract_id>"}`. Refunds the unused part, rounded down; at most once."""

from __future__ import annotations

from typing import Any

from lib.billing import purchases
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    contract = purchases.refund(call.services, call.caller, call.body["contract"])
    return {"message": "Subscription refunded", "ex_contract": contract}
