from __future__ import annotations

from tests.support.client import Account, Client


def test_deleting_an_account_stops_its_tokens_and_frees_its_email(client: Client, alice: Account) -> None:
    other_device = client.login(alice.email).json["token"]

    answer = client.delete(f"/users/{alice.user_id}", token=alice.token)

    assert answer.status == 200
    assert answer.json["message"]
    assert client.get("/auth", token=alice.token).status == 401
    assert client.get("/auth", token=other_device).status == 401
    assert client.login(alice.email).status == 401
    assert client.register(alice.email).status == 201


def test_an_admin_deletes_anyone_and_a_user_nobody_else(
    client: Client, alice: Account, bob: Account, admin: Account
) -> None:
    assert client.delete(f"/users/{bob.user_id}", token=alice.token).status == 403
    assert client.delete(f"/users/{bob.user_id}", token=admin.token).status == 200
    assert client.delete(f"/users/{bob.user_id}", token=admin.token).status == 404
    assert client.get("/auth", token=bob.token).status == 401
    assert client.get("/auth", token=alice.token).status == 200


def test_deleting_emits_a_domain_event(client: Client, alice: Account) -> None:
    received: list[dict[str, object]] = []
    client.services.bus.subscribe("kiroshi.events.user.deleted", lambda _s, payload: received.append(payload))

    client.delete(f"/users/{alice.user_id}", token=alice.token)

    assert received == [{"user_id": alice.user_id}]
