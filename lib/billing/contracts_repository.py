"""The `contract` table, and the ledger writes: a purchase, a refund and a dispute's end.

Each is one transaction guarded by the user's ledger head (`subscriber.version`): a write that
finds the head changed since it was read throws `kiroshi:stale`, and the caller starts over.
A purchase also writes the transaction id's tombstone (`transaction_tombstone`, keyed like the
contract), which nothing removes: an accepted transaction id is never accepted again.
A purchase paid at Stripe claims its PaymentIntent (`stripe_payment`, keyed by the PaymentIntent
id) in the same transaction, and refuses one that a webhook marked refunded or disputed before any
contract existed (`mark_returned`): both write the one record, so either the purchase sees the mark
or the mark sees the contract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from lib.billing.periods import Period, RefundPlan
from lib.billing.subscribers_repository import Subscriber, new_subscriber_content
from lib.db.connection import Database, Event, Thrown
from lib.db.paging import Cursor, page_rows
from lib.db.records import LinkKey, RecordKey, from_row, from_rows, record

__all__ = [
    "Contract",
    "contract_key",
    "end_contract",
    "find_by_payment_intent",
    "find_purchase",
    "get_contract",
    "insert_contract",
    "list_contracts",
    "live_contracts",
    "mark_returned",
    "quote_refund",
    "refund_contract",
]

_HEAD_GUARD = """
LET $head = (UPDATE $subscriber SET version = version + 1, paid_until = $paid_until, updated_at = $now
             WHERE version = $version);
IF array::len($head) = 0 { THROW 'kiroshi:stale' };
"""
_CLAIM_PAYMENT = """
LET $returned = (SELECT VALUE returned FROM ONLY $payment);
IF $returned = 'refunded' { THROW 'kiroshi:payment_refunded' };
IF $returned != NONE { THROW 'kiroshi:payment_disputed' };
UPSERT $payment SET contract = $contract;
"""
_MOVE_LATER = "FOR $move IN $moves { UPDATE $move.id SET starts_at = $move.starts_at, ends_at = $move.ends_at; };"


@dataclass(frozen=True)
class Contract:
    contract_id: RecordKey
    user_id: LinkKey
    plan_id: str
    plan_title: str
    transaction_id: str
    price_minor: int
    currency: str
    duration_days: int
    models: tuple[str, ...] | None
    token_quota: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    refunded_at: dt.datetime | None
    refund_minor: int | None
    created_at: dt.datetime
    payment_intent_id: str | None = None  # the Stripe PaymentIntent that paid it (KIROSHI_PAYMENTS=stripe)
    refund_requested_at: dt.datetime | None = None  # the refund's quote: its amount is computed as of then
    refund_quote: int | None = None  # which quote (1, 2, ...): its Stripe idempotency key says so
    disputed_at: dt.datetime | None = None  # the payment was disputed: the contract ended then
    cost_quota_minor: int | None = None  # the plan's money quota per period when bought (minor units)

    @property
    def period(self) -> Period:
        return Period(self.starts_at, self.ends_at)

    def status(self, now: dt.datetime) -> str:
        if self.refunded_at is not None:
            return "refunded"
        if now < self.starts_at:
            return "scheduled"
        return "active" if now < self.ends_at else "expired"


def contract_key(transaction_id: str) -> str:
    """The contract's record key: derived from the transaction id, so there is one per transaction."""
    return hashlib.sha256(transaction_id.encode()).hexdigest()[:32]


def get_contract(db: Database, contract_id: str) -> Contract | None:
    return from_row(Contract, db.one("SELECT * FROM ONLY $c", {"c": record("contract", contract_id)}))


def find_purchase(db: Database, transaction_id: str) -> tuple[Contract | None, bool]:
    """The contract bought with this transaction id, and whether the id was ever accepted (its
    tombstone: True even when the contract is gone)."""
    key = contract_key(transaction_id)
    row, accepted = db.query(
        "SELECT * FROM ONLY $contract; RETURN record::exists($tombstone);",
        {"contract": record("contract", key), "tombstone": record("transaction_tombstone", key)},
    )
    return from_row(Contract, row), bool(accepted)


def find_by_payment_intent(db: Database, payment_intent_id: str) -> Contract | None:
    """The contract paid by this Stripe PaymentIntent, if any."""
    rows = db.one("SELECT * FROM contract WHERE payment_intent_id = $pi LIMIT 1", {"pi": payment_intent_id})
    return from_row(Contract, rows[0] if rows else None)


