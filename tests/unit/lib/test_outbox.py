"""Events leave with the request that wrote them; requests that write none cost no relay."""

from __future__ import annotations

from tests.support.client import Account, Client


def test_each_event_is_published_by_the_request_that_wrote_it(client: Client, admin: Account) -> None:
    seen: list[str] = []
    for topic in ("user.registered", "plan.created"):
        client.services.bus.subscribe(f"kiroshi.events.{topic}", lambda subject, _p: seen.append(subject))

    client.register("carol@example.com")
    assert seen == ["kiroshi.events.user.registered"]
    client.create_plan(admin.token)
    assert seen == ["kiroshi.events.user.registered", "kiroshi.events.plan.created"]


def test_writes_without_events_do_not_wake_the_relay(client: Client, alice: Account) -> None:
    wakes: list[str] = []
    client.services.relay_hook = lambda: wakes.append("relay")

    token = client.login(alice.email).json["token"]
    answers = [
        client.post(f"/users/{alice.user_id}/change-nickname", {"new_nickname": "al"}, token=token),
        client.get("/auth", token=token),
        client.post(f"/users/{alice.user_id}/logout", token=token),
        client.login(alice.email, password="not the password"),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 401]
    assert wakes == []

    assert client.register("carol@example.com").status == 201
    assert wakes == ["relay"]
    assert client.delete(f"/users/{alice.user_id}", token=client.relogin(alice)).status == 200
    assert wakes == ["relay", "relay"]
