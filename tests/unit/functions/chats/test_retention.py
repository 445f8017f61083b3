"""KIROSHI_RETENTION_DAYS: chats untouched for that long go with their messages, and reply costs of
days before it; what is newer, and the usage totals the quota reads, stay."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from lib.chats.engine import ChatEngine
from lib.chats.repository import prune_older_than
from lib.services import Services
from tests.support.client import Account, Client
from tests.support.clock import MovableClock
from tests.unit.functions.chats.session_harness import ScriptedModel, new_chat, open_session, say

DAY = 86_400


def talk(services: Services, user: Account, chat_id: str) -> None:
    async def turn() -> None:
        engine = ChatEngine(services, ScriptedModel())
        connection, socket = await open_session(engine, services, user, chat_id)
        assert (await say(engine, connection, socket, "hello"))["type"] == "done"
        engine.close(connection)

    asyncio.run(turn())


def test_chats_and_costs_older_than_the_retention_go_and_newer_ones_stay(
    make_services: Callable[..., Services], clock: MovableClock
) -> None:
    services = make_services(retention_days=5, messages_per_minute=1000)
    client = Client(services)
    user = client.account()
    old, recent = new_chat(client, user), new_chat(client, user)
    talk(services, user, old)
    clock.advance(10 * DAY)
    token = client.relogin(user)
    talk(services, user, recent)
    db = services.db
    totals = db.one("SELECT used FROM usage")
    assert db.one("SELECT count() FROM reply_usage GROUP ALL")[0]["count"] == 2

    cutoff = services.now() - dt.timedelta(days=services.settings.retention_days)
    assert prune_older_than(db, cutoff) == (1, 1)
    assert prune_older_than(db, cutoff) == (0, 0)

    listed = client.get(f"/chats/{user.user_id}", token=token).json["chats"]
    assert [c["chat_id"] for c in listed] == [recent]
    assert client.get(f"/chats/{user.user_id}/{old}", token=token).status == 404
    kept = client.get(f"/chats/{user.user_id}/{recent}", token=token).json
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant"]
    assert db.one("SELECT count() FROM message GROUP ALL")[0]["count"] == 2  # the recent chat's question and reply
    assert db.one("SELECT count() FROM reply_usage GROUP ALL")[0]["count"] == 1
    assert db.one("SELECT used FROM usage") == totals  # what the quota counts stays
