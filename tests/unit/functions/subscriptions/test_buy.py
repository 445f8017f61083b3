from __future__ import annotations

import datetime as dt

import pytest

from tests.support.client import Account, Client


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, object]:
    return client.create_plan(admin.token, price=9.99, duration=30)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_buying_answers_a_contract_that_starts_now(client: Client, alice: Account, plan: dict[str, object]) -> None:
    answer = client.buy(alice.token, str(plan["plan_id"]), "pay_123")

    assert answer.status == 201
    assert answer.json["message"] == "Subscription bought"
    contract = answer.json["contract"]
    assert {
        "contract_id",
        "user_id",
        "plan_id",
        "transaction_id",
        "price",
        "currency",
        "starts_at",
        "ends_at",
        "status",
    } <= set(contract)
    assert (contract["user_id"], contract["plan_id"], contract["transaction_id"]) == (
        alice.user_id,
        plan["plan_id"],
        "pay_123",
    )
    assert (contract["price"], contract["currency"], contract["status"]) == (9.99, "USD", "active")
    assert _at(contract["ends_at"]) - _at(contract["starts_at"]) == dt.timedelta(days=30)
    assert abs(_at(contract["starts_at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_the_first_purchase_creates_the_subscriber_and_shows_in_auth(
    client: Client, alice: Account, plan: dict[str, object]
) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]

    subscriber = client.get(f"/subscriptions/subscribers/{alice.user_id}", token=alice.token).json
    me = client.get("/auth", token=alice.token).json

    assert subscriber["paid_until"] == contract["ends_at"]
    assert me["metadata"]["subscription"] == {
        "plan_id": plan["plan_id"],
        "contract_id": contract["contract_id"],
        "ends_at": contract["ends_at"],
    }


def test_periods_stack_and_never_overlap(client: Client, alice: Account, plan: dict[str, object]) -> None:
    first = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    second = client.buy(alice.token, str(plan["plan_id"]), "pay_2").json["contract"]
    third = client.buy(alice.token, str(plan["plan_id"]), "pay_3").json["contract"]

    assert second["starts_at"] == first["ends_at"]
    assert third["starts_at"] == second["ends_at"]
    assert (second["status"], third["status"]) == ("scheduled", "scheduled")
    assert (
        client.get("/auth", token=alice.token).json["metadata"]["subscription"]["contract_id"] == first["contract_id"]
    )


def test_a_lapsed_subscription_restarts_now(
    client: Client, alice: Account, plan: dict[str, object], clock: object
) -> None:
    client.buy(alice.token, str(plan["plan_id"]), "pay_1")
    clock.advance(40 * 86400)  # type: ignore[attr-defined]
    client.relogin(alice)
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_2").json["contract"]

    assert abs(_at(contract["starts_at"]) - client.services.now()) < dt.timedelta(seconds=5)
    assert (
        client.get("/auth", token=alice.token).json["metadata"]["subscription"]["contract_id"]
        == contract["contract_id"]
    )


def test_replaying_a_transaction_answers_the_same_contract(
    client: Client, alice: Account, plan: dict[str, object]
) -> None:
    first = client.buy(alice.token, str(plan["plan_id"]), "pay_same")
    again = client.buy(alice.token, str(plan["plan_id"]), "pay_same")

    assert (first.status, again.status) == (201, 200)
    assert again.json["contract"] == first.json["contract"]
    assert len(client.get("/subscriptions/contracts", token=alice.token).json["contracts"]) == 1


def test_a_transaction_id_is_never_reused_for_another_plan_or_user(
    client: Client, alice: Account, bob: Account, admin: Account, plan: dict[str, object]
) -> None:
    other = client.create_plan(admin.token, title="Other")
    client.buy(alice.token, str(plan["plan_id"]), "pay_x")

    other_plan = client.buy(alice.token, str(other["plan_id"]), "pay_x")
    other_user = client.buy(bob.token, str(plan["plan_id"]), "pay_x")

    for answer in (other_plan, other_user):
        assert answer.status == 409
        assert answer.json["code"] == "transaction_id_reused"
    assert client.get("/subscriptions/contracts", token=bob.token).json["contracts"] == []


def test_unknown_and_archived_plans_cannot_be_bought(
    client: Client, alice: Account, bob: Account, admin: Account, plan: dict[str, object]
) -> None:
    unknown = client.buy(alice.token, "no-such-plan", "pay_1")
    client.buy(bob.token, str(plan["plan_id"]), "pay_bob")
    client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token)
    archived = client.buy(alice.token, str(plan["plan_id"]), "pay_2")

    assert (unknown.status, unknown.json["code"]) == (404, "plan_not_found")
    assert (archived.status, archived.json["code"]) == (409, "plan_archived")
    bobs = client.get("/subscriptions/contracts", token=bob.token).json["contracts"]
    assert [c["status"] for c in bobs] == ["active"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"plan_id": "x"},
        {"transaction_id": "t"},
        {"plan_id": "x", "transaction_id": ""},
        {"plan_id": "x", "transaction_id": "has space"},
        {"plan_id": "x", "transaction_id": "t", "user_id": "other"},
        {"plan_id": "x", "transaction_id": "t", "price": 0},
        {"plan_id": 5, "transaction_id": "t"},
    ],
)
def test_bad_purchases_are_422(client: Client, alice: Account, body: dict[str, object]) -> None:
    answer = client.post("/subscriptions/buy", body, token=alice.token)
    assert (answer.status, answer.json["code"]) == (422, "validation_failed")
