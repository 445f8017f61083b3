"""Stripe through the `stripe` package (the only module that imports it): Checkout Sessions, the
check that one paid for a plan, refunds and signed webhook events.

The client is a `stripe.StripeClient` of its own (no module-global API key), on the package's
`requests` transport with a timeout and its own retries: connection failures, 409 and 5xx are
retried with backoff, every POST carrying one idempotency key across its retries.

Failures are told apart and each is logged once, as a WARNING with the API's host, the error's class
and Stripe's error code: never the key, the parameters or Stripe's message.
  unreachable, timed out, 5xx, 409, 429           -> ServiceUnavailable `payments_unavailable` (503)
  the key refused (401/403), a refund refused     -> BadGateway `payments_failed` / `refund_rejected` (502)
  (a refund's idempotency key still executing at Stripe is 409: 503, retry)
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
from stripe.params import RefundCreateParams, RefundListParams
from stripe.params.checkout import SessionCreateParams, SessionRetrieveParams

from lib.billing.money import MINOR_UNITS
from lib.billing.payments import KIROSHI_MARKER, Paid, Terms, rejected
from lib.billing.plans_repository import Plan
from lib.billing.stripe_amounts import chargeable_problem, from_stripe, to_stripe
from lib.errors import BadGateway, BadRequest, ServiceUnavailable

__all__ = ["DEFAULT_API_BASE", "StripeGateway", "StripeRefund", "WebhookEvent", "paid_terms"]

log = logging.getLogger("kiroshi.billing")

DEFAULT_API_BASE = "https://api.stripe.com"
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's own default: a signature older than this is refused
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")

# The package otherwise writes ~/.config/stripe/telemetry_id and sends the host's platform string,
# and logs every request's URL and Stripe's error messages (which echo a masked key) at INFO:
# failures are logged here, once.
stripe.enable_telemetry = False
logging.getLogger("stripe").setLevel(logging.WARNING)

# Refunds at Stripe that returned (or are returning) money; `failed` and `canceled` ones did not.
_LIVE_REFUNDS = frozenset({"succeeded", "pending", "requires_action"})


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event: its id (de-duplicate on it), type and `data.object` as plain JSON."""

    event_id: str
    type: str
    created: int
    object: dict[str, Any]
    malformed: str | None = None  # what is wrong with a signed event of the wrong shape: rejected, never applied


@dataclass(frozen=True)
class StripeRefund:
    """A refund Stripe accepted: its id, the amount (Kiroshi's minor units), and whether Stripe
    answered it as an idempotent replay (another request made it under the same key)."""

    refund_id: str
    amount_minor: int
    replayed: bool


def paid_terms(session: Mapping[str, Any], plan_id: str, user_id: str) -> Paid:
    """What a Checkout Session (as Stripe shows it, in JSON) paid for `user_id` and plan `plan_id`:
    its PaymentIntent and the terms it was sold at (price, currency, duration: the snapshot this
    server's checkout put in its metadata, with the marker `kiroshi: "1"`). Raises PaymentRejected
    with a reason otherwise: not this server's session, another user (in the metadata or the
    client_reference_id) or plan, unpaid, another amount or currency than the snapshot, or (when
    the PaymentIntent's latest charge is expanded) a payment already refunded or disputed. Pure:
    webhooks call it on the signed event's session, `verify_paid` on the one it retrieved."""
    terms = _sold_terms(session, plan_id, user_id)
    if session.get("payment_status") != "paid":
        raise rejected("session_unpaid")
    if str(session.get("currency") or "").lower() != terms.currency.lower():
        raise rejected("currency_mismatch")
    amount = session.get("amount_total")
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or amount != to_stripe(terms.price_minor, terms.currency)
    ):
        raise rejected("amount_mismatch")
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        _not_returned(intent.get("latest_charge"))
        intent = intent.get("id")
    if not isinstance(intent, str) or not intent:
        raise rejected("no_payment_intent")
    return Paid(intent, terms)


