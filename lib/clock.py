"""Time, injectable: everything that needs "now" takes a Clock."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

__all__ = ["Clock", "utc_now"]

Clock = Callable[[], dt.datetime]


utc_now: Clock = functools.partial(dt.datetime.now, dt.UTC)  # one C call: read on every request
