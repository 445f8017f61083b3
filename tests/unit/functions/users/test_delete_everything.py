"""Deleting an account deletes everything it owns — chats, messages, usage, subscriber — closes
its sockets, stops its replies, and a turn or completion that ends afterwards is not stored.
Its contracts stay as money records (see test_refund). Checked in the database itself."""

from __future__ import annotations

import asyncio
from typing import Any

from lib.chats.engine import ChatEngine
from lib.chats.repository import usage_key
from lib.db.records import record
from lib.services import Services
from tests.support.client import Account, Client
from tests.unit.functions.chats.session_harness import ScriptedModel, new_chat, open_session, say, until


def _left_of(services: Services, user_id: str) -> dict[str, Any]:
    """Every row that still points at the user, read from the database directly."""
    db, user = services.db, record("user", user_id)
    return {
        "chat": db.one("SELECT * FROM chat WHERE user = $u", {"u": user}),
        "message": db.one("SELECT * FROM message WHERE chat.user = $u", {"u": user}),
        "usage": db.one("SELECT * FROM usage WHERE user = $u", {"u": user}),
        "subscriber": db.one("SELECT * FROM subscriber WHERE user = $u", {"u": user}),
        "revoked_token": db.one("SELECT * FROM revoked_token WHERE user = $u", {"u": user}),
        "user": db.one("SELECT * FROM $u", {"u": user}),
    }


NOTHING: dict[str, Any] = {"chat": [], "message": [], "usage": [], "subscriber": [], "revoked_token": [], "user": []}


def _chat_with_a_turn(services: Services, client: Client, account: Account, model: ScriptedModel) -> str:
    chat_id = new_chat(client, account)

    async def talk() -> None:
        engine = ChatEngine(services, model)
        connection, socket = await open_session(engine, services, account, chat_id)
        assert (await say(engine, connection, socket, f"a secret of {account.email}"))["type"] == "done"
        await engine.shutdown(1)

    asyncio.run(talk())
    return chat_id


def test_after_deletion_no_one_reads_the_users_chats_and_no_row_of_theirs_remains(
    services: Services, client: Client, alice: Account, bob: Account, admin: Account
) -> None:
    model = ScriptedModel()
    alices = _chat_with_a_turn(services, client, alice, model)
    bobs = _chat_with_a_turn(services, client, bob, model)
    client.post(f"/users/{alice.user_id}/logout", token=client.relogin(alice))  # a revocation row
    before = client.get(f"/chats/{alice.user_id}/{alices}", token=admin.token)
    assert before.status == 200 and "a secret of" in before.json["messages"][0]["content"]

    assert client.delete(f"/users/{alice.user_id}", token=admin.token).status == 200

    assert client.get(f"/chats/{alice.user_id}/{alices}", token=admin.token).status == 404
    assert client.get(f"/chats/{alice.user_id}", token=admin.token).json["chats"] == []
    assert _left_of(services, alice.user_id) == NOTHING
    assert services.db.one("SELECT * FROM message WHERE content CONTAINS 'alice@'") == []
    assert (
        len(client.get(f"/chats/{bob.user_id}/{bobs}", token=admin.token).json["messages"]) == 2
    )  # others keep theirs
    assert _left_of(services, bob.user_id)["usage"] != []


def test_a_deletion_during_a_reply_closes_the_socket_stops_the_reply_and_stores_nothing(
    services: Services, client: Client, alice: Account, admin: Account
) -> None:
    chat_id = new_chat(client, alice)
    model = ScriptedModel(words=50, delay=0.01)

    async def scenario() -> tuple[list[str], int | None, int]:
        engine = ChatEngine(services, model)
        connection, socket = await open_session(engine, services, alice, chat_id)
        await engine.receive(connection, '{"type": "message", "content": "tell me a long story"}')
        await until(lambda: socket.kinds().count("delta") >= 3)
        assert client.delete(f"/users/{alice.user_id}", token=admin.token).status == 200
        job = engine.jobs[chat_id]
        assert job.task is not None
        await asyncio.wait_for(job.task, 5)
        await engine.shutdown(1)
        return socket.kinds(), socket.closed_with, len(job.deltas)

    kinds, closed_with, streamed = asyncio.run(scenario())

    assert closed_with == 4401
    assert streamed < 50  # stopped, not generated to its end
    assert "done" not in kinds
    assert _left_of(services, alice.user_id) == NOTHING
    month = services.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert services.cache.get(f"quota-reserved:{usage_key(alice.user_id, month)}") == "0"  # given back


def test_a_reply_that_ends_after_the_deletion_is_not_stored_even_when_the_stop_never_arrives(
    services: Services, client: Client, alice: Account, admin: Account
) -> None:
    """Another instance generates it and the bus lost the signal: the turn's own transaction
    finds the chat gone."""
    chat_id = new_chat(client, alice)
    gate = asyncio.Event()
    model = ScriptedModel(words=5, gate=gate)
    lost: list[str] = []
    services.signal = lambda subject, payload: lost.append(subject)  # type: ignore[method-assign]

    async def scenario() -> dict[str, Any]:
        engine = ChatEngine(services, model)
        connection, socket = await open_session(engine, services, alice, chat_id)
        await engine.receive(connection, '{"type": "message", "content": "hello"}')
        await until(lambda: "delta" in socket.kinds())
        assert client.delete(f"/users/{alice.user_id}", token=admin.token).status == 200
        gate.set()  # the reply goes on to its end
        await until(lambda: socket.kinds()[-1] in ("done", "error"))
        await engine.shutdown(1)
        return socket.frames[-1]

    final = asyncio.run(scenario())

    assert lost == ["kiroshi.revocations"]
    assert (final["type"], final["code"]) == ("error", "chat_deleted")
    assert _left_of(services, alice.user_id) == NOTHING


def test_a_completion_that_ends_after_the_deletion_stores_no_usage(
    services: Services, client: Client, alice: Account, admin: Account
) -> None:
    services.model_client = ScriptedModel(
        on_stream=lambda: client.delete(f"/users/{alice.user_id}", token=admin.token)  # type: ignore[arg-type,return-value]
    )

    answer = client.post(
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        token=alice.token,
    )

    assert answer.status == 200
    assert client.get("/auth", token=alice.token).status == 401
    assert _left_of(services, alice.user_id) == NOTHING