def _sold_terms(session: Mapping[str, Any], plan_id: str, user_id: str) -> Terms:
    """The terms in the metadata of a session this server's checkout made for this user and plan.
    Raises PaymentRejected otherwise."""
    metadata = session.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("kiroshi") != KIROSHI_MARKER:
        raise rejected("not_a_kiroshi_session")
    if metadata.get("user_id") != user_id or session.get("client_reference_id") != user_id:
        raise rejected("user_mismatch")
    if metadata.get("plan_id") != plan_id:
        raise rejected("plan_mismatch")
    terms = _terms(metadata)
    if terms is None:
        raise rejected("not_a_kiroshi_session")
    return terms


def _not_returned(charge: object) -> None:
    """Raise PaymentRejected if an (expanded) charge was refunded, even in part, or disputed."""
    if not isinstance(charge, Mapping):
        return
    refunded = charge.get("amount_refunded")
    if charge.get("refunded") is True or (isinstance(refunded, int) and refunded > 0):
        raise rejected("payment_refunded")
    if charge.get("disputed") is True:
        raise rejected("payment_disputed")


def _terms(metadata: Mapping[str, Any]) -> Terms | None:
    """The terms checkout wrote in a session's metadata (strings, as Stripe keeps them), or None."""
    price, currency, days = metadata.get("price_minor"), metadata.get("currency"), metadata.get("duration_days")
    if not (isinstance(price, str) and price.isdigit() and isinstance(days, str) and days.isdigit()):
        return None
    if not isinstance(currency, str) or currency not in MINOR_UNITS or int(days) < 1:
        return None
    if chargeable_problem(int(price), currency) is not None:
        return None
    return Terms(int(price), currency, int(days))


