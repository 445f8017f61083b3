"""The event bus on NATS (nats-py), chosen by KIROSHI_NATS_URL.

Domain events (`kiroshi.events.>`) go to a JetStream stream with `Nats-Msg-Id` de-duplication and
are acknowledged before `publish` returns; the stream keeps them for a bounded age and size
(KIROSHI_EVENTS_MAX_AGE_DAYS, KIROSHI_EVENTS_MAX_BYTES), set when this process creates it and
brought to those values on an existing one; other subjects are core NATS signals between instances
(revocations, stop). The client runs on its own event loop thread, so sync and async callers
share it. It starts even when NATS is down, connects and reconnects forever (subscriptions follow),
and `publish` fails fast while it is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.js.api import DeliverPolicy, StreamConfig

__all__ = ["NatsBus"]

log = logging.getLogger("kiroshi.events")

STREAM = "KIROSHI_EVENTS"
EVENTS = "kiroshi.events."
ACK_TIMEOUT_SECONDS = 2.0
DAY_SECONDS = 86_400
DUPLICATE_WINDOW_SECONDS = 600.0


class BusUnavailable(ConnectionError):
    """NATS is not connected (the outbox keeps the event for later)."""


async def ensure_stream(js: Any, name: str, subjects: list[str], *, max_age_days: int, max_bytes: int) -> None:
    """Create the stream with these limits, or set them on the existing stream (its other settings,
    an operator's replicas say, stay as they are). Old messages go first when a limit is reached."""
    max_age = float(max_age_days * DAY_SECONDS)
    try:
        config = (await js.stream_info(name)).config
    except nats.js.errors.NotFoundError:
        limits = StreamConfig(
            name=name,
            subjects=subjects,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=max_age,
            max_bytes=max_bytes,
        )
        await js.add_stream(limits)
        return
    if (config.max_age, config.max_bytes) != (max_age, max_bytes):
        await js.update_stream(dataclasses.replace(config, max_age=max_age, max_bytes=max_bytes))
        log.info("nats: %s now keeps events %d days, at most %d bytes", name, max_age_days, max_bytes)


class NatsBus:
    adapter = "nats"

    def __init__(self, url: str, *, max_age_days: int = 30, max_bytes: int = 1 << 30) -> None:
        self._url = url
        self._limits = {"max_age_days": max_age_days, "max_bytes": max_bytes}
        self._nc: Any = None
        self._subscriptions: list[tuple[str, Any]] = []
        self._stream_ready = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="kiroshi-nats", daemon=True)
        self._thread.start()
        connecting = asyncio.run_coroutine_threadsafe(self._connect(), self._loop)
        with contextlib.suppress(TimeoutError):
            connecting.result(timeout=3)  # usually connected at once; if not, it keeps trying

    def _serve(self) -> None:
        self._loop.run_forever()
        self._loop.close()

    def _run(self, coroutine: Any, timeout: float | None = ACK_TIMEOUT_SECONDS) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> None:
        while self._nc is None:
            try:
                nc = await nats.connect(
                    self._url,
                    name="kiroshi",
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    error_cb=self._on_error,
                )
            except Exception as exc:
                log.warning("nats: cannot connect yet (%s)", exc)
                await asyncio.sleep(1)
                continue
            self._nc = nc
            for subject, callback in self._subscriptions:
                await self._subscribe(subject, callback)
            try:  # the stream's limits apply from the start, not from the first event
                await self._jetstream()
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("nats: stream %s not ready yet (%s)", STREAM, exc)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def _on_error(self, error: Exception) -> None:
        log.warning("nats: %s", error)

    async def _publish(self, subject: str, data: bytes, msg_id: str | None) -> None:
        if not self.connected:
            raise BusUnavailable("NATS is not connected")
        if not subject.startswith(EVENTS):
            await self._nc.publish(subject, data)
            return
        js = await self._jetstream()
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        try:
            await js.publish(subject, data, headers=headers)
        except nats.js.errors.NoStreamResponseError:  # a new or reset server: create the stream again
            self._stream_ready = False
            await (await self._jetstream()).publish(subject, data, headers=headers)

    async def _jetstream(self) -> Any:
        js = self._nc.jetstream(timeout=ACK_TIMEOUT_SECONDS)
        if not self._stream_ready:
            await ensure_stream(js, STREAM, [f"{EVENTS}>"], **self._limits)
            self._stream_ready = True
        return js

    async def _subscribe(self, subject: str, callback: Any) -> Any:
        """Domain events are read from the stream (de-duplicated, new ones only); signals are core."""
        if subject.startswith(EVENTS):
            js = await self._jetstream()
            return await js.subscribe(subject, cb=callback, deliver_policy=DeliverPolicy.NEW, manual_ack=False)
        return await self._nc.subscribe(subject, cb=callback)

    def publish(self, subject: str, payload: dict[str, Any], *, msg_id: str | None = None) -> None:
        """Raises BusUnavailable (or a timeout) when NATS cannot take the message now."""
        self._run(self._publish(subject, orjson.dumps(payload), msg_id), timeout=ACK_TIMEOUT_SECONDS + 1)

    def subscribe(self, subject: str, handler: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        async def deliver(message: Any) -> None:
            try:
                handler(message.subject, orjson.loads(message.data))
            except Exception:  # a subscriber's bug must not stop the subscription
                log.exception("event handler failed for %s", message.subject)

        async def register() -> Any:
            self._subscriptions.append((subject, deliver))
            return await self._subscribe(subject, deliver) if self._nc is not None else None

        subscription = self._run(register(), timeout=None)

        def unsubscribe() -> None:
            self._subscriptions[:] = [s for s in self._subscriptions if s[1] is not deliver]
            if subscription is not None and self.connected:
                self._run(subscription.unsubscribe())

        return unsubscribe

    def ping(self) -> None:
        if not self.connected:
            raise BusUnavailable("NATS is not connected")
        self._run(self._nc.flush(timeout=1))

    def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                self._run(self._nc.close(), timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
