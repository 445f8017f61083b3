"""How a payment is proven and returned: trusted (`KIROSHI_PAYMENTS=trust`, for local development) or
checked and refunded at Stripe (`KIROSHI_PAYMENTS=stripe`).

`Services.payments` is a `PaymentVerifier`: `verify` answers the reference of the payment to keep on
the contract (Stripe's PaymentIntent id; None when payments are trusted) or raises
`lib.errors.PaymentRejected` (402). In stripe mode it is a `StripePayments`, whose gateway
(lib.billing.stripe_gateway, the one module that imports the stripe package) is built on first use:
a function that never touches a payment never loads the package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from lib.billing.plans_repository import Plan
from lib.errors import Conflict, UnprocessableContent

if TYPE_CHECKING:
    from lib.billing.stripe_gateway import StripeGateway
    from lib.config import Settings

__all__ = [
    "PaymentVerifier",
    "StripePayments",
    "TrustingVerifier",
    "default_return_urls",
    "payments_for",
    "payments_state",
    "stripe_gateway",
]

UNVERIFIED = (
    "payments are not verified (KIROSHI_PAYMENTS=trust): any transaction id buys any plan and refunds return "
    "no money; set KIROSHI_PAYMENTS=stripe with STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET before taking payments"
)


class PaymentVerifier(Protocol):
    def verify(self, transaction_id: str, plan: Plan, user_id: str) -> str | None:
        """The payment's reference to keep on the contract (None: nothing to refund at a provider)
        if the transaction paid for `plan`; raise PaymentRejected otherwise."""
        ...


class TrustingVerifier:
    """Takes the transaction id as proof of payment (local development only)."""

    def verify(self, transaction_id: str, plan: Plan, user_id: str) -> str | None:
        return None


class StripePayments:
    """Payments at Stripe: a transaction id is a Checkout Session id, verified with Stripe."""

    def __init__(self, build: Callable[[], StripeGateway]) -> None:
        self._build = build

    @functools.cached_property
    def gateway(self) -> StripeGateway:
        return self._build()

    def verify(self, transaction_id: str, plan: Plan, user_id: str) -> str | None:
        """The session's PaymentIntent id. Raises PaymentRejected, ServiceUnavailable, BadGateway."""
        return self.gateway.verify_paid(transaction_id, plan, user_id)


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
    if not (urlsplit(origin).scheme in ("http", "https") and urlsplit(origin).netloc):
        host = headers.get("host", "").strip()
        if not host or any(ch in host for ch in "/?#@ "):
            raise UnprocessableContent(
                "name success_url and cancel_url: the request has no Origin or Host to return to",
                errors={"success_url": ["required without an Origin or Host header"]},
            )
        origin = f"http://{host}"
    origin = origin.rstrip("/")
    return f"{origin}/?checkout=success&session_id={{CHECKOUT_SESSION_ID}}", f"{origin}/?checkout=cancelled"
