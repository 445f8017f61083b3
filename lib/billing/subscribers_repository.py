"""The `subscriber` table: one per user (record id = user id), also the user's ledger head."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lib.db.connection import Database, Event, RecordExists, Thrown
from lib.db.paging import Cursor, page_rows
from lib.db.records import LinkKey, RecordKey, from_row, from_rows, record
from lib.errors import SubscriberExists, SubscriberHasLiveContracts, UserNotFound

__all__ = [
    "Subscriber",
    "create_subscriber",
    "delete_subscriber",
    "get_subscriber",
    "list_subscribers",
    "update_subscriber",
]

LIVE_CONTRACTS = "count(SELECT id FROM contract WHERE user = $user AND refunded_at IS NONE AND ends_at > $now)"


@dataclass(frozen=True)
class Subscriber:
    subscriber_id: RecordKey
    user_id: LinkKey
    auto_renew: bool
    billing_email: str | None
    paid_until: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


def new_subscriber_content(user_id: str, now: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {
        "user": record("user", user_id),
        "auto_renew": fields.get("auto_renew", False),
        "billing_email": fields.get("billing_email"),
        "version": 0,
        "created_at": now,
        "updated_at": now,
    }


def get_subscriber(db: Database, subscriber_id: str) -> Subscriber | None:
    return from_row(Subscriber, db.one("SELECT * FROM ONLY $s", {"s": record("subscriber", subscriber_id)}))


def create_subscriber(db: Database, user_id: str, fields: dict[str, Any], now: dt.datetime) -> Subscriber:
    """Raises SubscriberExists when the user has one already, UserNotFound when there is no such user."""
    try:
        rows = db.write(
            "IF $user.id = NONE { THROW 'kiroshi:no_user' }; CREATE ONLY $s CONTENT $content;",
            {
                "s": record("subscriber", user_id),
                "user": record("user", user_id),
                "content": new_subscriber_content(user_id, now, **fields),
            },
            events=[Event("subscriber.created", {"subscriber_id": user_id, "user_id": user_id})],
        )
    except RecordExists:
        raise SubscriberExists from None
    except Thrown:
        raise UserNotFound from None
    created = from_row(Subscriber, rows[1])
    if created is None:
        raise RuntimeError("CREATE returned no subscriber")
    return created


def list_subscribers(db: Database, *, user_id: str | None, after: Cursor | None, limit: int) -> list[Subscriber]:
    """All subscribers (or only `user_id`'s) in creation order after the cursor."""
    only = user_id is not None
    rows = page_rows(
        db,
        "subscriber",
        after=after,
        limit=limit,
        where=("id = $only",) if only else (),
        params={"only": record("subscriber", user_id or "")},
    )
    return from_rows(Subscriber, rows)


def update_subscriber(db: Database, subscriber_id: str, fields: dict[str, Any], now: dt.datetime) -> Subscriber | None:
    changes = {k: fields[k] for k in ("auto_renew", "billing_email") if k in fields} | {"updated_at": now}
    try:
        rows = db.write(
            "IF $s.id = NONE { THROW 'kiroshi:no_subscriber' }; UPDATE ONLY $s MERGE $changes RETURN AFTER;",
            {"s": record("subscriber", subscriber_id), "changes": changes},
            events=[Event("subscriber.updated", {"subscriber_id": subscriber_id})],
        )
    except Thrown:
        return None
    return from_row(Subscriber, rows[1])


def delete_subscriber(db: Database, subscriber: Subscriber, now: dt.datetime) -> None:
    """Raises SubscriberHasLiveContracts while a contract is active or scheduled."""
    try:
        db.write(
            f"IF {LIVE_CONTRACTS} > 0 {{ THROW 'kiroshi:live_contracts' }}; DELETE $s;",
            {
                "s": record("subscriber", subscriber.subscriber_id),
                "user": record("user", subscriber.user_id),
                "now": now,
            },
            events=[Event("subscriber.deleted", {"subscriber_id": subscriber.subscriber_id})],
        )
    except Thrown:
        raise SubscriberHasLiveContracts from None
