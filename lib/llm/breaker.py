"""A circuit breaker for one model server: a dead server costs one fast failure, not a timeout
per request.

Closed, it lets every call through and counts consecutive failures; at `threshold` it opens.
Open, for `cool_down_seconds`, every call fails at once, without the network, with the kind of
failure that opened it (same class, same code). Then half-open: one call goes through as the
probe while the others still fail fast; the probe's success closes the breaker, its failure
opens it for another cool-down. A probe that ends with no verdict (cancelled) lets the next
call probe.

The state is guarded by a lock and no method awaits: safe across threads and tasks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from lib.errors import BadGateway

__all__ = ["Breaker"]

log = logging.getLogger("kiroshi.llm")


class Breaker:
    def __init__(
        self,
        name: str,
        threshold: int = 5,
        cool_down_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cool_down_seconds <= 0:
            raise ValueError("a breaker opens after at least 1 failure, for a positive cool-down")
        self.name, self.threshold, self.cool_down_seconds = name, threshold, cool_down_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None  # None: closed
        self._probing = False
        self._cause: tuple[type[BadGateway], str, str] = (BadGateway, BadGateway.default_detail, "upstream_error")

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open" (for health and metrics)."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self._clock() - self._opened_at < self.cool_down_seconds else "half-open"

    def admit(self) -> bool:
        """Let a call through; True when it is the half-open probe (report it with `settle_probe`
        once it has ended). Raises the failure that opened the breaker, fresh, when it is open."""
        with self._lock:
            if self._opened_at is None:
                return False
            if not self._probing and self._clock() - self._opened_at >= self.cool_down_seconds:
                self._probing = True
                return True
            kind, detail, code = self._cause
        raise kind(detail, code=code)

    def succeeded(self) -> None:
        """The server answered: close the breaker, forget the failures."""
        with self._lock:
            if self._opened_at is not None:
                log.info("model server %s answers again: circuit closed", self.name)
            self._failures, self._opened_at, self._probing = 0, None, False

    def failed(self, failure: BadGateway) -> None:
        """The server failed: count it; open (again) at the threshold or when the probe failed."""
        with self._lock:
            self._failures += 1
            if self._opened_at is None and self._failures < self.threshold:
                return
            if self._opened_at is None:
                log.warning(
                    "model server %s failed %d times in a row: circuit open for %gs (%s)",
                    self.name,
                    self._failures,
                    self.cool_down_seconds,
                    failure.code,
                )
            self._opened_at, self._probing = self._clock(), False
            self._cause = (type(failure), failure.detail, failure.code)  # not the failure: its traceback holds frames

    def settle_probe(self) -> None:
        """The probe ended, whatever its verdict: a later call may probe if none was given."""
        with self._lock:
            self._probing = False
