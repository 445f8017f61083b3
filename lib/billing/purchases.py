"""Buying and refunding: exact under any concurrency; loading what a caller owns.

Each operation reads the user's ledger head, decides with the pure rules of lib.billing.periods, and
writes in one transaction guarded by the head's version; when another write got there first it
starts over. The contract's record id derives from the transaction id, so a purchase is
idempotent by construction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lib.auth.policies import require_owner
from lib.billing import contracts_repository as contracts
from lib.billing import periods
from lib.billing import plans_repository as plans
from lib.billing import subscribers_repository as subscribers
from lib.billing.contracts_repository import Contract
from lib.billing.payments import Paid, Terms, default_return_urls, rejected, stripe_gateway
from lib.billing.periods import RefundPlan
from lib.billing.plans_repository import Plan
from lib.billing.stripe_amounts import chargeable_problem, stripe_floor
from lib.billing.subscribers_repository import Subscriber
from lib.db.connection import RecordExists, StaleWrite, Thrown, TransactionConflict
from lib.errors import Conflict, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from lib.accounts.principal import Principal
    from lib.services import Services

__all__ = [
    "buy",
    "current_contract",
    "owned_contract",
    "owned_subscriber",
    "purchasable_plan",
    "purchase",
    "refund",
    "refund_key",
    "returned_before_purchase",
    "settle_at_provider",
    "start_checkout",
    "subscribe",
]

MAX_ATTEMPTS = 64
# How long a refund quote is honoured: retries within it ask Stripe the same amount under the same
# idempotency key. Longer than one request to Stripe can last (timeout 20 s x 3 tries), so that a
# request still asking under a quote never overlaps one that found it stale; short enough that no
# retry refunds as of a moment long past (docs/API.md, "Refunding").
REFUND_QUOTE_TTL = dt.timedelta(minutes=10)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.02, 0.0005 * 2**attempt)))  # noqa: S311 - jitter, not security


def _contention() -> ServiceUnavailable:
    return ServiceUnavailable("too many concurrent changes to this account; retry", code="contention")


def _reused() -> Conflict:
    return Conflict("this transaction id paid for another purchase", code="transaction_id_reused")


def _replay(existing: Contract, user_id: str, plan_id: str) -> Contract:
    if existing.user_id != user_id or existing.plan_id != plan_id:
        raise _reused()
    return existing


def buy(services: Services, user_id: str, plan_id: str, transaction_id: str) -> tuple[Contract, bool]:
    """The contract for this transaction and whether it was created now (False: a replay). The
    payment is verified (services.payments; at Stripe in stripe mode) before anything is written.

    Raises NotFound(plan_not_found), Conflict(plan_archived | transaction_id_reused | plan_withdrawn),
    PaymentRejected, and ServiceUnavailable or BadGateway when Stripe cannot say.
    """
    return purchase(
        services,
        user_id,
        plan_id,
        transaction_id,
        lambda plan: services.payments.verify(transaction_id, plan_id, plan, user_id),
    )


def purchase(
    services: Services, user_id: str, plan_id: str, transaction_id: str, verify: Callable[[Plan | None], Paid]
) -> tuple[Contract, bool]:
    """`buy` with the payment proven by `verify(plan)` (what was paid, or PaymentRejected; `plan`
    is None when the plan is gone): the API asks Stripe, a signed webhook reads its own session.
    Both derive the contract from the transaction id, so however they interleave there is one
    contract per payment. A payment with its own terms (Stripe's: the session's snapshot) buys
    them while the plan exists, archived or repriced since; a trusted one buys an active plan."""
    db = services.db
    paid: Paid | None = None  # verified once, not once per attempt (again only if the plan is gone)
    for attempt in range(MAX_ATTEMPTS):
        existing, accepted = contracts.find_purchase(db, transaction_id)
        if existing is not None:
            return _replay(existing, user_id, plan_id), False
        if accepted:  # its contract is gone, its tombstone is not: the id is spent forever
            raise _reused()
        plan = plans.get_plan(db, plan_id)
        if paid is None or plan is None:
            paid = verify(plan)
        plan = _sold(plan, paid)
        now = services.now()
        head = subscribers.get_subscriber(db, user_id)
        content = _content(plan, paid, transaction_id)
        period = periods.next_period(now, head.paid_until if head else None, content["duration_days"])
        try:
            contract = contracts.insert_contract(
                db,
                head=head,
                user_id=user_id,
                content=content,
                period=period,
                now=now,
                archived_plan=paid.terms is not None,
            )
        except (StaleWrite, TransactionConflict, RecordExists):
            _backoff(attempt)  # another purchase or refund moved first: decide again
            continue
        except Thrown as thrown:
            if thrown.code in ("payment_refunded", "payment_disputed"):
                raise rejected(thrown.code) from None
            if thrown.code != "plan_unavailable":
                raise
            continue  # archived or deleted meanwhile: the next round says which
        return contract, True
    raise _contention()


def _sold(plan: Plan | None, paid: Paid) -> Plan:
    """The plan, if `paid` can buy it: it exists, and is on sale unless the payment has its own terms.
    Raises NotFound(plan_not_found) or Conflict(plan_archived)."""
    if plan is None:
        raise NotFound("no such plan", code="plan_not_found")
    if plan.status != "active" and paid.terms is None:
        raise Conflict("this plan is archived and cannot be bought", code="plan_archived")
    return plan


def _content(plan: Plan, paid: Paid, transaction_id: str) -> dict[str, Any]:
    """The new contract's fields: the terms paid for (the plan's own when the payment has none)."""
    terms = paid.terms or Terms(plan.price_minor, plan.currency, plan.duration_days)
    return {
        "plan_id": plan.plan_id,
        "plan_title": plan.title,
        "transaction_id": transaction_id,
        "price_minor": terms.price_minor,
        "currency": terms.currency,
        "duration_days": terms.duration_days,
        "models": list(plan.models) if plan.models is not None else None,
        "token_quota": plan.token_quota,
        "cost_quota_minor": plan.cost_quota_minor,
        "payment_intent_id": paid.payment_intent_id,
    }


def purchasable_plan(services: Services, plan_id: str) -> Plan:
    """The plan if it is on sale. Raises NotFound(plan_not_found) or Conflict(plan_archived)."""
    return _sold(plans.get_plan(services.db, plan_id), Paid(None))


def start_checkout(
    services: Services,
    user_id: str,
    plan_id: str,
    urls: tuple[str | None, str | None],
    headers: Mapping[str, str],
) -> tuple[str, str]:
    """A Stripe Checkout Session for one of the plan at its price: (session id, its URL). `urls`
    are the success and cancel URLs (None: lib.billing.payments.default_return_urls of the request's
    `headers`). Raises Conflict(payments_not_configured) in trust mode, NotFound,
    Conflict(plan_archived | free_plan | price_not_chargeable), UnprocessableContent,
    ServiceUnavailable or BadGateway."""
    gateway = stripe_gateway(services.payments)
    plan = purchasable_plan(services, plan_id)
    if plan.price_minor == 0:
        raise Conflict("this plan is free: Stripe takes no payment of nothing", code="free_plan")
    problem = chargeable_problem(plan.price_minor, plan.currency)
    if problem is not None:
        raise Conflict(f"this plan's price cannot be charged at Stripe: {problem}", code="price_not_chargeable")
    success_url, cancel_url = urls
    if success_url is None or cancel_url is None:
        default_success, default_cancel = default_return_urls(headers)
        success_url, cancel_url = success_url or default_success, cancel_url or default_cancel
    return gateway.create_checkout(plan, user_id, success_url, cancel_url)


def refund(services: Services, caller: Principal, contract_id: str) -> Contract:
    """Refund the unused part of the contract; later contracts move up to stay contiguous.

    A contract paid at Stripe is refunded there first, as of its refund quote (see _refund_at_stripe:
    a quote lives REFUND_QUOTE_TTL); it is marked refunded only once Stripe accepted, and a Stripe
    failure leaves it as it was.

    Raises NotFound, Forbidden (not the owner or an admin), Conflict(already_refunded |
    contract_expired | payments_not_configured), ServiceUnavailable or BadGateway (Stripe).
    """
    db = services.db
    at_stripe: _AtStripe | None = None  # Stripe accepted the refund (asked once, not once per attempt)
    for attempt in range(MAX_ATTEMPTS):
        contract = contracts.get_contract(db, contract_id)
        if contract is None:
            raise NotFound("no such contract", code="contract_not_found")
        require_owner(caller, contract.user_id)
        now = services.now()
        if contract.refunded_at is not None:  # by another request, or Stripe's webhook: exactly one 200
            raise _already_refunded()
        head = subscribers.get_subscriber(db, contract.user_id)
        if head is None:
            raise Conflict("the contract's subscriber is gone", code="subscriber_missing")
        # Read the contract again after the head: a refund of an earlier contract that moved this one
        # up meanwhile also moved the head's version, so a write from what was read then fails as stale.
        contract = contracts.get_contract(db, contract_id) or contract
        if contract.refunded_at is not None:
            continue
        if contract.payment_intent_id is not None:
            at_stripe = at_stripe or _refund_at_stripe(services, contract, now)
            plan = at_stripe.plan
        else:
            plan = _refund_here(contract, now)
        try:
            _refund_in_ledger(services, head, contract, plan, now)
        except (StaleWrite, TransactionConflict):
            _backoff(attempt)
            continue
        refunded = contracts.get_contract(db, contract_id)
        if refunded is None:
            raise RuntimeError("the refunded contract vanished")
        return refunded
    raise _contention()


def _refund_here(contract: Contract, now: dt.datetime) -> RefundPlan:
    """The refund of a contract paid with nothing to return at a provider. Raises Conflict(contract_expired)."""
    if contract.ends_at <= now:
        raise _expired()
    return periods.plan_refund(contract.price_minor, contract.period, now)


def _already_refunded() -> Conflict:
    return Conflict("this contract was refunded already", code="already_refunded")


def _expired() -> Conflict:
    return Conflict("this contract has ended; nothing is left to refund", code="contract_expired")


@dataclasses.dataclass(frozen=True)
class _AtStripe:
    plan: RefundPlan  # what the ledger writes: the amount Stripe refunds, the contract's new end


def refund_key(contract: Contract) -> str:
    """The Stripe idempotency key of the contract's current refund quote: `refund-<contract_id>`
    for the first, `refund-<contract_id>-<n>` for the n-th."""
    quote = contract.refund_quote or 1
    return f"refund-{contract.contract_id}" if quote == 1 else f"refund-{contract.contract_id}-{quote}"


def live_quote(contract: Contract, now: dt.datetime) -> dt.datetime | None:
    """The instant of the contract's refund quote while it is honoured (REFUND_QUOTE_TTL), else None."""
    quoted = contract.refund_requested_at
    return quoted if quoted is not None and now - quoted <= REFUND_QUOTE_TTL else None