def quote_refund(db: Database, contract: Contract, now: dt.datetime, *, stale_before: dt.datetime) -> Contract:
    """The contract with a live refund quote: `refund_requested_at` set to `now` (and `refund_quote`
    counted up) unless a quote taken at or after `stale_before` exists, which is kept, so that
    concurrent requests refund as of one instant. Re-quoting is guarded by the old quote: of
    concurrent requests that found one stale, one takes the new quote and the others read it."""
    sql = """
        UPDATE $contract SET refund_requested_at = $now, refund_quote = (refund_quote ?? 0) + 1
            WHERE refunded_at IS NONE AND (refund_requested_at IS NONE OR refund_requested_at < $stale_before);
        SELECT * FROM ONLY $contract;
    """
    params = {"contract": record("contract", contract.contract_id), "now": now, "stale_before": stale_before}
    rows = db.write(sql, params, stale=contract.user_id)
    quoted = from_row(Contract, rows[-1])
    if quoted is None:
        raise RuntimeError("the quoted contract vanished")
    return quoted


def mark_returned(db: Database, payment_intent_id: str, kind: str, now: dt.datetime) -> bool:
    """Remember that Stripe returned the payment (`kind`: `refunded` or `disputed`) before any
    contract claimed it: no purchase will then be made with it. False when a contract claims the
    payment (settle that contract instead). Raises TransactionConflict (a purchase raced: retry)."""
    sql = """
        LET $claimed = (SELECT VALUE contract FROM ONLY $payment);
        IF $claimed != NONE { THROW 'kiroshi:payment_claimed' };
        UPSERT $payment SET returned = $kind, returned_at = $now;
    """
    params = {"payment": record("stripe_payment", payment_intent_id), "kind": kind, "now": now}
    try:
        db.write(sql, params)
    except Thrown as thrown:
        if thrown.code == "payment_claimed":
            return False
        raise
    return True


def list_contracts(db: Database, *, user_id: str | None, after: Cursor | None, limit: int) -> list[Contract]:
    """Contracts newest first (only `user_id`'s when given), strictly after the cursor."""
    own = user_id is not None
    rows = page_rows(
        db,
        "contract",
        after=after,
        limit=limit,
        newest_first=True,
        where=("user = $user",) if own else (),
        params={"user": record("user", user_id or "")},
    )
    return from_rows(Contract, rows)


def live_contracts(db: Database, user_id: str, now: dt.datetime) -> list[Contract]:
    """The user's unrefunded contracts that have not ended, in period order (memoised per user)."""

    def load() -> list[Contract]:
        rows = db.one(
            "SELECT * FROM contract WHERE user = $user AND refunded_at IS NONE AND ends_at > $now ORDER BY starts_at",
            {"user": record("user", user_id), "now": now},
        )
        return from_rows(Contract, rows)

    live = db.memo.load(user_id, "live_contracts", load)
    return [c for c in live if c.ends_at > now] if live else []


def insert_contract(
    db: Database,
    *,
    head: Subscriber | None,
    user_id: str,
    content: dict[str, Any],
    period: Period,
    now: dt.datetime,
    archived_plan: bool = False,
) -> Contract:
    """Create the contract and move the ledger head in one transaction; a contract with a
    `payment_intent_id` claims that payment (see the module's docstring).

    Raises RecordExists (the transaction id's tombstone or contract, or a subscriber created
    meanwhile), StaleWrite (the head moved), Thrown("plan_unavailable") (the plan was deleted, or
    archived unless `archived_plan` allows it, meanwhile), Thrown("payment_refunded" |
    "payment_disputed") (Stripe returned the payment before).
    """
    key = contract_key(content["transaction_id"])
    if head is None:
        head_sql = "CREATE $subscriber CONTENT $new_head;"
        new_head = new_subscriber_content(user_id, now) | {"version": 1, "paid_until": period.ends_at}
    else:
        head_sql, new_head = _HEAD_GUARD, {}
    sql = f"""
        {head_sql}
        LET $plan_status = (SELECT VALUE status FROM ONLY $plan);
        IF $plan_status = NONE OR ($plan_status != 'active' AND !$archived_plan) {{ THROW 'kiroshi:plan_unavailable' }};
        {_CLAIM_PAYMENT if content.get("payment_intent_id") else ""}
        CREATE $tombstone SET accepted_at = $now;
        CREATE ONLY $contract CONTENT $content;
    """  # noqa: S608 - constant fragments; values are parameters
    params = {
        "subscriber": record("subscriber", user_id),
        "new_head": new_head,
        "version": head.version if head else 0,
        "paid_until": period.ends_at,
        "now": now,
        "plan": record("plan", content["plan_id"]),
        "archived_plan": archived_plan,
        "payment": record("stripe_payment", content.get("payment_intent_id") or "none"),
        "contract": record("contract", key),
        "tombstone": record("transaction_tombstone", key),
        "content": content
        | {
            "user": record("user", user_id),
            "starts_at": period.starts_at,
            "ends_at": period.ends_at,
            "created_at": now,
        },
    }
    bought = Event("contract.bought", {"contract_id": key, "user_id": user_id, "plan_id": content["plan_id"]})
    rows = db.write(sql, params, events=[bought], stale=user_id)
    created = from_row(Contract, rows[-2])
    if created is None:
        raise RuntimeError("CREATE returned no contract")
    return created


