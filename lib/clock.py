"""Time, injectable: everything that needs "now" takes a Clock."""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Protocol

__all__ = ["Clock", "utc_now"]


class Clock(Protocol):
    def __call__(self) -> dt.datetime:
        """Now, as an aware UTC datetime."""
        ...

    def seconds(self) -> float:
        """Now, as seconds since the epoch (`self().timestamp()` without making a datetime)."""
        ...


class _SystemClock:
    __slots__ = ()
    # Both are read on every request: one C call each (`now().timestamp()` costs ~5x `time.time()`).
    __call__ = staticmethod(functools.partial(dt.datetime.now, dt.UTC))
    seconds = staticmethod(time.time)


utc_now: Clock = _SystemClock()
