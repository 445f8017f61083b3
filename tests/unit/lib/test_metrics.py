"""Request metrics: the plain-number collector writes what prometheus-client's own Counter and
Histogram would write for the same requests, from any number of threads."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from lib.metrics import REQUEST_BUCKETS, RequestStats

SERVED = [("users.me", 200, 0.0003), ("users.me", 401, 0.0007), ("users.login", 200, 0.03), ("users.me", 200, 3.0)]


def _samples(text: bytes) -> set[str]:
    return {line for line in text.decode().splitlines() if line and not line.startswith("#") and "_created" not in line}


def test_the_text_is_the_one_counter_and_histogram_write() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    stats = RequestStats()
    ours.register(stats)
    requests = Counter("kiroshi_requests_total", "-", ["route", "status"], registry=theirs)
    seconds = Histogram("kiroshi_request_seconds", "-", ["route"], buckets=REQUEST_BUCKETS, registry=theirs)

    for route, status, took in [*SERVED, ("users.me", 200, 0.0005), ("users.me", 200, 2.5)]:  # bounds included
        stats.count(route, status, took)
        requests.labels(route, str(status)).inc()
        seconds.labels(route).observe(took)

    assert _samples(generate_latest(ours)) == _samples(generate_latest(theirs))


def test_no_request_is_lost_between_threads() -> None:
    registry, stats = CollectorRegistry(), RequestStats()
    registry.register(stats)

    def serve() -> None:
        for _ in range(5_000):
            stats.count("users.me", 200, 0.0001)

    threads = [threading.Thread(target=serve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    text = generate_latest(registry).decode()
    assert 'kiroshi_requests_total{route="users.me",status="200"} 40000.0' in text
    assert 'kiroshi_request_seconds_count{route="users.me"} 40000.0' in text
