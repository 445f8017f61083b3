"""Two of everything behind Nginx behaves as one Kiroshi (real Redis, NATS and Nginx; one shared
SurrealDB engine). Needs KIROSHI_TEST_REDIS_URL and KIROSHI_TEST_NATS_URL (CI sets both)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.chat import ChatUser, frames_until_end, reply_text
from tests.support.fake_openai import FakeOpenAI
from tests.support.topology import ADMIN, Topology

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("KIROSHI_TEST_REDIS_URL", "")
NATS_URL = os.environ.get("KIROSHI_TEST_NATS_URL", "")


@pytest.fixture(scope="module")
def stack(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if not (REDIS_URL and NATS_URL):
        pytest.skip("KIROSHI_TEST_REDIS_URL / KIROSHI_TEST_NATS_URL unset: no Redis and NATS to share")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is not installed (.ci/run installs it: apt-get install -y nginx)")
    topology = Topology(tmp_path_factory.mktemp("topology"), REDIS_URL, NATS_URL, fake.base_url)
    yield topology
    topology.stop()


def _on(base: str, user: ChatUser) -> ChatUser:
    return ChatUser(base, user.user_id, user.email, user.token, user.chat_id)


def test_register_on_one_instance_and_log_in_on_the_other(stack: Topology) -> None:
    user = ChatUser.create(stack.http[0].url)
    login = httpx.post(
        f"{stack.http[1].url}/users/login", json={"email": user.email, "password": "a chatty passphrase"}
    )

    assert login.status_code == 200
    assert httpx.get(f"{stack.url}/auth", headers=user.auth).json()["user_id"] == user.user_id


def test_logout_on_one_instance_rejects_the_token_everywhere_and_closes_its_socket(stack: Topology) -> None:
    user = ChatUser.create(stack.url)
    ws, _ = _on(stack.ws[1].url, user).connect()
    assert httpx.get(f"{stack.http[1].url}/auth", headers=user.auth).status_code == 200

    started = time.monotonic()
    assert httpx.post(f"{stack.http[0].url}/users/{user.user_id}/logout", headers=user.auth).status_code == 200

    assert httpx.get(f"{stack.http[1].url}/auth", headers=user.auth).status_code == 401
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert time.monotonic() - started < 1.5
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_reply_started_on_one_instance_resumes_on_the_other(stack: Topology) -> None:
    user = ChatUser.create(stack.url)
    first = _on(stack.ws[0].url, user)
    ws, token = first.connect()
    ws.send(json.dumps({"type": "message", "content": "travel [tokens=40] [delay=20]"}))
    seen = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
    ws.close()

    again, _ = _on(stack.ws[1].url, user).connect(session_token=token, last_index=seen[-1]["index"])
    with again:
        rest = frames_until_end(again)

    frames = seen + rest
    assert [f["index"] for f in frames if f["type"] == "delta"] == list(range(40))
    assert rest[-1]["type"] == "done"
    assert _on(stack.url, user).chat()["messages"][-1]["content"] == reply_text(frames)


def test_stop_sent_to_the_other_instance_stops_the_reply(stack: Topology) -> None:
    user = ChatUser.create(stack.url)
    generating, _ = _on(stack.ws[0].url, user).connect()
    other, _ = _on(stack.ws[1].url, user).connect()
    with generating, other:
        generating.send(json.dumps({"type": "message", "content": "endless [tokens=400] [delay=10]"}))
        json.loads(generating.recv(timeout=10))
        other.send(json.dumps({"type": "stop"}))
        frames = frames_until_end(generating)

    assert frames[-1]["type"] == "done"
    assert frames[-1]["finish_reason"] == "stopped"
    assert len(frames) < 200


def test_concurrent_purchases_over_both_instances_make_one_contract(stack: Topology) -> None:
    admin = ChatUser.create(stack.url, ADMIN)
    plan = httpx.post(
        f"{stack.url}/subscriptions/plans", headers=admin.auth, json={"price": 4.99, "duration": 30, "title": "Shared"}
    ).json()["plan"]["plan_id"]
    buyer = ChatUser.create(stack.url)
    urls = [stack.http[0].url, stack.http[1].url]

    def buy(i: int) -> int:
        body = {"plan_id": plan, "transaction_id": f"topology-{buyer.user_id}"}
        return httpx.post(f"{urls[i % 2]}/subscriptions/buy", headers=buyer.auth, json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(buy, range(40)))

    assert statuses == {201: 1, 200: 39}
    contracts = httpx.get(f"{stack.url}/subscriptions/contracts", headers=buyer.auth).json()["contracts"]
    assert len(contracts) == 1


def test_nginx_answers_its_own_limits_as_problems_and_logs_no_query_strings(stack: Topology) -> None:
    user = ChatUser.create(stack.url)
    too_big = httpx.post(
        f"{stack.url}/users/login", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(
                    f"{stack.url}/users/login", json={"email": "x@example.com", "password": "wrong one!"}
                ),
                range(120),
            )
        )
    ws, _ = user.connect()
    ws.close()

    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].json()["code"] in ("rate_limited", "too_many_requests")
    assert "auth_token" not in stack.access_log
    assert user.token not in stack.access_log
