"""Real Redis and NATS, from KIROSHI_TEST_REDIS_URL / KIROSHI_TEST_NATS_URL (CI sets both and
requires them; without them these tests skip, saying why)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from lib.cache import MemoryCache
from lib.events import MemoryBus

REDIS_URL = os.environ.get("KIROSHI_TEST_REDIS_URL", "")
NATS_URL = os.environ.get("KIROSHI_TEST_NATS_URL", "")


def need(url: str, name: str) -> None:
    if not url:
        pytest.skip(f"{name} is unset: no real server to test against")


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryCache()
        return
    need(REDIS_URL, "KIROSHI_TEST_REDIS_URL")
    from lib.cache.redis import RedisCache

    yield RedisCache(REDIS_URL)


@pytest.fixture(params=["memory", "nats"])
def bus(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryBus()
        return
    need(NATS_URL, "KIROSHI_TEST_NATS_URL")
    from lib.events.nats import NatsBus

    real = NatsBus(NATS_URL)
    yield real
    real.close()


@pytest.fixture
def key() -> str:
    return f"test:{secrets.token_hex(6)}"
