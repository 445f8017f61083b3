"""The in-process bus remembers the message ids it delivered, to drop redeliveries, but only the
latest 10,000: a process that publishes for months keeps no more."""

from __future__ import annotations

from typing import Any

from lib.events import MemoryBus


def test_the_ids_kept_for_de_duplication_are_bounded_the_oldest_going_first() -> None:
    bus, seen = MemoryBus(), []

    def deliver(_subject: str, payload: dict[str, Any]) -> None:
        seen.append(payload["n"])

    bus.subscribe("kiroshi.events.t", deliver)
    for n in range(10_050):
        bus.publish("kiroshi.events.t", {"n": n}, msg_id=f"event-{n}")
    bus.publish("kiroshi.events.t", {"n": 10_049}, msg_id="event-10049")  # a redelivery: dropped
    bus.publish("kiroshi.events.t", {"n": 0}, msg_id="event-0")  # long forgotten: delivered again

    assert len(bus._seen) == 10_000
    assert seen == [*range(10_050), 0]