def _refund_at_stripe(services: Services, contract: Contract, now: dt.datetime) -> _AtStripe:
    """Refund the contract at Stripe and say what the ledger writes.

    Within REFUND_QUOTE_TTL of its quote (`refund_requested_at`), every request asks Stripe the
    quoted amount under the quote's key (`refund_key`), so retries and concurrent requests make one
    refund. Past it, a request first asks Stripe for the refunds already made for this contract (a
    refund whose answer was lost): if there is one, it is adopted (the contract ends now, refunded
    that amount); else the contract is quoted anew at now, with a new key, or is 409
    `contract_expired` if it has ended. No old quote is honoured. The amount is rounded down to
    Stripe's step; zero asks Stripe nothing. Raises Conflict (payments_not_configured |
    contract_expired), ServiceUnavailable or BadGateway (the contract then stays unrefunded)."""
    gateway = stripe_gateway(services.payments)
    intent = contract.payment_intent_id
    if intent is None:
        raise RuntimeError("the contract was not paid at Stripe")
    if live_quote(contract, now) is None:
        if contract.refund_requested_at is not None:  # a quote went stale: its refund may exist
            made = gateway.contract_refunds(intent, contract.contract_id, contract.currency)
            if made > 0:
                ends = periods.plan_refund(contract.price_minor, contract.period, now)
                return _AtStripe(dataclasses.replace(ends, amount_minor=min(made, contract.price_minor)))
        if contract.ends_at <= now:
            raise _expired()
        contract = contracts.quote_refund(services.db, contract, now, stale_before=now - REFUND_QUOTE_TTL)
    quoted_at = contract.refund_requested_at or now
    plan = periods.plan_refund(contract.price_minor, contract.period, quoted_at)
    plan = dataclasses.replace(plan, amount_minor=stripe_floor(plan.amount_minor, contract.currency))
    if plan.amount_minor == 0:
        return _AtStripe(plan)
    gateway.refund(
        intent, plan.amount_minor, contract.currency, contract.contract_id, idempotency_key=refund_key(contract)
    )
    return _AtStripe(plan)


