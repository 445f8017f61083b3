"""Stripe through the `stripe` package (the only module that imports it): Checkout Sessions, the
check that one paid for a plan, refunds and signed webhook events.

The client is a `stripe.StripeClient` of its own (no module-global API key), on the package's
`requests` transport with a timeout and its own retries: connection failures, 409 and 5xx are
retried with backoff, every POST carrying one idempotency key across its retries.

Failures are told apart and each is logged once, as a WARNING with the API's host, the error's class
and Stripe's error code: never the key, the parameters or Stripe's message.
  unreachable, timed out, 5xx, 409, 429           -> ServiceUnavailable `payments_unavailable` (503)
  the key refused (401/403), a refund refused     -> BadGateway `payments_failed` / `refund_rejected` (502)
  a session that does not prove the payment       -> PaymentRejected `payment_rejected` (402) with `reason`
  a webhook whose signature does not verify       -> BadRequest `webhook_signature_invalid` (400)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

import stripe
from stripe.params import RefundCreateParams
from stripe.params.checkout import SessionCreateParams

from lib.billing.plans_repository import Plan
from lib.errors import BadGateway, BadRequest, PaymentRejected, ServiceUnavailable

__all__ = ["DEFAULT_API_BASE", "StripeGateway", "WebhookEvent", "paid_intent"]

log = logging.getLogger("kiroshi.billing")

DEFAULT_API_BASE = "https://api.stripe.com"
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's own default: a signature older than this is refused
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")

# The package otherwise writes ~/.config/stripe/telemetry_id and sends the host's platform string,
# and logs every request's URL and Stripe's error messages (which echo a masked key) at INFO:
# failures are logged here, once.
stripe.enable_telemetry = False
logging.getLogger("stripe").setLevel(logging.WARNING)

_REASONS = {
    "session_not_found": "no checkout session has this id",
    "user_mismatch": "this checkout session was not created for you",
    "plan_mismatch": "this checkout session was not created for this plan",
    "session_unpaid": "this checkout session has not been paid",
    "currency_mismatch": "this checkout session was paid in another currency than the plan's",
    "amount_mismatch": "this checkout session was paid another amount than the plan's price",
    "no_payment_intent": "this checkout session has no payment to refund",
}


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event: its id (de-duplicate on it), type and `data.object` as plain JSON."""

    event_id: str
    type: str
    created: int
    object: dict[str, Any]


def rejected(reason: str) -> PaymentRejected:
    """PaymentRejected (402 `payment_rejected`) with `reason` (a key of _REASONS) in the problem body."""
    return PaymentRejected(_REASONS[reason], reason=reason)


def paid_intent(session: Mapping[str, Any], plan: Plan, user_id: str) -> str:
    """The PaymentIntent id of a Checkout Session (as Stripe shows it, in JSON) that paid `plan`'s
    price for `user_id`. Raises PaymentRejected with a reason otherwise. Pure: webhooks call it on
    the signed event's session, `verify_paid` on the one it retrieved."""
    metadata = session.get("metadata") or {}
    if metadata.get("user_id") != user_id:
        raise rejected("user_mismatch")
    if metadata.get("plan_id") != plan.plan_id:
        raise rejected("plan_mismatch")
    if session.get("payment_status") != "paid":
        raise rejected("session_unpaid")
    if str(session.get("currency") or "").lower() != plan.currency.lower():
        raise rejected("currency_mismatch")
    if session.get("amount_total") != plan.price_minor:
        raise rejected("amount_mismatch")
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    if not isinstance(intent, str) or not intent:
        raise rejected("no_payment_intent")
    return intent


