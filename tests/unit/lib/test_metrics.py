"""Request metrics: the plain-number collector writes what prometheus-client's own Counter and
Histogram would write for the same requests, from any number of threads."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from functions.routes import ROUTES
from lib.db.records import new_id
from lib.metrics import REQUEST_BUCKETS, REQUEST_STATS, RequestStats
from lib.services import Services
from tests.support.client import Client

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


def test_request_series_are_bounded_by_the_route_table_whatever_the_paths(services: Services) -> None:
    registry = CollectorRegistry()
    registry.register(REQUEST_STATS)
    client = Client(services)
    user = client.account()

    def series() -> set[str]:
        return {line.split("}")[0] for line in _samples(generate_latest(registry)) if "kiroshi_requests_total" in line}

    client.get(f"/users/{user.user_id}", token=user.token)
    client.get(f"/users/{new_id()}", token=user.token)
    before = series()
    for _ in range(200):
        client.get(f"/users/{new_id()}", token=user.token)  # a new path each time, one route
        client.get(f"/no/such/endpoint/{new_id()}")

    after = series()
    assert after == before
    assert {label.split('route="')[1].split('"')[0] for label in after} <= {route.name for route in ROUTES}
