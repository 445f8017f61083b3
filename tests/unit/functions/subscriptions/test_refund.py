from __future__ import annotations

import datetime as dt

import pytest

from tests.support.client import Account, Client

DAY = 86400


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, object]:
    return client.create_plan(admin.token, price=30.00, duration=30)


def _refund(client: Client, token: str, contract: object) -> object:
    return client.post("/subscriptions/refund", {"contract": contract}, token=token)


def test_an_unstarted_contract_is_refunded_in_full(client: Client, alice: Account, plan: dict[str, object]) -> None:
    client.buy(alice.token, str(plan["plan_id"]), "pay_1")
    scheduled = client.buy(alice.token, str(plan["plan_id"]), "pay_2").json["contract"]

    answer = _refund(client, alice.token, scheduled["contract_id"])

    assert answer.status == 200  # type: ignore[attr-defined]
    body = answer.json  # type: ignore[attr-defined]
    assert body["message"] == "Subscription refunded"
    assert (body["ex_contract"]["status"], body["ex_contract"]["refund_amount"]) == ("refunded", 30.0)


def test_a_used_contract_is_prorated_and_rounded_down(
    client: Client, alice: Account, admin: Account, clock: object
) -> None:
    plan = client.create_plan(admin.token, price=9.99, duration=30)
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    clock.advance(10 * DAY)  # type: ignore[attr-defined]
    client.relogin(alice)

    ex = _refund(client, alice.token, contract).json["ex_contract"]  # type: ignore[attr-defined]

    # 9.99 x 20/30 = 6.66 (less a hair of elapsed test time, rounded down)
    assert ex["refund_amount"] in (6.66, 6.65)
    assert ex["status"] == "refunded"
    assert abs(dt.datetime.fromisoformat(ex["ends_at"]) - client.services.now()) < dt.timedelta(seconds=5)
    assert client.get("/auth", token=alice.token).json["metadata"]["subscription"] is None


def test_later_contracts_move_up_to_stay_contiguous(
    client: Client, alice: Account, plan: dict[str, object], clock: object
) -> None:
    first = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    second = client.buy(alice.token, str(plan["plan_id"]), "pay_2").json["contract"]
    third = client.buy(alice.token, str(plan["plan_id"]), "pay_3").json["contract"]
    clock.advance(5 * DAY)  # type: ignore[attr-defined]
    client.relogin(alice)

    ex = _refund(client, alice.token, first["contract_id"]).json["ex_contract"]  # type: ignore[attr-defined]

    second_now = client.get(f"/subscriptions/contracts/{second['contract_id']}", token=alice.token).json
    third_now = client.get(f"/subscriptions/contracts/{third['contract_id']}", token=alice.token).json
    assert second_now["starts_at"] == ex["ends_at"]
    assert third_now["starts_at"] == second_now["ends_at"]
    assert second_now["status"] == "active"
    span = dt.datetime.fromisoformat(third_now["ends_at"]) - dt.datetime.fromisoformat(second_now["starts_at"])
    assert span == dt.timedelta(days=60)
    subscriber = client.get(f"/subscriptions/subscribers/{alice.user_id}", token=alice.token).json
    assert subscriber["paid_until"] == third_now["ends_at"]
    assert (
        client.get("/auth", token=alice.token).json["metadata"]["subscription"]["contract_id"] == second["contract_id"]
    )


def test_the_whole_contract_object_is_accepted(client: Client, alice: Account, plan: dict[str, object]) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    assert _refund(client, alice.token, contract).status == 200  # type: ignore[attr-defined]


def test_contract_id_as_buy_answers_it_is_accepted(client: Client, alice: Account, plan: dict[str, object]) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]

    answer = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=alice.token)

    assert answer.status == 200
    assert answer.json["ex_contract"]["contract_id"] == contract["contract_id"]
    assert answer.json["ex_contract"]["status"] == "refunded"


@pytest.mark.parametrize("body", [{}, {"contract": "c1", "contract_id": "c1"}, {"contract_id": ""}])
def test_a_refund_names_its_contract_once(
    client: Client, alice: Account, plan: dict[str, object], body: dict[str, object]
) -> None:
    answer = client.post("/subscriptions/refund", body, token=alice.token)

    assert answer.status == 422
    assert answer.json["code"] == "validation_failed"


