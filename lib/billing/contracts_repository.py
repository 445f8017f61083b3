"""The `contract` table, and the two ledger writes: a purchase and a refund.

Both are one transaction guarded by the user's ledger head (`subscriber.version`): a write that
finds the head changed since it was read throws `kiroshi:stale`, and the caller starts over.
A purchase also writes the transaction id's tombstone (`transaction_tombstone`, keyed like the
contract), which nothing removes: an accepted transaction id is never accepted again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from lib.billing.periods import Period, RefundPlan
from lib.billing.subscribers_repository import Subscriber, new_subscriber_content
from lib.db.connection import Database, Event
from lib.db.paging import Cursor, page_rows
from lib.db.records import LinkKey, RecordKey, from_row, from_rows, record

__all__ = [
    "Contract",
    "contract_key",
    "find_purchase",
    "get_contract",
    "insert_contract",
    "list_contracts",
    "live_contracts",
    "refund_contract",
]

_HEAD_GUARD = """
LET $head = (UPDATE $subscriber SET version = version + 1, paid_until = $paid_until, updated_at = $now
             WHERE version = $version);
IF array::len($head) = 0 { THROW 'kiroshi:stale' };
"""


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
    db: Database, *, head: Subscriber | None, user_id: str, content: dict[str, Any], period: Period, now: dt.datetime
) -> Contract:
    """Create the contract and move the ledger head in one transaction.

    Raises RecordExists (the transaction id's tombstone or contract, or a subscriber created
    meanwhile), StaleWrite (the head moved), Thrown("plan_unavailable") (the plan was archived or
    deleted meanwhile).
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
        IF $plan_status != 'active' {{ THROW 'kiroshi:plan_unavailable' }};
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
    moves = [
        {
            "id": record("contract", c.contract_id),
            "starts_at": c.starts_at - refund.shift,
            "ends_at": c.ends_at - refund.shift,
        }
        for c in later
    ]
    paid_until = head.paid_until - refund.shift if head.paid_until is not None else refund.ends_at
    sql = f"""
        {_HEAD_GUARD}
        LET $done = (UPDATE $contract SET refunded_at = $now, refund_minor = $amount, ends_at = $ends_at
                     WHERE refunded_at IS NONE);
        IF array::len($done) = 0 {{ THROW 'kiroshi:already_refunded' }};
        FOR $move IN $moves {{ UPDATE $move.id SET starts_at = $move.starts_at, ends_at = $move.ends_at; }};
    """  # noqa: S608 - constant fragments; values are parameters
    params = {
        "subscriber": record("subscriber", head.subscriber_id),
        "version": head.version,
        "paid_until": paid_until,
        "now": now,
        "contract": record("contract", contract.contract_id),
        "amount": refund.amount_minor,
        "ends_at": refund.ends_at,
        "moves": moves,
    }
    refunded = Event(
        "contract.refunded",
        {"contract_id": contract.contract_id, "user_id": contract.user_id, "refund_minor": refund.amount_minor},
    )
    db.write(sql, params, events=[refunded], stale=contract.user_id)
