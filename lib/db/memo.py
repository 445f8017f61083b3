"""A read-through cache for a database that this process alone writes (the embedded one).

Entries are grouped by owner (a user id). Writers invalidate their owner *after* the write; a
reader stores what it loaded only if no invalidation of that owner happened since it started,
so a read racing a write can never leave a stale entry behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Memo"]

T = TypeVar("T")
_MISSING = object()


class Memo:
    def __init__(self, *, enabled: bool, max_entries: int = 100_000) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._entries: dict[str, dict[Any, Any]] = {}
        self._generations: dict[str, int] = {}
        self._size = 0
        self._max = max_entries

    def load(self, owner: str, key: Any, loader: Callable[[], T]) -> T:
        """The cached value, or `loader()` (stored unless `owner` was invalidated meanwhile)."""
        if not self.enabled:
            return loader()
        entries = self._entries.get(owner)  # a hit needs no lock: one dict read is atomic
        if entries is not None:
            value = entries.get(key, _MISSING)
            if value is not _MISSING:
                return value  # type: ignore[no-any-return]
        with self._lock:
            generation = self._generations.get(owner, 0)
        value = loader()
        with self._lock:
            if self._generations.get(owner, 0) == generation:
                if self._size >= self._max:
                    self._entries.clear()
                    self._size = 0
                self._entries.setdefault(owner, {})[key] = value
                self._size += 1
        return value

    def invalidate(self, owner: str, key: Any = None) -> None:
        """Forget `owner`'s entry `key` (every entry when None); call it after the write committed.

        Loads of `owner` in flight are not stored either way (conservative, never stale).
        """
        if not self.enabled:
            return
        with self._lock:
            self._generations[owner] = self._generations.get(owner, 0) + 1
            if key is None:
                self._size -= len(self._entries.pop(owner, {}))
            elif self._entries.get(owner, {}).pop(key, None) is not None:
                self._size -= 1

    def generation(self, owner: str) -> int:
        """Read before a write; hand to `replace` after it."""
        with self._lock:
            return self._generations.get(owner, 0)

    def replace(self, owner: str, key: Any, value: Any, generation: int) -> None:
        """After a write that returned the new `value` of `owner`'s entry `key`: keep it, unless
        another write of `owner` invalidated since `generation` (then forget the entry, as
        `invalidate` would). Loads of `owner` in flight are not stored either way."""
        if not self.enabled:
            return
        with self._lock:
            current = self._generations.get(owner, 0)
            self._generations[owner] = current + 1
            entries = self._entries.setdefault(owner, {})
            had = key in entries
            if current == generation:
                entries[key] = value
                self._size += not had
            elif had:
                del entries[key]
                self._size -= 1
