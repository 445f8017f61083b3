"""The `payment_event` table: one record per Stripe webhook event handled, keyed by Stripe's event id."""

from __future__ import annotations

import datetime as dt

from lib.db.connection import Database, RecordExists
from lib.db.records import record

__all__ = ["event_handled", "record_event"]


def event_handled(db: Database, event_id: str) -> bool:
    """Whether the event with this id was handled before (a redelivery)."""
    return bool(db.one("RETURN record::exists($event)", {"event": record("payment_event", event_id)}))


def record_event(db: Database, event_id: str, event_type: str, outcome: str, now: dt.datetime) -> bool:
    """Remember that the event was handled, with its outcome; False when another delivery of it
    recorded it first (its effect is idempotent: the second one changed nothing)."""
    try:
        db.write(
            "CREATE $event SET type = $type, outcome = $outcome, handled_at = $now",
            {"event": record("payment_event", event_id), "type": event_type, "outcome": outcome, "now": now},
        )
    except RecordExists:
        return False
    return True
