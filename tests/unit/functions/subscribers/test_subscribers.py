from __future__ import annotations

from tests.support.client import Account, Client


def test_a_user_becomes_a_subscriber_once(client: Client, alice: Account) -> None:
    answer = client.post("/subscriptions/subscribers", {"user_id": alice.user_id}, token=alice.token)

    assert answer.status == 201
    assert answer.json["message"] == "Subscriber created"
    subscriber = answer.json["subscriber"]
    assert subscriber["user_id"] == alice.user_id
    assert (subscriber["auto_renew"], subscriber["billing_email"], subscriber["paid_until"]) == (False, None, None)
    again = client.post("/subscriptions/subscribers", {"user_id": alice.user_id}, token=alice.token)
    assert again.status == 409
    assert again.json["code"] == "subscriber_exists"


def test_nobody_creates_a_subscriber_for_someone_else(
    client: Client, alice: Account, bob: Account, admin: Account
) -> None:
    assert client.post("/subscriptions/subscribers", {"user_id": bob.user_id}, token=alice.token).status == 403
    assert client.post("/subscriptions/subscribers", {"user_id": bob.user_id}, token=admin.token).status == 201
    assert client.post("/subscriptions/subscribers", {"user_id": "ghost"}, token=admin.token).status == 404


def test_users_see_and_change_only_their_own(client: Client, alice: Account, bob: Account, admin: Account) -> None:
    mine = client.post("/subscriptions/subscribers", {"user_id": alice.user_id}, token=alice.token).json["subscriber"]
    client.post("/subscriptions/subscribers", {"user_id": bob.user_id}, token=bob.token)
    path = f"/subscriptions/subscribers/{mine['subscriber_id']}"

    assert [s["user_id"] for s in client.get("/subscriptions/subscribers", token=alice.token).json["subscribers"]] == [
        alice.user_id
    ]
    assert len(client.get("/subscriptions/subscribers", token=admin.token).json["subscribers"]) == 2
    assert client.get(path, token=bob.token).status == 403
    assert client.patch(path, {"auto_renew": True}, token=bob.token).status == 403
    assert client.delete(path, token=bob.token).status == 403
    patched = client.patch(path, {"auto_renew": True, "billing_email": "Bills@Example.COM"}, token=alice.token)
    assert patched.status == 200
    assert patched.json["subscriber"]["billing_email"] == "Bills@example.com"
    assert client.get(path, token=admin.token).json["auto_renew"] is True
    assert client.patch(path, {"paid_until": "2099-01-01T00:00:00Z"}, token=alice.token).status == 422
    assert client.get("/subscriptions/subscribers/nope", token=alice.token).status == 404


def test_a_subscriber_with_a_live_contract_cannot_be_deleted(client: Client, alice: Account, admin: Account) -> None:
    plan = client.create_plan(admin.token)
    contract = client.buy(alice.token, plan["plan_id"], "tx-live").json["contract"]
    path = f"/subscriptions/subscribers/{alice.user_id}"

    refused = client.delete(path, token=alice.token)
    client.post("/subscriptions/refund", {"contract": contract["contract_id"]}, token=alice.token)
    allowed = client.delete(path, token=alice.token)

    assert refused.status == 409
    assert refused.json["code"] == "subscriber_has_live_contracts"
    assert allowed.status == 200
    assert client.get(path, token=alice.token).status == 404
