"""The in-process cache stays small for months: expired entries leave even when nobody reads them
again, and the number of entries has a ceiling."""

from __future__ import annotations

import tracemalloc

from lib.cache import MemoryCache
from lib.config import Settings
from lib.services import create_services
from tests.support.clock import MovableClock


def test_expired_entries_are_evicted_without_being_read_again(clock: MovableClock) -> None:
    cache = MemoryCache(monotonic=clock.monotonic)
    for n in range(1000):  # throttling counters of addresses never seen again, tickets never used
        cache.hit(f"throttle:login:10.0.{n // 256}.{n % 256}", 60)
        cache.set(f"ticket:{n}", "payload", 60)
        cache.add(f"reserved:{n}", 5, 120)
    assert cache.size() == 3000

    clock.advance(61)
    cache.set("chat-session:new", "u|c", 3600)
    assert cache.size() == 1001  # the tickets and counters are gone; the reservations have a minute left

    clock.advance(60)
    cache.hit("throttle:login:10.9.9.9", 60)
    assert cache.size() == 2
    assert cache.get("chat-session:new") == "u|c"


def test_the_number_of_entries_is_bounded_and_the_nearest_expiry_goes_first(clock: MovableClock) -> None:
    cache = MemoryCache(monotonic=clock.monotonic, max_entries=100)
    cache.set("session", "long-lived", 3600)
    for n in range(1000):
        cache.set(f"ticket:{n}", "t", 60 + n % 50)

    assert cache.size() == 100
    assert cache.get("session") == "long-lived"
    assert cache.get("ticket:49") == "t"  # among the latest to expire
    assert cache.get("ticket:0") is None


def test_a_new_entry_survives_its_own_write_at_the_bound(clock: MovableClock) -> None:
    """A throttling window opened when the cache is full still counts its hits."""
    cache = MemoryCache(monotonic=clock.monotonic, max_entries=10)
    for n in range(10):
        cache.set(f"session:{n}", "s", 3600)

    assert cache.hit("throttle:register:10.0.0.1", 60) == (1, 60)
    assert cache.hit("throttle:register:10.0.0.1", 60) == (2, 60)
    assert cache.size() == 10


def test_memory_levels_off_under_churn(clock: MovableClock) -> None:
    """Tickets issued and taken, values re-set with new expiries: what they leave behind is swept."""
    cache = MemoryCache(monotonic=clock.monotonic)

    def churn(rounds: int) -> None:
        for n in range(rounds):
            clock.advance(0.01)
            cache.set(f"ticket:{n}", "payload" * 10, 60)
            cache.take(f"ticket:{n}")
            cache.set("chat-session:one", "u|c", 3600)  # re-set: a new expiry each time
            cache.hit(f"throttle:{n % 500}", 60)

    churn(5_000)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    churn(50_000)
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()

    assert cache.size() <= 501
    assert grown < 1 << 20, f"{grown} bytes more after 50,000 more rounds"  # a leak: ~4 MB


def test_a_process_takes_its_bounds_from_the_settings(settings: Settings) -> None:
    services = create_services(settings.with_(cache_entries=1000, memo_entries=100))
    try:
        assert isinstance(services.cache, MemoryCache)
        for i in range(1500):
            services.cache.set(f"ticket:{i}", "v", 60)
        for i in range(150):
            services.db.memo.load(f"user{i}", "k", lambda: "v")
        assert services.cache.size() == 1000
        assert services.db.memo.size() <= 100
    finally:
        services.close()
