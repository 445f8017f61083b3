"""Domain events written in the same transaction as the change, published after commit.

The database is the truth; the bus is a notifier. An event whose publish fails stays pending and
is published by the next relay, with its record id as `msg_id` so that redeliveries de-duplicate.
"""

from __future__ import annotations

import logging
from typing import Any

from lib.db.connection import Database
from lib.db.records import record_key
from lib.events import EventBus

__all__ = ["OUTBOX_STATEMENT", "outbox_params", "relay_outbox"]

log = logging.getLogger("kiroshi.events")

OUTBOX_STATEMENT = (
    "CREATE event_outbox CONTENT {topic: $event_topic, payload: $event_payload, created_at: time::now()};"
)


def outbox_params(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters OUTBOX_STATEMENT expects."""
    return {"event_topic": topic, "event_payload": payload}


def relay_outbox(db: Database, bus: EventBus, batch: int = 100) -> int:
    """Publish pending events in order; return how many were published.

    Stops at the first failed publish (the bus is down) and leaves the rest pending.
    """
    pending = db.one(
        "SELECT id, topic, payload, created_at FROM event_outbox WHERE published_at IS NONE "
        "ORDER BY created_at LIMIT $n",
        {"n": batch},
    )
    published: list[Any] = []
    for event in pending or []:
        try:
            bus.publish(f"kiroshi.events.{event['topic']}", event["payload"], msg_id=record_key(event["id"]))
        except Exception as exc:  # any bus failure: keep the event for the next relay
            log.warning("event bus unavailable, %d events stay pending: %s", len(pending) - len(published), exc)
            break
        published.append(event["id"])
    if published:
        db.query("UPDATE $ids SET published_at = time::now()", {"ids": published})
    return len(published)
