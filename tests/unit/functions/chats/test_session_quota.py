"""The chat session reserves the most a turn can cost, however its text tokenizes, and trims the
history to the context budget by the same bound."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest

from lib.chats.engine import ChatEngine
from lib.chats.history import PER_MESSAGE, PER_REQUEST, context_messages, tokens_bound, weighed
from lib.chats.repository import usage_key
from lib.db.records import record
from lib.services import Services
from tests.support.client import Client
from tests.unit.functions.chats.session_harness import ScriptedModel, new_chat, open_session, say

MAX_REPLY = 16


def _used(services: Services, user_id: str) -> int:
    month = services.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = services.db.one("SELECT VALUE used FROM ONLY $u", {"u": record("usage", usage_key(user_id, month))})
    return int(used or 0)


def _session(services: Services, model: ScriptedModel, contents: list[str]) -> list[dict[str, Any]]:
    """A fresh user's chat: say each of `contents` in turn; the final frames."""
    client = Client(services)
    user = client.account()
    chat_id = new_chat(client, user)

    async def talk() -> list[dict[str, Any]]:
        engine = ChatEngine(services, model)
        connection, socket = await open_session(engine, services, user, chat_id)
        finals = [await say(engine, connection, socket, content) for content in contents]
        await engine.shutdown(1)
        return finals

    finals = asyncio.run(talk())
    finals.append({"used": _used(services, user.user_id)})
    return finals


def test_a_message_that_could_cost_more_than_the_quota_is_refused_before_the_model(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(max_reply_tokens=MAX_REPLY, free_token_quota=2_000)
    model = ScriptedModel(words=MAX_REPLY)

    refused, then, used = _session(services, model, ["€" * 1000, "a short question"])

    assert (refused["type"], refused["code"]) == ("error", "quota_exceeded")
    assert then["type"] == "done"
    assert len(model.requests) == 1
    assert 0 < used["used"] <= 2_000


def test_turns_never_spend_past_the_quota(make_services: Callable[..., Services]) -> None:
    services = make_services(max_reply_tokens=MAX_REPLY, free_token_quota=5_000)

    finals = _session(services, ScriptedModel(words=MAX_REPLY), ["😀" * 300] * 8)

    assert [f["type"] for f in finals[:-1]].count("done") >= 1
    assert finals[-1]["used"] <= 5_000


def test_the_model_gets_the_history_that_fits_the_context_budget(make_services: Callable[..., Services]) -> None:
    services = make_services(max_reply_tokens=MAX_REPLY, context_tokens=1_000)
    model = ScriptedModel(words=4)

    _session(services, model, [f"question {i} " + "é" * 100 for i in range(12)])

    last = model.requests[-1]
    assert last[-1]["content"].startswith("question 11 ")
    assert tokens_bound(last) <= 1_000
    assert len(last) < 23  # older turns were trimmed ...
    assert len(last) >= 5  # ... but not more than the budget needs


def test_a_message_alone_over_the_budget_is_still_sent(make_services: Callable[..., Services]) -> None:
    services = make_services(max_reply_tokens=MAX_REPLY, context_tokens=256)
    model = ScriptedModel(words=4)

    finals = _session(services, model, ["hello", "ü" * 500])

    assert finals[1]["type"] == "done"
    assert [m["content"] for m in model.requests[-1]] == ["ü" * 500]


@pytest.mark.parametrize("seed", range(20))
def test_the_trimmed_context_is_bounded_and_keeps_the_newest(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "é", "€", "😀", " "]
    history = [
        weighed(
            {"role": rng.choice(["user", "assistant"]), "content": "".join(rng.choices(alphabet, k=rng.randint(0, 80)))}
        )
        for _ in range(rng.randint(1, 40))
    ]
    budget = rng.randint(50, 2_000)

    kept, bound = context_messages(history, budget)

    assert kept[-1] is history[-1][0]
    assert bound == tokens_bound(kept)
    assert bound <= budget or len(kept) == 1
    assert all(turn["content"] for turn in kept[:-1])  # replies that said nothing are left out
    assert bound >= PER_REQUEST + sum(len(t["content"].encode()) + PER_MESSAGE for t in kept)
