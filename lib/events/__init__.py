"""The event interface: publish to a subject, subscribe with a callback.

`MemoryBus` delivers within one process; the NATS adapter delivers across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from lib.events.memory import MemoryBus

__all__ = ["EventBus", "Handler", "MemoryBus"]

Handler = Callable[[str, dict[str, Any]], None]


class EventBus(Protocol):
    adapter: str

    def publish(self, subject: str, payload: dict[str, Any], *, msg_id: str | None = None) -> None:
        """Deliver `payload` to the subject's subscribers; `msg_id` de-duplicates redeliveries."""
        ...

    def subscribe(self, subject: str, handler: Handler) -> Callable[[], None]:
        """Call `handler(subject, payload)` for each message; returns an unsubscribe function."""
        ...
