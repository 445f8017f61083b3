"""Attempt limits per account and per client address, on the shared cache."""

from __future__ import annotations

from lib.cache import Cache
from lib.errors import RateLimited

__all__ = ["Throttle"]


class Throttle:
    """A fixed-window limit: at most `limit` attempts per `window` seconds per key.

    Every attempt is counted before it is tried, atomically, so N parallel attempts can never
    get more than `limit` through.
    """

    def __init__(self, cache: Cache, name: str, limit: int, window: int) -> None:
        self._cache = cache
        self._prefix = f"throttle:{name}:"
        self._limit = limit
        self._window = window

    def attempt(self, key: str) -> None:
        """Count an attempt; raise RateLimited (with Retry-After) once over the limit."""
        count, retry_after = self._cache.hit(self._prefix + key, self._window)
        if count > self._limit:
            raise RateLimited(retry_after)

    def refund(self, key: str) -> None:
        """Give back an attempt that turned out legitimate (a correct password)."""
        self._cache.unhit(self._prefix + key)