def settle_at_provider(services: Services, payment_intent_id: str, refunded_minor: int | None) -> Contract | None:
    """Write what Stripe did to a payment (its webhook said so): refunded `refunded_minor` (at
    most the price; the contract ends as a refund through the API would, as of its live quote or
    now), or disputed (None: the contract ends now and nothing is refunded here). The contract
    changed, or None when no contract has this payment, its account is gone, or it was refunded or
    disputed already (a redelivered event, or the refund made through the API). Raises
    ServiceUnavailable (contention)."""
    db = services.db
    for attempt in range(MAX_ATTEMPTS):
        contract = contracts.find_by_payment_intent(db, payment_intent_id)
        if contract is None or contract.refunded_at is not None:
            return None
        if refunded_minor is None and contract.disputed_at is not None:
            return None
        head = subscribers.get_subscriber(db, contract.user_id)
        if head is None:
            return None
        now = services.now()
        plan = periods.plan_refund(contract.price_minor, contract.period, live_quote(contract, now) or now)
        later = _later(services, contract, now)
        try:
            if refunded_minor is None:
                contracts.end_contract(db, head=head, contract=contract, end=plan, later=later, now=now)
            else:
                amount = min(max(refunded_minor, 0), contract.price_minor)
                refund = dataclasses.replace(plan, amount_minor=amount)
                contracts.refund_contract(db, head=head, contract=contract, refund=refund, later=later, now=now)
        except (StaleWrite, TransactionConflict):
            _backoff(attempt)
            continue
        except Thrown as thrown:
            if thrown.code in ("already_refunded", "already_ended"):
                return None
            raise
        return contracts.get_contract(db, contract.contract_id)
    raise _contention()


