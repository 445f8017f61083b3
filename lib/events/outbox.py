"""Domain events written in the same transaction as the change, published after commit.

The database is the truth; the bus is a notifier. A write names its events (Database.write); after
each request the `Outbox` publishes them, at once or, in a process that runs `relay_forever`, in the
background. An event whose publish fails stays pending and goes out with the next relay, with its
record id as `msg_id` so that redeliveries de-duplicate. Only requests whose writes committed
events relay: a relay is a database query. A published event leaves the outbox (JetStream keeps
it, for KIROSHI_EVENTS_MAX_AGE_DAYS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from lib.db.connection import Database
from lib.db.records import record_key
from lib.events import EventBus

__all__ = ["Outbox", "relay_outbox"]

log = logging.getLogger("kiroshi.events")


class Outbox:
    """Publishes what writes left in the outbox."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db, self.bus = db, bus
        self._wake: Callable[[], None] | None = None  # set while relay_forever runs

    def after_request(self) -> None:
        """Publish the events that writes committed (a bus that is down leaves them pending)."""
        if not self.db.take_events_written():
            return
        if self._wake is not None:
            self._wake()
            return
        try:
            relay_outbox(self.db, self.bus)
        except Exception:  # events stay in the outbox; the next write relays them
            log.exception("outbox relay failed")

    async def relay_forever(self, interval: float) -> None:
        """Publish in the background from now on: when a request wrote events, and every
        `interval` seconds (events written while the bus was down go out once it is back)."""
        loop, wake = asyncio.get_running_loop(), asyncio.Event()

        def wake_up() -> None:
            loop.call_soon_threadsafe(wake.set)

        self._wake = wake_up
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=interval)
                wake.clear()
                try:
                    while await loop.run_in_executor(None, relay_outbox, self.db, self.bus):
                        pass
                except Exception:  # the database or the bus is down: try again on the next round
                    log.warning("outbox relay failed; retrying", exc_info=True)
        finally:
            self._wake = None


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
    if published:  # deleted, not kept: the engine holds every stored row in memory (README, Operations)
        db.query("DELETE $ids", {"ids": published})
    return len(published)
