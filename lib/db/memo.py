"""A read-through cache for a database that this process alone writes (the embedded one).

Entries are grouped by owner (a user id). Writers invalidate their owner *after* the write; a
reader stores what it loaded only if no invalidation of that owner happened since it started,
so a read racing a write can never leave a stale entry behind.

Bounded: at most `max_entries` values (past it, every value is dropped and reloaded on demand)
and at most `max_entries` owners' write generations (past it, they are forgotten together and
every load or write in flight is treated as racing one: not kept).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MAX_ENTRIES", "Memo"]

T = TypeVar("T")
_MISSING = object()
MAX_ENTRIES = 10_000  # principals, live contracts and usage totals: ~2 KB a principal, ~19 MB in all


class Memo:
    def __init__(self, *, enabled: bool, max_entries: int = MAX_ENTRIES) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._entries: dict[str, dict[Any, Any]] = {}
        # Generations come from one counter, so none is ever reused: an owner forgotten (the
        # bound) reads as `_floor`, newer than anything handed out before.
        self._counter = itertools.count(1)
        self._generations: dict[str, int] = {}
        self._floor = 0
        self._size = 0
        self._max = max_entries

    def size(self) -> int:
        """Values held."""
        return self._size

    def owners(self) -> int:
        """Owners whose write generation is remembered."""
        return len(self._generations)

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
            generation = self._generation(owner)
        value = loader()
        with self._lock:
            if self._generation(owner) == generation:
                self._keep(owner, key, value)
        return value

    def invalidate(self, owner: str, key: Any = None) -> None:
        """Forget `owner`'s entry `key` (every entry when None); call it after the write committed.

        Loads of `owner` in flight are not stored either way (conservative, never stale).
        """
        if not self.enabled:
            return
        with self._lock:
            self._advance(owner)
            if key is None:
                self._size -= len(self._entries.pop(owner, {}))
            else:
                self._drop(owner, key)

    def generation(self, owner: str) -> int:
        """Read before a write; hand to `replace` after it."""
        with self._lock:
            return self._generation(owner)

    def replace(self, owner: str, key: Any, value: Any, generation: int) -> None:
        """After a write that returned the new `value` of `owner`'s entry `key`: keep it, unless
        another write of `owner` invalidated since `generation` (then forget the entry, as
        `invalidate` would). Loads of `owner` in flight are not stored either way."""
        if not self.enabled:
            return
        with self._lock:
            current = self._generation(owner)
            self._advance(owner)
            if current == generation:
                self._keep(owner, key, value)
            else:
                self._drop(owner, key)

    # -- under the lock ------------------------------------------------------------------------

    def _generation(self, owner: str) -> int:
        return self._generations.get(owner, self._floor)

    def _advance(self, owner: str) -> None:
        if owner not in self._generations and len(self._generations) >= self._max:
            self._generations.clear()
            self._floor = next(self._counter)
        self._generations[owner] = next(self._counter)

    def _keep(self, owner: str, key: Any, value: Any) -> None:
        entries = self._entries.get(owner)
        if entries is None or key not in entries:
            if self._size >= self._max:
                self._entries.clear()
                self._size = 0
            entries = self._entries.setdefault(owner, {})
            self._size += 1
        entries[key] = value

    def _drop(self, owner: str, key: Any) -> None:
        entries = self._entries.get(owner)
        if entries is not None and entries.pop(key, _MISSING) is not _MISSING:
            self._size -= 1
            if not entries:
                del self._entries[owner]
