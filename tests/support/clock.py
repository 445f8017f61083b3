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


class StoppedClock:
    """A clock that stands still at `at` (epoch seconds) until a test moves it: for what must
    happen exactly at an instant (a token's `exp`, a period's end), which a clock that follows
    real time cannot hit. It can stand in for MovableClock in the `clock` fixture."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, dt.UTC)

    def seconds(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds

    def monotonic(self) -> float:
        return self.at
