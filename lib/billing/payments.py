"""Payment verification: is this transaction id proof that the user paid for this plan?

No payment provider is reachable from here, so the default verifier trusts the id (the client
got it from the provider's checkout). A real provider plugs in by implementing `PaymentVerifier`
(look the transaction up, compare amount, currency and status) and passing it to
`create_services(..., payments=...)`; a rejection raises `lib.errors.PaymentRejected` (402).
"""

from __future__ import annotations

from typing import Protocol

from lib.billing.plans_repository import Plan

__all__ = ["PaymentVerifier", "TrustingVerifier"]


class PaymentVerifier(Protocol):
    def verify(self, transaction_id: str, plan: Plan, user_id: str) -> None:
        """Return if the transaction paid for `plan`; raise PaymentRejected otherwise."""
        ...


class TrustingVerifier:
    """Takes the transaction id as proof of payment."""

    def verify(self, transaction_id: str, plan: Plan, user_id: str) -> None:
        return None
