"""POST /payments/stripe/webhook — Stripe (no bearer token: the `Stripe-Signature` header signs the body).

Acts on `checkout.session.completed` (the purchase `buy` makes), `charge.refunded` (the contract is
refunded) and `charge.dispute.created` (the contract ends now), each event once; other types are
answered 200 and ignored. A missing, wrong or stale signature is 400 `webhook_signature_invalid` and
nothing is done."""

from __future__ import annotations

from lib.billing.webhooks import handle_webhook
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, str]:
    request = call.request
    return handle_webhook(call.services, request.body, request.headers.get("stripe-signature", ""))