def checkout_metadata(plan: Plan, user_id: str) -> dict[str, str]:
    """The metadata of a Checkout Session for `plan`: who and what, the terms it is sold at (the
    purchase honours them even if the plan is repriced or archived before the payment), and the
    marker that says this server's checkout made it."""
    return {
        "kiroshi": KIROSHI_MARKER,
        "user_id": user_id,
        "plan_id": plan.plan_id,
        "price_minor": str(plan.price_minor),
        "currency": plan.currency,
        "duration_days": str(plan.duration_days),
    }


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
        Raises ValueError for a price Stripe cannot charge (lib.billing.stripe_amounts), and
        ServiceUnavailable or BadGateway when Stripe does not create it."""
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": plan.currency.lower(),
                        "unit_amount": to_stripe(plan.price_minor, plan.currency),
                        "product_data": {"name": plan.title},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": user_id,
            "metadata": checkout_metadata(plan, user_id),
        }
        try:
            session = self._client.v1.checkout.sessions.create(params)
        except stripe.StripeError as exc:
            self._fail("create a checkout session", exc)
        if session.url is None:
            raise BadGateway("the payment provider answered a checkout session without a URL", code="payments_failed")
        return session.id, session.url

    def verify_paid(self, session_id: str, plan_id: str, user_id: str) -> Paid:
        """What Checkout Session `session_id` paid for `user_id` and plan `plan_id` (see
        `paid_terms`; the session is read with its PaymentIntent's latest charge, so that a payment
        refunded or disputed before its contract exists buys nothing). Raises PaymentRejected (with
        a reason; `session_not_found` for an id Stripe does not know), ServiceUnavailable or BadGateway."""
        if not _SESSION_ID.fullmatch(session_id):
            raise rejected("session_not_found")
        params: SessionRetrieveParams = {"expand": ["payment_intent.latest_charge"]}
        try:
            session = self._client.v1.checkout.sessions.retrieve(session_id, params)
        except stripe.InvalidRequestError as exc:
            if exc.http_status in (400, 404):
                raise rejected("session_not_found") from None
            self._fail("retrieve a checkout session", exc)
        except stripe.StripeError as exc:
            self._fail("retrieve a checkout session", exc)
        return paid_terms(session.to_dict(), plan_id, user_id)

    def refund(
        self, payment_intent_id: str, amount_minor: int, currency: str, contract_id: str, *, idempotency_key: str
    ) -> StripeRefund:
        """Refund `amount_minor` (Kiroshi's minor units of `currency`) of the payment, with
        `metadata.contract_id` (so that `contract_refunds` finds it) under `idempotency_key`: Stripe
        creates one refund however often (or concurrently) this is called with the same arguments;
        other arguments under the same key are refused (BadGateway `refund_rejected`), as is a
        payment already refunded in full. Raises ServiceUnavailable when Stripe cannot be reached
        (the refund may then exist: call again with the same arguments, or look it up), and
        ValueError for an amount under one minor unit or one Stripe cannot refund."""
        if amount_minor < 1:
            raise ValueError(f"a refund is at least one minor unit, got {amount_minor}")
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "amount": to_stripe(amount_minor, currency),
            "reason": "requested_by_customer",
            "metadata": {"contract_id": contract_id},
        }
        try:
            refund = self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError) as exc:
            self._refund_refused("refund", exc)
        except stripe.StripeError as exc:
            self._fail("refund", exc)
        response = refund.last_response
        replayed = response is not None and str(response.headers.get("idempotent-replayed", "")).lower() == "true"
        return StripeRefund(refund.id, from_stripe(refund.amount, currency), replayed)

    def contract_refunds(self, payment_intent_id: str, contract_id: str, currency: str) -> int:
        """How much Stripe refunded (or is refunding) of the payment for this contract: the sum of
        the PaymentIntent's refunds whose `metadata.contract_id` names it, in Kiroshi's minor units
        (0: none). Raises ServiceUnavailable or BadGateway."""
        total, after = 0, None
        while True:
            params: RefundListParams = {"payment_intent": payment_intent_id, "limit": 100}
            if after is not None:
                params["starting_after"] = after
            try:
                page = self._client.v1.refunds.list(params)
            except stripe.StripeError as exc:
                self._fail("list refunds", exc)
            for refund in page.data:
                values = refund.to_dict()
                metadata = values.get("metadata")
                named = isinstance(metadata, dict) and metadata.get("contract_id") == contract_id
                if named and values.get("status") in _LIVE_REFUNDS and isinstance(values.get("amount"), int):
                    total += from_stripe(values["amount"], currency)
            if not page.has_more or not page.data:
                return total
            after = page.data[-1].id

    def refund_session(self, session_id: str, payment_intent_id: str) -> None:
        """Refund what the session paid, in full (its plan is gone: nothing can be sold for it), once:
        `Idempotency-Key: refund-session-<session_id>`. A payment refunded in full already counts as
        done. Raises ServiceUnavailable, or BadGateway `refund_rejected`."""
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "reason": "requested_by_customer",
            "metadata": {"session_id": session_id},
        }
        try:
            self._client.v1.refunds.create(params, {"idempotency_key": f"refund-session-{session_id}"})
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError) as exc:
            if exc.code == "charge_already_refunded":
                return
            self._refund_refused("refund a session", exc)
        except stripe.StripeError as exc:
            self._fail("refund a session", exc)

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
        if not isinstance(event_id, str) or not isinstance(type_, str):
            raise BadRequest("the webhook body is not a Stripe event", code="webhook_signature_invalid")
        created = values.get("created")
        if not isinstance(obj, dict):
            return WebhookEvent(event_id, type_, 0, {}, malformed="data.object is not an object")
        if not isinstance(created, int) or isinstance(created, bool):
            return WebhookEvent(event_id, type_, 0, obj, malformed="created is not an integer")
        return WebhookEvent(event_id, type_, created, obj)

    def _refund_refused(self, doing: str, exc: stripe.StripeError) -> NoReturn:
        """A refund Stripe answered with a client error: its idempotency key still executing (409) is
        ServiceUnavailable (retry), anything else BadGateway `refund_rejected`; logged once."""
        if exc.http_status == 409:
            self._fail(doing, exc)
        _log_failure(self._host, doing, exc)
        raise BadGateway("the payment provider refused the refund", code="refund_rejected") from None

    def _fail(self, doing: str, exc: stripe.StripeError) -> NoReturn:
        """Log `exc` once and raise what the client is told."""
        _log_failure(self._host, doing, exc)
        if (
            isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError))
            or (isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 409)
            or exc.http_status == 409
        ):
            raise ServiceUnavailable(
                "the payment provider cannot be reached; retry later", code="payments_unavailable"
            ) from None
        raise BadGateway("the payment provider refused this server's request", code="payments_failed") from None


def _log_failure(host: str, doing: str, exc: stripe.StripeError) -> None:
    log.warning(
        "stripe %s could not %s: %s (status %s, code %s)", host, doing, type(exc).__name__, exc.http_status, exc.code
    )
