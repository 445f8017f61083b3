"""Stripe's webhook events: verified by their signature, applied at most once each.

  checkout.session.completed,
  checkout.session.async_payment_succeeded -> the purchase `buy` makes, from the signed session (its
                                              contract derives from the session id: buy and the event
                                              make one contract, in either order)
  charge.refunded                          -> the PaymentIntent's contract is refunded (the amount
                                              Stripe refunded: a refund from the dashboard counts)
  charge.dispute.created                   -> the PaymentIntent's contract ends now
  (either, before the payment has a contract -> the payment is marked returned: no contract is made
                                              with it later, by buy or by its checkout event)
  anything else                            -> ignored (200), so that Stripe stops sending it

De-duplication: an event's id is looked up first and recorded (`payment_event`) after its effect.
Every effect is idempotent by itself (one contract per session, a contract refunded or ended at most
once, each guarded in its transaction), so two deliveries racing past the lookup change the ledger
once and announce it once. An event whose effect failed (a database outage: 503) is not recorded,
and Stripe's retry applies it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lib.accounts import repository as users
from lib.billing import contracts_repository as contracts
from lib.billing import payment_events_repository as payment_events
from lib.billing import purchases
from lib.billing.payments import honoured, stripe_gateway
from lib.billing.stripe_amounts import from_stripe
from lib.billing.stripe_gateway import WebhookEvent, paid_terms
from lib.errors import Conflict, NotFound, PaymentRejected

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["handle_webhook"]

log = logging.getLogger("kiroshi.billing")


def handle_webhook(services: Services, body: bytes, signature: str) -> dict[str, str]:
    """Verify and apply one webhook request: `{"event_id", "type", "outcome"}`, the outcome being
    `applied`, `already_applied` (the API or another event did it), `duplicate` (this event was
    handled before), `ignored` (a type Kiroshi does not act on) or `rejected` (nothing to apply:
    the reason is logged). Raises BadRequest `webhook_signature_invalid` (nothing is done),
    Conflict `payments_not_configured` in trust mode, ServiceUnavailable."""
    event = stripe_gateway(services.payments).parse_webhook(body, signature)
    answer = {"event_id": event.event_id, "type": event.type}
    apply = _APPLIERS.get(event.type)
    if apply is None:
        return answer | {"outcome": "ignored"}
    if payment_events.event_handled(services.db, event.event_id):
        return answer | {"outcome": "duplicate"}
    outcome = _rejected(event, f"malformed: {event.malformed}") if event.malformed else apply(services, event)
    if not payment_events.record_event(services.db, event.event_id, event.type, outcome, services.now()):
        outcome = "duplicate"
    return answer | {"outcome": outcome}


def _paid(services: Services, event: WebhookEvent) -> str:
    """A completed Checkout Session: the purchase, if the session paid its plan's price."""
    session = event.object
    metadata = session.get("metadata")
    if not isinstance(metadata, Mapping):
        return _rejected(event, "no_kiroshi_metadata")
    user_id, plan_id, session_id = metadata.get("user_id"), metadata.get("plan_id"), session.get("id")
    if not (isinstance(user_id, str) and isinstance(plan_id, str) and isinstance(session_id, str)):
        return _rejected(event, "no_kiroshi_metadata")
    if users.get_user(services.db, user_id) is None:
        return _rejected(event, "user_not_found")
    gateway = stripe_gateway(services.payments)
    try:
        _, created = purchases.purchase(
            services,
            user_id,
            plan_id,
            session_id,
            lambda plan: honoured(gateway, session_id, paid_terms(session, plan_id, user_id), plan),
        )
    except (PaymentRejected, NotFound, Conflict) as exc:
        return _rejected(event, exc.extra.get("reason") or exc.code)
    return "applied" if created else "already_applied"


def _refunded(services: Services, event: WebhookEvent) -> str:
    intent = _intent(event.object)
    if intent is None:
        return _rejected(event, "no_payment_intent")
    refunded, currency = event.object.get("amount_refunded"), event.object.get("currency")
    if not isinstance(refunded, int) or isinstance(refunded, bool) or refunded < 0:
        return _rejected(event, "no_amount_refunded")
    if not isinstance(currency, str):
        return _rejected(event, "no_currency")
    return _settle(services, event, intent, from_stripe(refunded, currency))


def _disputed(services: Services, event: WebhookEvent) -> str:
    intent = _intent(event.object)
    if intent is None:
        return _rejected(event, "no_payment_intent")
    return _settle(services, event, intent, None)


def _settle(services: Services, event: WebhookEvent, intent: str, refunded_minor: int | None) -> str:
    """Refund (`refunded_minor`, Kiroshi's minor units) or end (None: disputed) the payment's
    contract; with no contract yet, mark the payment returned so that none is made with it."""
    if contracts.find_by_payment_intent(services.db, intent) is None:
        kind = "disputed" if refunded_minor is None else "refunded"
        if purchases.returned_before_purchase(services, intent, kind):
            log.warning(
                "stripe event %s (%s): no contract has %s yet; none will be made", event.event_id, event.type, intent
            )
            return "applied"
    changed = purchases.settle_at_provider(services, intent, refunded_minor)
    return "applied" if changed is not None else "already_applied"


def _intent(obj: Mapping[str, Any]) -> str | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    return intent if isinstance(intent, str) and intent else None


def _rejected(event: WebhookEvent, reason: str) -> str:
    log.warning("stripe event %s (%s) changed nothing: %s", event.event_id, event.type, reason)
    return "rejected"


_APPLIERS: dict[str, Callable[[Services, WebhookEvent], str]] = {
    "checkout.session.completed": _paid,
    "checkout.session.async_payment_succeeded": _paid,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
}
