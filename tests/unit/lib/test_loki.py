from __future__ import annotations

import json

from lib.loki import LokiShipper
from tests.support.loki_receiver import LokiReceiver
from tests.support.runner import free_port


def test_lines_are_pushed_in_lokis_format_with_few_labels() -> None:
    receiver = LokiReceiver()
    shipper = LokiShipper(receiver.url, interval_seconds=3600)
    for i in range(3):
        shipper.ship("info", json.dumps({"msg": "request", "n": i}))
    shipper.ship("error", json.dumps({"msg": "boom"}))

    assert shipper.flush()

    streams = receiver.pushes[0]["streams"]
    assert {tuple(sorted(s["stream"].items())) for s in streams} == {
        (("app", "kiroshi"), ("level", "info")),
        (("app", "kiroshi"), ("level", "error")),
    }
    assert [json.loads(line)["n"] for line in receiver.lines() if "n" in json.loads(line)] == [0, 1, 2]
    receiver.stop()


def test_an_outage_keeps_lines_for_later_in_order_and_bounded() -> None:
    port = free_port()
    shipper = LokiShipper(f"http://127.0.0.1:{port}", interval_seconds=3600)
    for i in range(5):
        shipper.ship("info", json.dumps({"n": i}))

    assert not shipper.flush()  # nobody listens: nothing lost, nothing raised
    receiver = LokiReceiver()
    shipper._endpoint = f"{receiver.url}/loki/api/v1/push"
    shipper.ship("info", json.dumps({"n": 5}))
    assert shipper.flush()

    assert [json.loads(line)["n"] for line in receiver.lines()] == list(range(6))
    receiver.stop()
