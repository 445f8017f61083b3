"""POST /subscriptions/checkout — any authenticated caller, for themselves. `{"plan_id","success_url"?,"cancel_url"?}`.

Creates a Stripe Checkout Session for one of the plan at its price and answers 201 `{session_id, url}`:
send the buyer to `url`; once paid, `POST /subscriptions/buy` with the session id as `transaction_id`
(the webhook makes the same purchase if the buyer never comes back). With KIROSHI_PAYMENTS=trust there
is no Stripe account: 409 `payments_not_configured`."""

from __future__ import annotations

from lib.billing import purchases
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, str]:
    body = call.body
    urls = (body.get("success_url"), body.get("cancel_url"))
    session_id, url = purchases.start_checkout(
        call.services, call.caller.user_id, body["plan_id"], urls, call.request.headers
    )
    return {"session_id": session_id, "url": url}
