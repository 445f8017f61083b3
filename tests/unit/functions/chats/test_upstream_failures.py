"""A turn the model server fails: the session hears how it failed (its code), the turn is kept
(the question, and an `error` reply without usage) and costs nothing of the quota when no token
came; a reply broken after some tokens is still charged, as a stopped one is. The real engine and
adapter, against the fake OpenAI-compatible server and a port where nothing listens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lib.billing.entitlements import entitlements_for
from lib.chats import repository as chats
from lib.chats.engine import ChatEngine
from lib.chats.quota import Quotas
from lib.llm.openai import OpenAICompatible
from lib.services import Services
from tests.support.client import Client
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import free_port
from tests.unit.functions.chats.session_harness import new_chat, open_session, say

KEY = "sk-kiroshi-session-test-0123456789"
QUOTA = 100_000


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(tokens=5, api_key=KEY).serve_in_thread()
    yield server
    server.stop()


def _talk(services: Services, base_url: str, contents: list[str], api_key: str = KEY) -> list[dict[str, Any]]:
    """A fresh user's chat with the model at `base_url`: say each of `contents`; the final frames,
    then the chat as `GET /chats/{user_id}/{chat_id}` answers it."""
    client = Client(services)
    user = client.account()
    chat_id = new_chat(client, user)

    async def talk() -> list[dict[str, Any]]:
        engine = ChatEngine(services, OpenAICompatible(base_url, api_key, 2))
        connection, socket = await open_session(engine, services, user, chat_id)
        finals = [await say(engine, connection, socket, content) for content in contents]
        await engine.shutdown(1)
        await engine.llm.close()
        return finals

    finals = asyncio.run(talk())
    return [*finals, client.get(f"/chats/{user.user_id}/{chat_id}", token=user.token).json]


def _used(services: Services, user: str) -> int:
    """The tokens the quota counts as used this period (what the engine reads before each turn)."""
    return chats.tokens_used(services.db, user, entitlements_for(services, user).period_start)


def _fits(services: Services, user: str, tokens: int) -> bool:
    """Whether a turn could reserve `tokens` now (what is used and what replies in flight hold
    leave free of the quota)."""
    reservation = Quotas(services).reserve(user, entitlements_for(services, user), tokens)
    if reservation is not None:
        Quotas(services).release(reservation)
    return reservation is not None


def _owner(chat: dict[str, Any], services: Services) -> str:
    found = chats.get_chat(services.db, chat["chat_id"])
    assert found is not None
    return found.user_id


@pytest.mark.parametrize(
    ("where", "knobs", "code"),
    [
        ("closed port", "", "upstream_unreachable"),
        ("fake", "[error=401]", "upstream_auth_failed"),
        ("fake", "[error=429]", "upstream_rate_limited"),
        ("fake", "[error=500]", "upstream_error"),
        ("fake", "[hang]", "upstream_timeout"),
    ],
)
def test_a_turn_the_model_server_fails_says_how_and_costs_nothing(
    make_services: Callable[..., Services], fake: FakeOpenAI, where: str, knobs: str, code: str
) -> None:
    services = make_services(free_token_quota=QUOTA)
    base_url = fake.base_url if where == "fake" else f"http://127.0.0.1:{free_port()}/v1"

    failed, chat = _talk(services, base_url, [f"what is the weather? {knobs}"])

    assert (failed["type"], failed["code"]) == ("error", code)
    user = _owner(chat, services)
    assert _used(services, user) == 0
    assert _fits(services, user, QUOTA)
    question, reply = chat["messages"]
    assert (question["role"], question["content"]) == ("user", f"what is the weather? {knobs}")
    assert (reply["role"], reply["status"], reply["content"], reply["usage"]) == ("assistant", "error", "", None)


def test_after_a_failed_turn_the_next_one_works_and_only_it_is_charged(
    make_services: Callable[..., Services], fake: FakeOpenAI
) -> None:
    services = make_services(free_token_quota=QUOTA)

    failed, done, chat = _talk(services, fake.base_url, ["first [error=503]", "second [tokens=3]"])

    assert (failed["code"], done["type"]) == ("upstream_error", "done")
    assert [m["status"] for m in chat["messages"]] == ["complete", "error", "complete", "complete"]
    charged = done["usage"]["prompt_tokens"] + done["usage"]["completion_tokens"]
    assert _used(services, _owner(chat, services)) == charged > 0


def test_a_reply_broken_after_some_tokens_is_still_charged(
    make_services: Callable[..., Services], fake: FakeOpenAI
) -> None:
    services = make_services(free_token_quota=QUOTA)

    broken, chat = _talk(services, fake.base_url, ["tell me [tokens=5] [cut=3]"])

    assert (broken["type"], broken["code"]) == ("error", "upstream_unavailable")
    reply = chat["messages"][1]
    assert reply["status"] == "error" and reply["content"]
    assert reply["usage"]["completion_tokens"] > 0
    user, charged = _owner(chat, services), reply["usage"]["prompt_tokens"] + reply["usage"]["completion_tokens"]
    assert _used(services, user) == charged
    assert (_fits(services, user, QUOTA - charged), _fits(services, user, QUOTA - charged + 1)) == (True, False)


def test_a_refused_key_is_one_warning_without_the_key_or_the_question(
    make_services: Callable[..., Services], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(free_token_quota=QUOTA)
    wrong = "sk-not-the-right-key-5555"
    caplog.set_level(logging.DEBUG)

    failed, _ = _talk(services, fake.base_url, ["a question nobody may read"], api_key=wrong)

    assert failed["code"] == "upstream_auth_failed"
    assert "OPENAI_API_KEY" in failed["message"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in warnings] == [("kiroshi.llm", "WARNING")]
    assert f"127.0.0.1:{fake.port}" in warnings[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (wrong, KEY, "a question nobody may read"):
        assert secret not in logged
