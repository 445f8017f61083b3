"""The same contract for the in-process adapters and the real ones (Redis, NATS)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_hits_count_atomically_within_a_window(cache: Any, key: str) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        counts = sorted(c for c, _ in pool.map(lambda _: cache.hit(key, 60), range(100)))

    assert counts == list(range(1, 101))
    assert 0 < cache.hit(key, 60)[1] <= 60


def test_unhit_takes_one_back_but_never_below_zero(cache: Any, key: str) -> None:
    cache.hit(key, 60)
    cache.unhit(key)
    cache.unhit(key)
    assert cache.hit(key, 60)[0] == 1


def test_add_is_an_atomic_counter(cache: Any, key: str) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: cache.add(key, 5 if i % 2 else -3, 60), range(100)))
    assert cache.add(key, 0, 60) == 50 * 5 - 50 * 3


def test_values_expire(cache: Any, key: str) -> None:
    cache.set(key, "v", 1)
    assert cache.get(key) == "v"
    time.sleep(1.2)
    assert cache.get(key) is None


def test_take_hands_a_value_to_exactly_one_caller(cache: Any, key: str) -> None:
    cache.set(key, "ticket", 60)
    with ThreadPoolExecutor(max_workers=16) as pool:
        taken = [v for v in pool.map(lambda _: cache.take(key), range(50)) if v is not None]
    assert taken == ["ticket"]


def test_reset_forgets(cache: Any, key: str) -> None:
    cache.hit(key, 60)
    cache.reset(key)
    assert cache.hit(key, 60)[0] == 1


def test_published_messages_reach_subscribers(bus: Any, key: str) -> None:
    received: list[dict[str, object]] = []
    arrived = threading.Event()

    def handler(_subject: str, payload: dict[str, object]) -> None:
        received.append(payload)
        arrived.set()

    unsubscribe = bus.subscribe(f"kiroshi.test.{key}", handler)
    bus.publish(f"kiroshi.test.{key}", {"n": 1})
    assert arrived.wait(5)
    unsubscribe()
    assert received == [{"n": 1}]


def test_domain_events_are_deduplicated_by_message_id(bus: Any, key: str) -> None:
    received: list[dict[str, object]] = []
    subject = f"kiroshi.events.test.{key.replace(':', '_')}"
    bus.subscribe(subject, lambda _s, payload: received.append(payload))

    for _ in range(3):
        bus.publish(subject, {"id": key}, msg_id=key)
    bus.publish(subject, {"id": "other"}, msg_id=f"{key}-2")
    time.sleep(0.5)

    assert received == [{"id": key}, {"id": "other"}]
