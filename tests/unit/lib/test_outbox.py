"""Events leave with the request that wrote them; requests that write none cost no relay."""

from __future__ import annotations

from typing import Any

import pytest

from lib.events import outbox
from tests.support.client import Account, Client


def test_each_event_is_published_by_the_request_that_wrote_it(client: Client, admin: Account) -> None:
    seen: list[str] = []
    for topic in ("user.registered", "plan.created"):
        client.services.bus.subscribe(f"kiroshi.events.{topic}", lambda subject, _p: seen.append(subject))

    client.register("carol@example.com")
    assert seen == ["kiroshi.events.user.registered"]
    client.create_plan(admin.token)
    assert seen == ["kiroshi.events.user.registered", "kiroshi.events.plan.created"]


def test_writes_without_events_do_not_wake_the_relay(
    client: Client, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    wakes: list[str] = []
    relay = outbox.relay_outbox

    def counted(*args: Any) -> int:
        wakes.append("relay")
        return relay(*args)

    monkeypatch.setattr(outbox, "relay_outbox", counted)

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


def test_removing_a_plan_publishes_deleted_or_archived_with_the_request(
    client: Client, admin: Account, alice: Account
) -> None:
    seen: list[tuple[str, Any]] = []
    for topic in ("plan.deleted", "plan.archived", "plan.updated"):
        client.services.bus.subscribe(f"kiroshi.events.{topic}", lambda subject, p: seen.append((subject, p)))
    unused = client.create_plan(admin.token)["plan_id"]
    sold = client.create_plan(admin.token)["plan_id"]
    assert client.buy(alice.token, sold, "txn-1").status == 201

    assert client.delete(f"/subscriptions/plans/{unused}", token=admin.token).status == 200
    assert client.delete(f"/subscriptions/plans/{sold}", token=admin.token).status == 200
    assert seen == [
        ("kiroshi.events.plan.deleted", {"plan_id": unused}),
        ("kiroshi.events.plan.archived", {"plan_id": sold}),
    ]
    assert client.get(f"/subscriptions/plans/{sold}", token=admin.token).json["status"] == "archived"


def test_a_write_that_changes_nothing_announces_nothing(client: Client, admin: Account) -> None:
    seen: list[str] = []
    client.services.bus.subscribe("kiroshi.events.plan.updated", lambda subject, _p: seen.append(subject))
    answer = client.patch("/subscriptions/plans/nosuchplan", {"title": "x"}, token=admin.token)
    assert answer.status == 404
    assert seen == []
    pending = client.services.db.one("SELECT count() FROM event_outbox WHERE topic = 'plan.updated' GROUP ALL")
    assert pending == []


def _outbox(client: Client) -> list[str]:
    rows = client.services.db.one("SELECT topic, created_at FROM event_outbox ORDER BY created_at") or []
    return [row["topic"] for row in rows]


def test_a_published_event_leaves_the_outbox_and_one_the_bus_refused_stays(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(20):
        assert client.register(f"user{n}@example.com").status == 201
    assert _outbox(client) == []  # published with each request: nothing kept per account

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("the bus is down")

    monkeypatch.setattr(client.services.bus, "publish", refuse)
    assert client.register("carol@example.com").status == 201
    assert _outbox(client) == ["user.registered"]
    monkeypatch.undo()
    assert outbox.relay_outbox(client.services.db, client.services.bus) == 1
    assert _outbox(client) == []
