"""In-process event bus: synchronous fan-out to subscribers, with message-id de-duplication."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["MemoryBus"]

log = logging.getLogger("kiroshi.events")


class MemoryBus:
    adapter = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Callable[[str, dict[str, Any]], None]]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    def publish(self, subject: str, payload: dict[str, Any], *, msg_id: str | None = None) -> None:
        with self._lock:
            if msg_id is not None:
                if msg_id in self._seen:
                    return
                self._seen[msg_id] = None
                if len(self._seen) > 10_000:
                    self._seen.popitem(last=False)
            handlers = list(self._handlers.get(subject, ()))
        for handler in handlers:
            try:
                handler(subject, payload)
            except Exception:  # a subscriber's bug must not fail the publisher
                log.exception("event handler failed for %s", subject)

    def subscribe(self, subject: str, handler: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        with self._lock:
            self._handlers.setdefault(subject, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                self._handlers[subject].remove(handler)

        return unsubscribe
