"""A real runner on embedded SurrealDB, behind it the fake OpenAI-compatible upstream."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.chat import ChatUser
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner

ADMIN = "chat-admin@example.com"


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(tokens=8).serve_in_thread()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def runner(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "KIROSHI_MODELS": "gpt-4o-mini,small-model",
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "KIROSHI_MAX_MESSAGE_CHARS": "2000",
        "KIROSHI_MESSAGES_PER_MINUTE": "8",
        "KIROSHI_SOCKETS_PER_USER": "4",
        "KIROSHI_UPSTREAM_TIMEOUT_SECONDS": "2",
        "KIROSHI_REGISTER_MAX_PER_ADDRESS": "10000",
    }
    started = Runner(tmp_path_factory.mktemp("chat"), env).start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def admin(runner: Runner) -> ChatUser:
    return ChatUser.create(runner.url, ADMIN)


def _plan(runner: Runner, admin: ChatUser, **fields: object) -> dict[str, object]:
    body = {"price": 1, "duration": 30, "title": "Test plan"} | fields
    answer = httpx.post(f"{runner.url}/subscriptions/plans", headers=admin.auth, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["plan"]  # type: ignore[no-any-return]


def _buy(runner: Runner, buyer: ChatUser, plan: dict[str, object]) -> None:
    body = {"plan_id": plan["plan_id"], "transaction_id": f"pay-{buyer.user_id}-{plan['plan_id']}"}
    assert httpx.post(f"{runner.url}/subscriptions/buy", headers=buyer.auth, json=body).status_code == 201
