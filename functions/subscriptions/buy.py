"""POST /subscriptions/buy — any authenticated caller, for themselves. `{"plan_id","transaction_id"}`.

The transaction id is the idempotency key: a replay with the same plan answers the same contract
(200); with another plan or user it is 409. Periods stack: a contract starts when the paid one ends."""

from __future__ import annotations

from lib.billing import purchases
from lib.http.dispatch import Call
from lib.http.messages import Reply


def handler(call: Call) -> Reply:
    contract, created = purchases.buy(
        call.services, call.caller.user_id, call.body["plan_id"], call.body["transaction_id"]
    )
    body = {"message": "Subscription bought", "contract": contract}
    return Reply(body, status=201 if created else 200)
