"""Nothing kept in Redis or NATS grows without end: every Redis key Kiroshi writes has a TTL, and the
JetStream stream of domain events has an age and a size limit, set on a new stream and on an old one."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

from tests.integration.conftest import NATS_URL, REDIS_URL, need

pytestmark = pytest.mark.integration

DAY = 86_400.0


def test_every_redis_key_expires(key: str) -> None:
    need(REDIS_URL, "KIROSHI_TEST_REDIS_URL")
    import redis

    from lib.cache.redis import STREAM_TTL_SECONDS, RedisCache, RedisReplay

    cache, raw = RedisCache(REDIS_URL), redis.Redis.from_url(REDIS_URL)
    chat = f"test-{secrets.token_hex(4)}"
    try:
        cache.hit(f"{key}:hit", 60)  # throttling windows
        cache.add(f"{key}:add", 7, 600)  # quota reservations, "reply running" marks
        cache.set(f"{key}:set", "ticket", 30)  # tickets, session tokens
        cache.unhit(f"{key}:hit")
        cache.add(f"{key}:add", -7, 600)

        async def reply() -> None:  # a reply's frames, for a resume on another instance
            replay = RedisReplay(REDIS_URL)
            replay.start(chat)
            replay.push(chat, '{"type":"delta"}')
            replay.finish(chat, '{"type":"done"}')
            await asyncio.sleep(0.3)
            await replay.close()

        asyncio.run(reply())
        ttls = {name: raw.ttl(name) for name in (f"{key}:hit", f"{key}:add", f"{key}:set", f"reply:{chat}")}
    finally:
        raw.delete(f"{key}:hit", f"{key}:add", f"{key}:set", f"reply:{chat}")
        raw.close()
        cache.close()
    assert 0 < ttls[f"{key}:hit"] <= 60
    assert 0 < ttls[f"{key}:add"] <= 600
    assert 0 < ttls[f"{key}:set"] <= 30
    assert 0 < ttls[f"reply:{chat}"] <= STREAM_TTL_SECONDS


async def _config(js: Any, name: str) -> Any:
    return (await js.stream_info(name)).config


def test_the_events_stream_gets_its_limits_when_created_and_when_it_exists() -> None:
    """On a stream of its own (the shared KIROSHI_EVENTS one is left to the next test)."""
    need(NATS_URL, "KIROSHI_TEST_NATS_URL")
    import nats
    from nats.js.api import StreamConfig

    from lib.events.nats import ensure_stream

    name, subjects = f"KIROSHI_TEST_{secrets.token_hex(4)}", [f"kiroshi-test.{secrets.token_hex(4)}.>"]

    async def scenario() -> tuple[Any, Any, Any]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            await js.add_stream(StreamConfig(name=name, subjects=subjects, duplicate_window=120.0))  # as of old
            await ensure_stream(js, name, subjects, max_age_days=7, max_bytes=5 << 20)
            updated = await _config(js, name)
            await js.delete_stream(name)
            await ensure_stream(js, name, subjects, max_age_days=30, max_bytes=1 << 30)
            created = await _config(js, name)
            await ensure_stream(js, name, subjects, max_age_days=30, max_bytes=1 << 30)  # no change: no update
            again = await _config(js, name)
            return updated, created, again
        finally:
            await js.delete_stream(name)
            await nc.close()

    updated, created, again = asyncio.run(scenario())
    assert (updated.max_age, updated.max_bytes) == (7 * DAY, 5 << 20)
    assert updated.duplicate_window == 120.0  # what the limits do not concern stays
    assert (created.max_age, created.max_bytes, created.duplicate_window) == (30 * DAY, 1 << 30, 600.0)
    assert again == created


def test_the_bus_applies_the_configured_limits_to_kiroshi_events() -> None:
    need(NATS_URL, "KIROSHI_TEST_NATS_URL")
    import nats

    from lib.config import load_settings
    from lib.events.nats import STREAM, NatsBus

    settings = load_settings({"KIROSHI_DATA_DIR": "/nonexistent", "KIROSHI_JWT_SECRET": "s" * 40})
    bus = NatsBus(NATS_URL, max_age_days=settings.events_max_age_days, max_bytes=settings.events_max_bytes)
    try:

        async def config() -> Any:
            nc = await nats.connect(NATS_URL)
            try:
                return await _config(nc.jetstream(), STREAM)
            finally:
                await nc.close()

        live = asyncio.run(config())
    finally:
        bus.close()
    assert (live.max_age, live.max_bytes) == (30 * DAY, 1 << 30)  # the defaults, set at connect
