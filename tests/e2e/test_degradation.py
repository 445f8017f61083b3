"""Outages: with Redis or NATS down, no revoked token is accepted, requests work or answer 503
problems, nothing is lost, and everything recovers. Uses private Redis and NATS servers that the
test stops and starts (CI sets KIROSHI_TEST_REDIS_URL / KIROSHI_TEST_NATS_URL: they have them)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator

import httpx
import nats
import pytest

from tests.e2e.conftest import ADMIN
from tests.support.chat import ChatUser
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner
from tests.support.services import Server, nats_server, redis_server

pytestmark = pytest.mark.e2e

PASSWORD = "a chatty passphrase"


@pytest.fixture(scope="module")
def outage(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Server, Server]]:
    if not (os.environ.get("KIROSHI_TEST_REDIS_URL") and os.environ.get("KIROSHI_TEST_NATS_URL")):
        pytest.skip("KIROSHI_TEST_REDIS_URL / KIROSHI_TEST_NATS_URL unset: no Redis and NATS here")
    workdir = tmp_path_factory.mktemp("outage")
    redis, queue = redis_server().start(), nats_server(workdir / "jetstream").start()
    env = {
        "KIROSHI_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "KIROSHI_NATS_URL": f"nats://127.0.0.1:{queue.port}",
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "k",
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
    }
    runner = Runner(workdir / "data", env).start()
    yield runner, redis, queue
    runner.stop()
    redis.stop()
    queue.stop()


def _login(url: str, email: str) -> httpx.Response:
    return httpx.post(f"{url}/users/login", json={"email": email, "password": PASSWORD}, timeout=10)


def test_redis_down_never_lets_a_revoked_token_in_and_recovers(outage: tuple[Runner, Server, Server]) -> None:
    runner, redis, _ = outage
    user = ChatUser.create(runner.url)
    revoked = _login(runner.url, user.email).json()["token"]
    httpx.post(f"{runner.url}/users/{user.user_id}/logout", headers={"Authorization": f"Bearer {revoked}"})

    redis.stop()
    try:
        assert httpx.get(f"{runner.url}/auth", headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
        assert httpx.get(f"{runner.url}/auth", headers=user.auth).status_code == 200
        login = _login(runner.url, user.email)
        assert login.status_code == 503
        assert login.headers["content-type"] == "application/problem+json"
        assert login.json()["code"] == "cache_unavailable"
        ready = httpx.get(f"{runner.url}/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["cache"]["status"] == "down"
    finally:
        redis.start()
    deadline = time.monotonic() + 10
    while _login(runner.url, user.email).status_code != 200:
        assert time.monotonic() < deadline, "login did not recover after Redis came back"
        time.sleep(0.2)
    assert httpx.get(f"{runner.url}/ready").status_code == 200


async def _events(port: int, contract_id: str) -> list[dict[str, object]]:
    connection = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        js = connection.jetstream()
        subscription = await js.subscribe(
            "kiroshi.events.contract.bought", deliver_policy=nats.js.api.DeliverPolicy.ALL
        )
        found = []
        while True:
            try:
                message = await subscription.next_msg(timeout=1)
            except nats.errors.TimeoutError:
                return found
            payload = json.loads(message.data)
            if payload["contract_id"] == contract_id:
                found.append(payload)
    finally:
        await connection.close()


def test_nats_down_loses_no_event_and_purchases_and_chats_go_on(outage: tuple[Runner, Server, Server]) -> None:
    runner, _, queue = outage
    admin = ChatUser.create(runner.url, ADMIN)
    buyer = ChatUser.create(runner.url)
    plan = httpx.post(
        f"{runner.url}/subscriptions/plans", headers=admin.auth, json={"price": 2.5, "duration": 30, "title": "Outage"}
    ).json()["plan"]

    queue.stop()
    try:
        bought = httpx.post(
            f"{runner.url}/subscriptions/buy",
            headers=buyer.auth,
            json={"plan_id": plan["plan_id"], "transaction_id": f"nats-down-{buyer.user_id}"},
        )
        assert bought.status_code == 201
        ws, _ = buyer.connect()
        with ws:
            assert buyer.say(ws, "still chatting?")[-1]["type"] == "done"
        assert httpx.get(f"{runner.url}/ready").json()["checks"]["message_queue"]["status"] == "down"
    finally:
        queue.start()
    contract_id = bought.json()["contract"]["contract_id"]
    deadline = time.monotonic() + 15
    while not asyncio.run(_events(queue.port, contract_id)):
        assert time.monotonic() < deadline, "the purchase's event was not delivered after NATS came back"
        time.sleep(0.5)
    assert len(asyncio.run(_events(queue.port, contract_id))) == 1
