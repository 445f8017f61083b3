"""The cache interface: counters with a window, and short-lived values.

`MemoryCache` is correct for one process; the Redis adapter shares state between processes.
"""

from __future__ import annotations

from typing import Protocol

from lib.cache.memory import MemoryCache

__all__ = ["Cache", "MemoryCache"]


class Cache(Protocol):
    adapter: str

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one more hit on `key`; return (hits in the current window, seconds left in it).

        Atomic: N concurrent calls return N distinct counts.
        """
        ...

    def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        """Add `amount` (may be negative) to the integer at `key`, atomically; return the new value.
        The key expires `ttl_seconds` after it was created."""
        ...

    def unhit(self, key: str) -> None:
        """Take back one hit of the current window (never below zero; no-op without a window)."""
        ...

    def reset(self, key: str) -> None: ...

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def take(self, key: str) -> str | None:
        """Get and delete, atomically: a value taken once is gone for every other caller."""
        ...