def test_a_contract_is_refunded_once(client: Client, alice: Account, plan: dict[str, object]) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    _refund(client, alice.token, contract["contract_id"])

    again = _refund(client, alice.token, contract["contract_id"])

    assert again.status == 409  # type: ignore[attr-defined]
    assert again.json["code"] == "already_refunded"  # type: ignore[attr-defined]


def test_an_expired_contract_has_nothing_to_refund(
    client: Client, alice: Account, plan: dict[str, object], clock: object
) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    clock.advance(31 * DAY)  # type: ignore[attr-defined]
    client.relogin(alice)

    answer = _refund(client, alice.token, contract["contract_id"])

    assert (answer.status, answer.json["code"]) == (409, "contract_expired")  # type: ignore[attr-defined]


def test_only_the_owner_or_an_admin_refunds(
    client: Client, alice: Account, bob: Account, admin: Account, plan: dict[str, object]
) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]

    refused = _refund(client, bob.token, contract["contract_id"])
    hidden = client.get(f"/subscriptions/contracts/{contract['contract_id']}", token=bob.token)
    assert (refused.status, refused.json["code"]) == (403, "forbidden")  # type: ignore[attr-defined]
    assert (hidden.status, hidden.json["code"]) == (403, "forbidden")
    assert _refund(client, admin.token, contract["contract_id"]).status == 200  # type: ignore[attr-defined]
    unknown = _refund(client, alice.token, "no-such-contract")
    assert (unknown.status, unknown.json["code"]) == (404, "contract_not_found")  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", [{}, {"contract": 5}, {"contract": {"id": "x"}}, {"contract": ""}, {"x": "y"}])
def test_bad_refunds_are_422(client: Client, alice: Account, body: dict[str, object]) -> None:
    answer = client.post("/subscriptions/refund", body, token=alice.token)
    assert (answer.status, answer.json["code"]) == (422, "validation_failed")


def test_contracts_are_listed_newest_first_and_admins_see_all(
    client: Client, alice: Account, bob: Account, admin: Account, plan: dict[str, object]
) -> None:
    ids = [client.buy(alice.token, str(plan["plan_id"]), f"pay_a{i}").json["contract"]["contract_id"] for i in range(3)]
    client.buy(bob.token, str(plan["plan_id"]), "pay_b")

    page1 = client.get("/subscriptions/contracts", token=alice.token, query={"limit": "2"}).json
    page2 = client.get(
        "/subscriptions/contracts", token=alice.token, query={"limit": "2", "cursor": page1["next_cursor"]}
    ).json

    assert [c["contract_id"] for c in page1["contracts"] + page2["contracts"]] == ids[::-1]
    assert page2["next_cursor"] is None
    assert len(client.get("/subscriptions/contracts", token=admin.token).json["contracts"]) == 4


def test_deleting_the_account_keeps_its_contracts_as_money_records_without_personal_data(
    client: Client, alice: Account, admin: Account, plan: dict[str, object]
) -> None:
    bought = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    subscriber = f"/subscriptions/subscribers/{alice.user_id}"
    assert client.patch(subscriber, {"billing_email": "bills@example.com"}, token=alice.token).status == 200
    client.delete(f"/users/{alice.user_id}", token=alice.token)

    kept = client.get(f"/subscriptions/contracts/{bought['contract_id']}", token=admin.token)
    assert kept.status == 200
    assert {k: kept.json[k] for k in ("user_id", "transaction_id", "price")} == {
        "user_id": alice.user_id,  # an id that no longer names anyone
        "transaction_id": "pay_1",
        "price": bought["price"],
    }
    assert client.services.db.one("SELECT * FROM subscriber") == []  # the billing e-mail went with it


def test_purchases_and_refunds_emit_events(client: Client, alice: Account, plan: dict[str, object]) -> None:
    seen: list[str] = []
    for topic in ("contract.bought", "contract.refunded"):
        client.services.bus.subscribe(f"kiroshi.events.{topic}", lambda subject, _p: seen.append(subject))
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]
    _refund(client, alice.token, contract["contract_id"])

    assert seen == ["kiroshi.events.contract.bought", "kiroshi.events.contract.refunded"]