def refund_contract(
    db: Database,
    *,
    head: Subscriber,
    contract: Contract,
    refund: RefundPlan,
    later: list[Contract],
    now: dt.datetime,
) -> None:
    """Mark the contract refunded (ending it), move later contracts up by `refund.shift` and the
    head's paid_until with them, in one transaction.

    Raises StaleWrite (the head moved) or Thrown("already_refunded").
    """
    sql = f"""
        {_HEAD_GUARD}
        LET $done = (UPDATE $contract SET refunded_at = $now, refund_minor = $amount, ends_at = $ends_at
                     WHERE refunded_at IS NONE);
        IF array::len($done) = 0 {{ THROW 'kiroshi:already_refunded' }};
        {_MOVE_LATER}
    """  # noqa: S608 - constant fragments; values are parameters
    refunded = Event(
        "contract.refunded",
        {"contract_id": contract.contract_id, "user_id": contract.user_id, "refund_minor": refund.amount_minor},
    )
    params = _shift_params(head, contract, refund, later, now) | {"amount": refund.amount_minor}
    db.write(sql, params, events=[refunded], stale=contract.user_id)


def end_contract(
    db: Database,
    *,
    head: Subscriber,
    contract: Contract,
    end: RefundPlan,
    later: list[Contract],
    now: dt.datetime,
) -> None:
    """End the contract at `end.ends_at` because its payment is disputed (`disputed_at`), moving
    later contracts up by `end.shift` and the head's paid_until with them, in one transaction;
    nothing is refunded here (a dispute returns the money through the card network).

    Raises StaleWrite (the head moved) or Thrown("already_ended") (refunded or disputed before).
    """
    sql = f"""
        {_HEAD_GUARD}
        LET $done = (UPDATE $contract SET disputed_at = $now, ends_at = $ends_at
                     WHERE refunded_at IS NONE AND disputed_at IS NONE);
        IF array::len($done) = 0 {{ THROW 'kiroshi:already_ended' }};
        {_MOVE_LATER}
    """  # noqa: S608 - constant fragments; values are parameters
    ended = Event(
        "contract.ended", {"contract_id": contract.contract_id, "user_id": contract.user_id, "reason": "dispute"}
    )
    db.write(sql, _shift_params(head, contract, end, later, now), events=[ended], stale=contract.user_id)


def _shift_params(
    head: Subscriber, contract: Contract, end: RefundPlan, later: list[Contract], now: dt.datetime
) -> dict[str, Any]:
    """The parameters of a write that ends `contract` at `end.ends_at` and moves `later` (and the
    head's paid_until) up by `end.shift`, guarded by the head's version."""
    moves = [
        {
            "id": record("contract", c.contract_id),
            "starts_at": c.starts_at - end.shift,
            "ends_at": c.ends_at - end.shift,
        }
        for c in later
    ]
    return {
        "subscriber": record("subscriber", head.subscriber_id),
        "version": head.version,
        "paid_until": head.paid_until - end.shift if head.paid_until is not None else end.ends_at,
        "now": now,
        "contract": record("contract", contract.contract_id),
        "ends_at": end.ends_at,
        "moves": moves,
    }
