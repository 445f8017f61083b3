"""One event loop on a daemon thread, for sync front doors (functions-framework, Lambda, tests)
that serve coroutine handlers: the model client stays on a single loop across requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_coroutine"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="kiroshi-async", daemon=True).start()
        return _loop


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on the background loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, _background_loop()).result()