class StripeGateway:
    """Stripe's API for one account. Thread-safe: the transport keeps a session per thread."""

    adapter = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        timeout_seconds: float = 20.0,
        max_network_retries: int = 2,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._host = urlsplit(api_base).netloc or api_base

    def create_checkout(self, plan: Plan, user_id: str, success_url: str, cancel_url: str) -> tuple[str, str]:
        """A Checkout Session (mode=payment) for one of `plan` at its price; (session id, its URL).
        Raises ServiceUnavailable or BadGateway when Stripe does not create it."""
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": plan.currency.lower(),
                        "unit_amount": plan.price_minor,
                        "product_data": {"name": plan.title},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": user_id,
            "metadata": {"user_id": user_id, "plan_id": plan.plan_id},
        }
        try:
            session = self._client.v1.checkout.sessions.create(params)
        except stripe.StripeError as exc:
            self._fail("create a checkout session", exc)
        if session.url is None:
            raise BadGateway("the payment provider answered a checkout session without a URL", code="payments_failed")
        return session.id, session.url

    def verify_paid(self, session_id: str, plan: Plan, user_id: str) -> str:
        """The PaymentIntent id of Checkout Session `session_id` if it paid `plan`'s price for
        `user_id` (see `paid_intent`). Raises PaymentRejected (with a reason; `session_not_found`
        for an id Stripe does not know), ServiceUnavailable or BadGateway."""
        if not _SESSION_ID.fullmatch(session_id):
            raise rejected("session_not_found")
        try:
            session = self._client.v1.checkout.sessions.retrieve(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status in (400, 404):
                raise rejected("session_not_found") from None
            self._fail("retrieve a checkout session", exc)
        except stripe.StripeError as exc:
            self._fail("retrieve a checkout session", exc)
        return paid_intent(session.to_dict(), plan, user_id)

    def refund(self, payment_intent_id: str, amount_minor: int, contract_id: str) -> str:
        """Refund `amount_minor` of the payment; the refund's id. Idempotent per contract: the key
        `refund-<contract_id>` makes Stripe create one refund however often (or concurrently) this
        is called with the same arguments; other arguments for the same contract are refused
        (BadGateway `refund_rejected`), as is a payment already refunded in full. Raises
        ServiceUnavailable when Stripe cannot be reached: the refund may then exist; call again with
        the same arguments. Raises ValueError for an amount under one minor unit."""
        if amount_minor < 1:
            raise ValueError(f"a refund is at least one minor unit, got {amount_minor}")
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "amount": amount_minor,
            "reason": "requested_by_customer",
            "metadata": {"contract_id": contract_id},
        }
        try:
            refund = self._client.v1.refunds.create(params, {"idempotency_key": f"refund-{contract_id}"})
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError) as exc:
            _log_failure(self._host, "refund", exc)
            raise BadGateway("the payment provider refused the refund", code="refund_rejected") from None
        except stripe.StripeError as exc:
            self._fail("refund", exc)
        return refund.id

    def parse_webhook(self, body: bytes, signature_header: str) -> WebhookEvent:
        """The event in a webhook request whose `Stripe-Signature` verifies against the endpoint's
        secret (HMAC-SHA256, at most WEBHOOK_TOLERANCE_SECONDS old). Raises BadRequest
        `webhook_signature_invalid` otherwise, and for a body that is not a Stripe event."""
        try:
            event = self._client.construct_event(
                body, signature_header, self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
            values = event.to_dict()
        except (stripe.SignatureVerificationError, ValueError) as exc:
            log.info("stripe webhook refused: %s", type(exc).__name__)
            raise BadRequest(
                "the Stripe-Signature header does not sign this body with this endpoint's secret, or is stale",
                code="webhook_signature_invalid",
            ) from None
        data = values.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        event_id, type_ = values.get("id"), values.get("type")
        if not isinstance(event_id, str) or not isinstance(type_, str) or not isinstance(obj, dict):
            raise BadRequest("the webhook body is not a Stripe event", code="webhook_signature_invalid")
        return WebhookEvent(event_id, type_, int(values.get("created") or 0), obj)

    def _fail(self, doing: str, exc: stripe.StripeError) -> NoReturn:
        """Log `exc` once and raise what the client is told."""
        _log_failure(self._host, doing, exc)
        if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)) or (
            isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 409
        ):
            raise ServiceUnavailable(
                "the payment provider cannot be reached; retry later", code="payments_unavailable"
            ) from None
        raise BadGateway("the payment provider refused this server's request", code="payments_failed") from None


def _log_failure(host: str, doing: str, exc: stripe.StripeError) -> None:
    log.warning(
        "stripe %s could not %s: %s (status %s, code %s)", host, doing, type(exc).__name__, exc.http_status, exc.code
    )
