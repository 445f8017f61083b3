"""In-process cache: a dict behind a lock. Every entry expires; expired entries are evicted as time
passes (a heap of expiry times, swept on every write), not only when read again, and the number of
entries is bounded: past `max_entries`, the entries nearest their expiry go first."""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable

__all__ = ["MAX_ENTRIES", "MemoryCache"]

MAX_ENTRIES = 100_000  # ~35 MB of short keys at most


class MemoryCache:
    adapter = "memory"

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}
        # (expiry, key) for every entry, in a heap; one whose key was since re-set or removed is stale.
        self._expiries: list[tuple[float, str]] = []
        self._max_entries = max_entries
        self._now = monotonic

    def size(self) -> int:
        """Entries held, the expired ones that no write has swept yet included. (Not `__len__`: an
        empty cache must stay truthy, `cache or default` is an idiom here.)"""
        with self._lock:
            return len(self._values)

    def _store(self, key: str, value: str, expires: float, now: float) -> None:
        entry = self._values.get(key)
        self._values[key] = (value, expires)
        if entry is None or entry[1] != expires:
            heapq.heappush(self._expiries, (expires, key))
        self._sweep(now, key)

    def _sweep(self, now: float, written: str) -> None:
        """Evict what has expired, then, past the bound, what expires soonest (but the entry just
        written: a new throttling window must count its hits)."""
        heap, values = self._expiries, self._values
        kept = None
        while heap and (heap[0][0] <= now or len(values) > self._max_entries):
            expires, key = heapq.heappop(heap)
            entry = values.get(key)
            if entry is None or entry[1] != expires:
                continue  # stale
            if key == written and expires > now:
                kept = (expires, key)
                continue
            del values[key]
        if kept is not None:
            heapq.heappush(heap, kept)
        if len(heap) > 2 * len(values) + 1024:  # mostly stale (values re-set, taken): rebuild
            self._expiries = [(expires, key) for key, (_, expires) in values.items()]
            heapq.heapify(self._expiries)

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
            self._store(key, str(count), expires, now)
            return count, max(1, math.ceil(expires - now - 1e-6))  # not 61 s for a 60 s window (float sums)

    def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        with self._lock:
            now = self._now()
            entry = self._live(key, now)
            value, expires = (int(entry[0]) + amount, entry[1]) if entry else (amount, now + ttl_seconds)
            self._store(key, str(value), expires, now)
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
            now = self._now()
            self._store(key, value, now + ttl_seconds, now)
