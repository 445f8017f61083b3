"""What a process keeps of chat sessions stays bounded: ended replies kept for resuming clients
(KIROSHI_RESUME_REPLIES), the turn cache (KIROSHI_TURN_CACHE_BYTES) and the socket sets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lib.chats.engine import ChatEngine
from lib.services import Services
from tests.support.client import Client
from tests.unit.functions.chats.session_harness import ScriptedModel, new_chat, open_session, say


def test_ended_replies_kept_for_resuming_are_bounded_the_oldest_going_first(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(resume_replies=10, messages_per_minute=1000)
    client = Client(services)
    user = client.account()
    chat_ids = [new_chat(client, user) for _ in range(25)]

    async def talk() -> ChatEngine:
        engine = ChatEngine(services, ScriptedModel())
        for chat_id in chat_ids:
            connection, socket = await open_session(engine, services, user, chat_id)
            assert (await say(engine, connection, socket, "hello"))["type"] == "done"
            engine.close(connection)
        return engine

    engine = asyncio.run(talk())

    assert len(engine.jobs) == 10
    assert set(engine.jobs) == set(chat_ids[-10:])  # the latest replies can still be resumed
    assert len(engine.ended) == 10


def test_closed_sessions_leave_nothing_behind_and_the_turn_cache_keeps_its_bytes(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(turn_cache_bytes=4_000, messages_per_minute=1000)
    client = Client(services)
    users = [client.account() for _ in range(3)]
    chats = [(user, new_chat(client, user)) for user in users for _ in range(4)]

    async def talk() -> ChatEngine:
        engine = ChatEngine(services, ScriptedModel(words=50))
        for user, chat_id in chats:
            connection, socket = await open_session(engine, services, user, chat_id)
            for _ in range(3):
                assert (await say(engine, connection, socket, "tell me more " * 20))["type"] == "done"
            engine.close(connection)
        return engine

    engine = asyncio.run(talk())

    assert engine.connections == {}
    assert engine.turns.bytes <= 4_000
    assert 0 < len(engine.turns) < len(chats)
