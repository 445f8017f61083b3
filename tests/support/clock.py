"""A clock that follows real time plus an offset that tests move forward."""

from __future__ import annotations

import datetime as dt
import time


class MovableClock:
    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def seconds(self) -> float:
        return time.time() + self.offset.total_seconds()

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)

    def monotonic(self) -> float:
        """For the in-process cache: real monotonic time plus the same offset."""
        return time.monotonic() + self.offset.total_seconds()
