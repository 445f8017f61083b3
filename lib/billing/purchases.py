"""Buying and refunding: exact under any concurrency; loading what a caller owns.

Each operation reads the user's ledger head, decides with the pure rules of lib.billing.periods, and
writes in one transaction guarded by the head's version; when another write got there first it
starts over. The contract's record id derives from the transaction id, so a purchase is
idempotent by construction.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from lib.accounts import repository as users
from lib.auth.policies import require_owner
from lib.billing import contracts_repository as contracts
from lib.billing import periods
from lib.billing import plans_repository as plans
from lib.billing import subscribers_repository as subscribers
from lib.billing.contracts_repository import Contract
from lib.billing.subscribers_repository import Subscriber
from lib.db.connection import RecordExists, StaleWrite, Thrown, TransactionConflict
from lib.errors import Conflict, NotFound, ServiceUnavailable, UserNotFound

if TYPE_CHECKING:
    from lib.accounts.principal import Principal
    from lib.services import Services

__all__ = ["buy", "current_contract", "owned_contract", "owned_subscriber", "refund", "subscribe"]

MAX_ATTEMPTS = 64


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
    """The contract for this transaction and whether it was created now (False: a replay).

    Raises NotFound(plan_not_found), Conflict(plan_archived | transaction_id_reused),
    PaymentRejected.
    """
    db = services.db
    for attempt in range(MAX_ATTEMPTS):
        existing, accepted = contracts.find_purchase(db, transaction_id)
        if existing is not None:
            return _replay(existing, user_id, plan_id), False
        if accepted:  # its contract is gone, its tombstone is not: the id is spent forever
            raise _reused()
        plan = plans.get_plan(db, plan_id)
        if plan is None:
            raise NotFound("no such plan", code="plan_not_found")
        if plan.status != "active":
            raise Conflict("this plan is archived and cannot be bought", code="plan_archived")
        services.payments.verify(transaction_id, plan, user_id)
        now = services.now()
        head = subscribers.get_subscriber(db, user_id)
        period = periods.next_period(now, head.paid_until if head else None, plan.duration_days)
        content = {
            "plan_id": plan.plan_id,
            "plan_title": plan.title,
            "transaction_id": transaction_id,
            "price_minor": plan.price_minor,
            "currency": plan.currency,
            "duration_days": plan.duration_days,
            "models": list(plan.models) if plan.models is not None else None,
            "token_quota": plan.token_quota,
        }
        try:
            contract = contracts.insert_contract(
                db, head=head, user_id=user_id, content=content, period=period, now=now
            )
        except (StaleWrite, TransactionConflict, RecordExists):
            _backoff(attempt)  # another purchase or refund moved first: decide again
            continue
        except Thrown as thrown:
            if thrown.code != "plan_unavailable":
                raise
            continue  # archived or deleted meanwhile: the next round says which
        return contract, True
    raise _contention()


def refund(services: Services, caller: Principal, contract_id: str) -> Contract:
    """Refund the unused part of the contract; later contracts move up to stay contiguous.

    Raises NotFound, Forbidden (not the owner or an admin), Conflict(already_refunded |
    contract_expired).
    """
    db = services.db
    for attempt in range(MAX_ATTEMPTS):
        contract = contracts.get_contract(db, contract_id)
        if contract is None:
            raise NotFound("no such contract", code="contract_not_found")
        require_owner(caller, contract.user_id)
        now = services.now()
        if contract.refunded_at is not None:
            raise Conflict("this contract was refunded already", code="already_refunded")
        if contract.ends_at <= now:
            raise Conflict("this contract has ended; nothing is left to refund", code="contract_expired")
        head = subscribers.get_subscriber(db, contract.user_id)
        if head is None:
            raise Conflict("the contract's subscriber is gone", code="subscriber_missing")
        plan = periods.plan_refund(contract.price_minor, contract.period, now)
        later = [
            c
            for c in contracts.live_contracts(db, contract.user_id, now)
            if c.starts_at >= contract.ends_at and c.contract_id != contract.contract_id
        ]
        try:
            contracts.refund_contract(db, head=head, contract=contract, refund=plan, later=later, now=now)
        except (StaleWrite, TransactionConflict):
            _backoff(attempt)
            continue
        except Thrown as thrown:
            if thrown.code == "already_refunded":
                raise Conflict("this contract was refunded already", code="already_refunded") from None
            raise
        refunded = contracts.get_contract(db, contract_id)
        if refunded is None:
            raise RuntimeError("the refunded contract vanished")
        return refunded
    raise _contention()


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
    if user_id != caller.user_id and users.get_user(services.db, user_id) is None:
        raise UserNotFound
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
