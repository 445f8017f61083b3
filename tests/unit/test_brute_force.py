"""Brute force and enumeration: the configured number of guesses per window and no more; a locked
account answers a right and a wrong password alike; unknown and known e-mails answer alike, in
the same time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from lib.services import Services
from tests.support.client import PASSWORD, Client


def test_two_hundred_sequential_guesses_get_exactly_the_limit_through(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=100))
    client.register("victim@example.com")

    statuses = [client.login("victim@example.com", f"guess {i:04d} !!").status for i in range(200)]

    assert statuses[:100] == [401] * 100
    assert statuses[100:] == [429] * 100


def test_parallel_guesses_never_beat_the_limit(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=100))
    client.register("victim@example.com")

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda i: client.login("victim@example.com", f"guess {i:04d} !!").status, range(200)))

    assert statuses.count(401) == 100
    assert statuses.count(429) == 100


def test_a_locked_account_answers_the_right_password_like_a_wrong_one(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=3))
    client.register("victim@example.com")
    for i in range(3):
        client.login("victim@example.com", f"guess {i} wrong")

    right, wrong = client.login("victim@example.com", PASSWORD), client.login("victim@example.com", "still wrong!")

    assert right.status == wrong.status == 429
    assert right.json == wrong.json
    assert right.headers["retry-after"] == wrong.headers["retry-after"]


def test_unknown_and_known_emails_take_the_same_time(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=10**6, login_max_failures_per_address=10**6))
    client.register("known@example.com")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(220):  # interleaved, so that machine noise hits both alike
        for kind, email in (("known", "known@example.com"), ("unknown", f"nobody{i}@example.com")):
            started = time.perf_counter()
            answer = client.login(email, "not the password")
            timings[kind].append(time.perf_counter() - started)
            assert answer.status == 401 and answer.json["code"] == "invalid_credentials"

    known, unknown = statistics.median(timings["known"][20:]), statistics.median(timings["unknown"][20:])
    assert abs(known - unknown) / max(known, unknown) < 0.10, (known, unknown)