def returned_before_purchase(services: Services, payment_intent_id: str, kind: str) -> bool:
    """Stripe refunded or disputed (`kind`) a payment that no contract has: mark it so that no
    purchase is made with it. False when a contract claims it after all (settle that one).
    Raises ServiceUnavailable (contention)."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return contracts.mark_returned(services.db, payment_intent_id, kind, services.now())
        except TransactionConflict:
            _backoff(attempt)
    raise _contention()


def _later(services: Services, contract: Contract, now: dt.datetime) -> list[Contract]:
    """The user's live contracts stacked after `contract` (they move up when it ends early)."""
    return [
        c
        for c in contracts.live_contracts(services.db, contract.user_id, now)
        if c.starts_at >= contract.ends_at and c.contract_id != contract.contract_id
    ]


def _refund_in_ledger(
    services: Services, head: Subscriber, contract: Contract, plan: RefundPlan, now: dt.datetime
) -> None:
    """Mark the contract refunded per `plan`. Raises StaleWrite (the head moved, or the contract was
    refunded meanwhile: the caller reads it again), TransactionConflict."""
    later = _later(services, contract, now)
    try:
        contracts.refund_contract(services.db, head=head, contract=contract, refund=plan, later=later, now=now)
    except Thrown as thrown:
        if thrown.code == "already_refunded":
            raise StaleWrite("refunded meanwhile", "stale") from None  # the next round says by whom
        raise


def current_contract(services: Services, user_id: str) -> Contract | None:
    """The contract whose period contains now, if any."""
    now = services.now()
    for contract in contracts.live_contracts(services.db, user_id, now):
        if contract.starts_at <= now:
            return contract
    return None


def subscribe(services: Services, caller: Principal, user_id: str, fields: dict[str, Any]) -> Subscriber:
    """Make `user_id` (the caller, or anyone for an admin) a subscriber with `fields` (`auto_renew`,
    `billing_email`). Raises Forbidden, UserNotFound, SubscriberExists."""
    require_owner(caller, user_id)
    return subscribers.create_subscriber(services.db, user_id, fields, services.now())


def owned_subscriber(services: Services, caller: Principal, subscriber_id: str) -> Subscriber:
    """The subscriber if `caller` owns it or is an admin. Raises NotFound or Forbidden."""
    subscriber = subscribers.get_subscriber(services.db, subscriber_id)
    if subscriber is None:
        raise NotFound("no such subscriber", code="subscriber_not_found")
    require_owner(caller, subscriber.user_id)
    return subscriber


def owned_contract(services: Services, caller: Principal, contract_id: str) -> Contract:
    """The contract if `caller` owns it or is an admin. Raises NotFound or Forbidden."""
    contract = contracts.get_contract(services.db, contract_id)
    if contract is None:
        raise NotFound("no such contract", code="contract_not_found")
    require_owner(caller, contract.user_id)
    return contract
