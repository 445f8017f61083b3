"""How a payment is proven and returned: trusted (`KIROSHI_PAYMENTS=trust`, for local development) or
checked and refunded at Stripe (`KIROSHI_PAYMENTS=stripe`).

`Services.payments` is a `PaymentVerifier`: `verify` answers what was paid (`Paid`: the reference of
the payment to keep on the contract, Stripe's PaymentIntent id, None when payments are trusted; and
the terms it was sold at, which the contract gets) or raises `lib.errors.PaymentRejected` (402).
In stripe mode it is a `StripePayments`, whose gateway (lib.billing.stripe_gateway, the one module
that imports the stripe package) is built on first use: a function that never touches a payment
never loads the package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from lib.billing.plans_repository import Plan
from lib.errors import Conflict, NotFound, PaymentRejected, UnprocessableContent

if TYPE_CHECKING:
    from lib.billing.stripe_gateway import StripeGateway
    from lib.config import Settings

__all__ = [
    "KIROSHI_MARKER",
    "Paid",
    "PaymentVerifier",
    "StripePayments",
    "Terms",
    "TrustingVerifier",
    "default_return_urls",
    "honoured",
    "payments_for",
    "payments_state",
    "rejected",
    "stripe_gateway",
]

UNVERIFIED = (
    "payments are not verified (KIROSHI_PAYMENTS=trust): any transaction id buys any plan and refunds return "
    "no money; set KIROSHI_PAYMENTS=stripe with STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET before taking payments"
)


KIROSHI_MARKER = "1"  # metadata.kiroshi of the Checkout Sessions this server's checkout creates

_REASONS = {
    "session_not_found": "no checkout session has this id",
    "user_mismatch": "this checkout session was not created for you",
    "plan_mismatch": "this checkout session was not created for this plan",
    "session_unpaid": "this checkout session has not been paid",
    "currency_mismatch": "this checkout session was paid in another currency than the plan's",
    "amount_mismatch": "this checkout session was paid another amount than the plan's price",
    "no_payment_intent": "this checkout session has no payment to refund",
    "not_a_kiroshi_session": "this checkout session was not created by this server's checkout",
    "payment_refunded": "this checkout session's payment was refunded at Stripe",
    "payment_disputed": "this checkout session's payment is disputed at Stripe",
}


def rejected(reason: str) -> PaymentRejected:
    """PaymentRejected (402 `payment_rejected`) with `reason` (a key of _REASONS) in the problem body."""
    return PaymentRejected(_REASONS[reason], reason=reason)


@dataclass(frozen=True)
class Terms:
    """What a payment bought: the price (minor units), currency and duration it was sold at."""

    price_minor: int
    currency: str
    duration_days: int


@dataclass(frozen=True)
class Paid:
    """A proven payment: its reference at the provider (None: trusted, nothing to refund there) and
    the terms it paid for (None: the plan's, as they are now; the plan must then be on sale). A
    payment with terms is honoured while its plan exists, archived or repriced since."""

    payment_intent_id: str | None
    terms: Terms | None = None


class PaymentVerifier(Protocol):
    def verify(self, transaction_id: str, plan_id: str, plan: Plan | None, user_id: str) -> Paid:
        """What the transaction paid for `plan_id` (`plan`: that plan now, None if it is gone).
        Raises PaymentRejected, NotFound(plan_not_found), or Conflict(plan_withdrawn) when a payment
        for a plan that is gone was refunded."""
        ...


def _no_plan() -> NotFound:
    return NotFound("no such plan", code="plan_not_found")


class TrustingVerifier:
    """Takes the transaction id as proof of payment (local development only)."""

    def verify(self, transaction_id: str, plan_id: str, plan: Plan | None, user_id: str) -> Paid:
        if plan is None:
            raise _no_plan()
        return Paid(None)


class StripePayments:
    """Payments at Stripe: a transaction id is a Checkout Session id, verified with Stripe."""

    def __init__(self, build: Callable[[], StripeGateway]) -> None:
        self._build = build

    @functools.cached_property
    def gateway(self) -> StripeGateway:
        return self._build()

    def verify(self, transaction_id: str, plan_id: str, plan: Plan | None, user_id: str) -> Paid:
        """What the session paid. Raises PaymentRejected, Conflict(plan_withdrawn),
        ServiceUnavailable, BadGateway."""
        paid = self.gateway.verify_paid(transaction_id, plan_id, user_id)
        return honoured(self.gateway, transaction_id, paid, plan)


def honoured(gateway: StripeGateway, session_id: str, paid: Paid, plan: Plan | None) -> Paid:
    """`paid` (the session `session_id`'s payment) while its plan exists; if the plan is gone,
    nothing can be sold for the money: the session is refunded in full at Stripe (once: its key
    is `refund-session-<session_id>`) and Conflict `plan_withdrawn` raised."""
    if plan is not None:
        return paid
    if paid.payment_intent_id is not None:
        gateway.refund_session(session_id, paid.payment_intent_id)
    raise Conflict(
        "the plan was deleted before this payment could buy it: the payment was refunded in full",
        code="plan_withdrawn",
        refunded=True,
    )


def payments_for(settings: Settings) -> PaymentVerifier:
    """The verifier of `settings.payments` (KIROSHI_PAYMENTS). Loads no Stripe code."""
    if settings.payments != "stripe":
        return TrustingVerifier()

    def build() -> StripeGateway:
        from lib.billing.stripe_gateway import StripeGateway  # noqa: PLC0415 - the stripe package is heavy

        return StripeGateway(settings.stripe_api_key, settings.stripe_webhook_secret, api_base=settings.stripe_api_base)

    return StripePayments(build)


def stripe_gateway(payments: PaymentVerifier) -> StripeGateway:
    """The Stripe gateway of stripe mode. Raises Conflict `payments_not_configured` when payments
    are trusted (there is no Stripe account to talk to)."""
    if isinstance(payments, StripePayments):
        return payments.gateway
    raise Conflict(
        "this server takes no payments (KIROSHI_PAYMENTS=trust): there is no Stripe account to use",
        code="payments_not_configured",
    )


def payments_state(settings: Settings) -> dict[str, Any]:
    """What /ready says of payments: the mode, and whether a purchase proves a payment."""
    if settings.payments == "stripe":
        return {"mode": "stripe", "verified": True}
    return {"mode": settings.payments, "verified": False, "warning": UNVERIFIED}


def default_return_urls(headers: Mapping[str, str]) -> tuple[str, str]:
    """(success URL, cancel URL) for a checkout whose caller named none: the caller's `Origin` (a
    browser's page), else `http://<Host>`, with `?checkout=success&session_id={CHECKOUT_SESSION_ID}`
    (Stripe puts the session id there: the page then calls buy with it) or `?checkout=cancelled`.
    Raises UnprocessableContent when the request names neither."""
    origin = headers.get("origin", "").strip()
    parts = urlsplit(origin)
    if not (parts.scheme in ("http", "https") and parts.netloc):
        host = headers.get("host", "").strip()
        if not host or any(ch in host for ch in "/?#@ "):
            raise UnprocessableContent(
                "name success_url and cancel_url: the request has no Origin or Host to return to",
                errors={"success_url": ["required without an Origin or Host header"]},
            )
        origin = f"http://{host}"
    origin = origin.rstrip("/")
    return f"{origin}/?checkout=success&session_id={{CHECKOUT_SESSION_ID}}", f"{origin}/?checkout=cancelled"
