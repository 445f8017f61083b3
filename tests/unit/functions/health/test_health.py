from __future__ import annotations

from tests.support.client import Client


def test_healthy_is_public_and_ok(client: Client) -> None:
    answer = client.get("/healthy")
    assert (answer.status, answer.json) == (200, {"status": "ok"})


def test_ready_reports_each_dependency_and_its_adapter(client: Client) -> None:
    answer = client.get("/ready")

    assert answer.status == 200
    assert answer.json["checks"] == {
        "database": {"status": "ok", "adapter": "embedded"},
        "cache": {"status": "ok", "adapter": "memory"},
        "message_queue": {"status": "ok", "adapter": "memory"},
    }


def test_ready_is_503_when_the_database_is_down(client: Client) -> None:
    client.services.db.close()

    answer = client.get("/ready")

    assert answer.status == 503
    assert answer.json["checks"]["database"]["status"] == "down"


def test_ready_says_that_payments_are_not_verified_in_trust_mode(client: Client) -> None:
    payments = client.get("/ready").json["payments"]

    assert (payments["mode"], payments["verified"]) == ("trust", False)
    assert "payments are not verified" in payments["warning"]
