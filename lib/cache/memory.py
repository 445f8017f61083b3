"""In-process cache: a dict behind a lock, with expiry on read."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["MemoryCache"]


class MemoryCache:
    adapter = "memory"

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}
        self._now = monotonic

    def _live(self, key: str, now: float) -> tuple[str, float] | None:
        entry = self._values.get(key)
        if entry is not None and entry[1] <= now:
            del self._values[key]
            return None
        return entry

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        with self._lock:
            now = self._now()
            entry = self._live(key, now)
            count, expires = (int(entry[0]) + 1, entry[1]) if entry else (1, now + window_seconds)
            self._values[key] = (str(count), expires)
            return count, max(1, math.ceil(expires - now))

    def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        with self._lock:
            now = self._now()
            entry = self._live(key, now)
            value, expires = (int(entry[0]) + amount, entry[1]) if entry else (amount, now + ttl_seconds)
            self._values[key] = (str(value), expires)
            return value

    def unhit(self, key: str) -> None:
        with self._lock:
            entry = self._live(key, self._now())
            if entry is not None:
                self._values[key] = (str(max(0, int(entry[0]) - 1)), entry[1])

    def reset(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._live(key, self._now())
            return entry[0] if entry else None

    def take(self, key: str) -> str | None:
        with self._lock:
            entry = self._live(key, self._now())
            if entry is None:
                return None
            del self._values[key]
            return entry[0]

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._values[key] = (value, self._now() + ttl_seconds)
            if len(self._values) > 100_000:  # bound memory: drop what has expired
                now = self._now()
                self._values = {k: v for k, v in self._values.items() if v[1] > now}
