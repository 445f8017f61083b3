"""Domain events written in the same transaction as the change, published after commit.

The database is the truth; the bus is a notifier. An event whose publish fails stays pending and
is published by the next relay, with its record id as `msg_id` so that redeliveries de-duplicate.

A request relays only if it wrote an event (`outbox_params` marks its context): most writes (a
login's `last_login_at`, a profile edit) write none, and a relay is a database query.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from lib.db.connection import Database
from lib.db.records import record_key
from lib.events import EventBus

__all__ = ["OUTBOX_STATEMENT", "outbox_params", "relay_outbox", "take_written"]

log = logging.getLogger("kiroshi.events")

OUTBOX_STATEMENT = (
    "CREATE event_outbox CONTENT {topic: $event_topic, payload: $event_payload, created_at: time::now()};"
)


_written: contextvars.ContextVar[bool] = contextvars.ContextVar("kiroshi_outbox_written", default=False)


def outbox_params(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters OUTBOX_STATEMENT expects. Marks the current request as one that writes an
    event (if its write then fails, the relay finds nothing: harmless)."""
    _written.set(True)
    return {"event_topic": topic, "event_payload": payload}


def take_written() -> bool:
    """Whether this context built an event write since the last call; clears the mark."""
    if not _written.get():
        return False
    _written.set(False)
    return True


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
