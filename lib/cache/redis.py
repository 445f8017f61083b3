"""Redis (redis-py), shared by every Kiroshi process, chosen by KIROSHI_REDIS_URL: the cache, and
the reply streams that let a chat client resume on any instance."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import redis
import redis.asyncio as redis_asyncio

from lib.errors import ServiceUnavailable

__all__ = ["RedisCache", "RedisReplay"]

log = logging.getLogger("kiroshi.cache")

T = TypeVar("T")

# INCR, then set the window's expiry only on the first hit: atomic in Redis.
_HIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""
_UNHIT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


def _unavailable(method: Callable[..., T]) -> Callable[..., T]:
    """Redis down is a 503 for the request that needed it, never a 500."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            log.warning("redis unavailable: %s", exc)
            raise ServiceUnavailable("the cache is unavailable", code="cache_unavailable") from exc

    return wrapper


class RedisCache:
    adapter = "redis"

    def __init__(self, url: str) -> None:
        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1, health_check_interval=30, decode_responses=True
        )
        self._hit = self._redis.register_script(_HIT)
        self._unhit = self._redis.register_script(_UNHIT)

    @_unavailable
    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        count, ttl = self._hit(keys=[key], args=[window_seconds, 1])
        return int(count), max(1, int(ttl))

    @_unavailable
    def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        count, _ = self._hit(keys=[key], args=[ttl_seconds, amount])
        return int(count)

    @_unavailable
    def unhit(self, key: str) -> None:
        self._unhit(keys=[key], args=[])

    @_unavailable
    def reset(self, key: str) -> None:
        self._redis.delete(key)

    @_unavailable
    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        return None if value is None else str(value)

    @_unavailable
    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._redis.set(key, value, ex=ttl_seconds)

    @_unavailable
    def take(self, key: str) -> str | None:
        value = self._redis.getdel(key)
        return None if value is None else str(value)

    @_unavailable
    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()


STREAM_TTL_SECONDS = 300
FOLLOW_IDLE_SECONDS = 120


class RedisReplay:
    """Reply frames in a Redis stream per chat (`reply:<chat_id>`), for resumes on any instance."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Any = None
        self._queues: dict[str, asyncio.Queue[tuple[str, str]]] = {}
        self._writers: set[asyncio.Task[None]] = set()

    def _redis(self) -> Any:
        if self._client is None:  # created on the event loop that uses it
            self._client = redis_asyncio.Redis.from_url(self._url, decode_responses=True)
        return self._client

    def start(self, chat_id: str) -> None:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._queues[chat_id] = queue
        writer = asyncio.create_task(self._write(f"reply:{chat_id}", queue))
        self._writers.add(writer)
        writer.add_done_callback(self._writers.discard)

    def push(self, chat_id: str, frame: str) -> None:
        self._queues[chat_id].put_nowait(("delta", frame))

    def finish(self, chat_id: str, frame: str) -> None:
        queue = self._queues.pop(chat_id, None)
        if queue is not None:
            queue.put_nowait(("end", frame))

    async def _write(self, key: str, queue: asyncio.Queue[tuple[str, str]]) -> None:
        """Append frames in order, a batch per round trip, until the final one."""
        client = self._redis()
        try:
            await client.delete(key)
            ended = False
            while not ended:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                async with client.pipeline(transaction=False) as pipe:
                    for kind, frame in batch:
                        pipe.xadd(key, {"f": frame, "k": kind})
                        ended = ended or kind == "end"
                    pipe.expire(key, STREAM_TTL_SECONDS)
                    await pipe.execute()
        except redis.RedisError as exc:  # resumes elsewhere lose this reply; the local one goes on
            log.warning("reply stream %s: %s", key, exc)

    async def follow(self, chat_id: str, after: int) -> AsyncIterator[str]:
        client, key, last = self._redis(), f"reply:{chat_id}", "0-0"
        index = -1
        deadline = time.monotonic() + FOLLOW_IDLE_SECONDS
        while time.monotonic() < deadline:
            answer = await client.xread({key: last}, count=500, block=1000)
            for _, entries in answer or ():
                for entry_id, fields in entries:
                    last, deadline = entry_id, time.monotonic() + FOLLOW_IDLE_SECONDS
                    if fields["k"] == "end":
                        yield fields["f"]
                        return
                    index += 1
                    if index > after:
                        yield fields["f"]
            if not answer and index < 0 and not await client.exists(key):
                return

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
