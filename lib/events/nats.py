"""The event bus on NATS (nats-py), chosen by KIROSHI_NATS_URL.

Domain events (`kiroshi.events.>`) go to a JetStream stream with `Nats-Msg-Id` de-duplication and
are acknowledged before `publish` returns; other subjects are core NATS signals between instances
(revocations, stop). The client runs on its own event loop thread, so sync and async callers
share it; it reconnects forever, and `publish` fails fast while it is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import nats
import orjson
from nats.js.api import StreamConfig

__all__ = ["NatsBus"]

log = logging.getLogger("kiroshi.events")

STREAM = "KIROSHI_EVENTS"
EVENTS = "kiroshi.events."
ACK_TIMEOUT_SECONDS = 2.0


class BusUnavailable(ConnectionError):
    """NATS is not connected (the outbox keeps the event for later)."""


class NatsBus:
    adapter = "nats"

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="kiroshi-nats", daemon=True).start()
        self._nc: Any = self._run(self._connect(url), timeout=None)
        self._stream_ready = False

    def _run(self, coroutine: Any, timeout: float | None = ACK_TIMEOUT_SECONDS) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self, url: str) -> Any:
        return await nats.connect(
            url,
            name="kiroshi",
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            retry_on_failed_connect=True,
            connect_timeout=2,
            error_cb=self._on_error,
        )

    async def _on_error(self, error: Exception) -> None:
        log.warning("nats: %s", error)

    async def _publish(self, subject: str, data: bytes, msg_id: str | None) -> None:
        if not self._nc.is_connected:
            raise BusUnavailable("NATS is not connected")
        if not subject.startswith(EVENTS):
            await self._nc.publish(subject, data)
            return
        js = self._nc.jetstream(timeout=ACK_TIMEOUT_SECONDS)
        if not self._stream_ready:
            await js.add_stream(StreamConfig(name=STREAM, subjects=[f"{EVENTS}>"], duplicate_window=600.0))
            self._stream_ready = True
        await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id} if msg_id else None)

    def publish(self, subject: str, payload: dict[str, Any], *, msg_id: str | None = None) -> None:
        """Raises BusUnavailable (or a timeout) when NATS cannot take the message now."""
        self._run(self._publish(subject, orjson.dumps(payload), msg_id), timeout=ACK_TIMEOUT_SECONDS + 1)

    def subscribe(self, subject: str, handler: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        async def deliver(message: Any) -> None:
            try:
                handler(message.subject, orjson.loads(message.data))
            except Exception:  # a subscriber's bug must not stop the subscription
                log.exception("event handler failed for %s", message.subject)

        subscription = self._run(self._nc.subscribe(subject, cb=deliver), timeout=None)

        def unsubscribe() -> None:
            if self._nc.is_connected:
                self._run(subscription.unsubscribe())

        return unsubscribe

    def ping(self) -> None:
        if not self._nc.is_connected:
            raise BusUnavailable("NATS is not connected")
        self._run(self._nc.flush(timeout=1))

    def close(self) -> None:
        self._run(self._nc.drain(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
