"""The circuit breaker of one model server: open after N consecutive failures, failing fast with
the failure that opened it; one probe at a time once the cool-down has passed."""

from __future__ import annotations

import threading

import pytest

from lib.errors import BadGateway, UpstreamTimeout, UpstreamUnreachable
from lib.llm.breaker import Breaker
from tests.support.clock import StoppedClock


def _breaker(threshold: int = 3, cool_down: float = 30) -> tuple[Breaker, StoppedClock]:
    clock = StoppedClock(500)
    return Breaker("up", threshold, cool_down, clock.monotonic), clock


def test_only_consecutive_failures_open_it() -> None:
    breaker, _ = _breaker(threshold=3)

    for failed in (True, True, False, True, True):
        breaker.admit()
        if failed:
            breaker.failed(UpstreamTimeout())
        else:
            breaker.succeeded()

    assert breaker.state == "closed"
    breaker.failed(UpstreamTimeout())
    assert breaker.state == "open"


def test_open_it_fails_fast_with_a_fresh_failure_of_the_kind_that_opened_it() -> None:
    breaker, clock = _breaker(threshold=1)
    breaker.failed(UpstreamUnreachable())

    with pytest.raises(UpstreamUnreachable) as fast:
        breaker.admit()

    assert (fast.value.code, fast.value.status, fast.value.__cause__) == ("upstream_unreachable", 502, None)
    clock.advance(29.999)
    with pytest.raises(UpstreamUnreachable):
        breaker.admit()


def test_after_the_cool_down_one_call_probes_while_the_others_still_fail_fast() -> None:
    breaker, clock = _breaker(threshold=1)
    breaker.failed(BadGateway("the model server answered 503"))
    clock.advance(30)
    assert breaker.state == "half-open"
    admitted: list[bool] = []
    refused: list[str] = []

    def call() -> None:
        try:
            admitted.append(breaker.admit())
        except BadGateway as fast:
            refused.append(fast.detail)

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert admitted == [True]
    assert refused == ["the model server answered 503"] * 31


@pytest.mark.parametrize(
    ("verdict", "state", "next_admit"),
    [
        ("succeeded", "closed", False),  # closed: calls go through, none is a probe
        ("failed", "open", "fails fast"),  # open for another cool-down
        ("no verdict", "half-open", True),  # cancelled: the next call probes
    ],
)
def test_what_the_probe_says_decides_the_state(verdict: str, state: str, next_admit: bool | str) -> None:
    breaker, clock = _breaker(threshold=2)
    breaker.failed(UpstreamTimeout())
    breaker.failed(UpstreamTimeout())
    clock.advance(31)
    assert breaker.admit() is True

    if verdict == "succeeded":
        breaker.succeeded()
    elif verdict == "failed":
        breaker.failed(UpstreamTimeout())
    breaker.settle_probe()

    assert breaker.state == state
    if next_admit == "fails fast":
        with pytest.raises(UpstreamTimeout):
            breaker.admit()
    else:
        assert breaker.admit() is next_admit


def test_a_breaker_needs_a_threshold_and_a_cool_down() -> None:
    with pytest.raises(ValueError, match="at least 1 failure"):
        Breaker("up", 0)
    with pytest.raises(ValueError, match="positive cool-down"):
        Breaker("up", 1, 0)
