"""Two of everything behind Nginx behaves as one Kiroshi (real Redis, NATS and Nginx; one shared
SurrealDB engine), and Nginx, rendered from the repository's config with compose's values in front of
processes with their default limits, is the trust boundary an attacker meets: it says who the client
is, and only it; its limits hold per client; it logs no secret. Needs KIROSHI_TEST_REDIS_URL and
KIROSHI_TEST_NATS_URL (CI sets both)."""

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
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.chat import PASSWORD, ChatUser, frames_until_end, reply_text
from tests.support.fake_openai import FakeOpenAI
from tests.support.topology import ADMIN, Topology, client_at, new_address

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
    user = stack.user(stack.http[0].url)
    login = httpx.post(
        f"{stack.http[1].url}/users/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-Real-IP": new_address()},  # as Nginx says it
    )

    assert login.status_code == 200
    assert httpx.get(f"{stack.url}/auth", headers=user.auth).json()["user_id"] == user.user_id


def test_logout_on_one_instance_rejects_the_token_everywhere_and_closes_its_socket(stack: Topology) -> None:
    user = stack.user()
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
    user = stack.user()
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
    user = stack.user()
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
    admin = stack.user(email=ADMIN)
    plan = httpx.post(
        f"{stack.url}/subscriptions/plans", headers=admin.auth, json={"price": 4.99, "duration": 30, "title": "Shared"}
    ).json()["plan"]["plan_id"]
    buyer = stack.user()
    urls = [stack.http[0].url, stack.http[1].url]

    def buy(i: int) -> int:
        body = {"plan_id": plan, "transaction_id": f"topology-{buyer.user_id}"}
        return httpx.post(f"{urls[i % 2]}/subscriptions/buy", headers=buyer.auth, json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(buy, range(40)))

    assert statuses == {201: 1, 200: 39}
    contracts = httpx.get(f"{stack.url}/subscriptions/contracts", headers=buyer.auth).json()["contracts"]
    assert len(contracts) == 1


def test_the_app_sees_the_address_nginx_saw_whatever_the_client_claims(stack: Topology) -> None:
    user, address = stack.user(), new_address()
    claims = {"X-Real-IP": "6.6.6.6", "X-Forwarded-For": "6.6.6.6, 7.7.7.7", "X-Request-Id": "chosen-by-the-client"}
    with client_at(address) as client:
        answers = [client.get(f"{stack.url}/auth", headers=user.auth | claims) for _ in range(4)]  # both instances

    nginx = {entry["request_id"]: entry for entry in stack.nginx_lines()}
    for answer in answers:
        request_id = answer.headers["x-request-id"]
        seen = stack.app_line(request_id)
        assert answer.status_code == 200
        assert (seen["client"], seen["route"], seen["user_id"]) == (address, "users.me", user.user_id)
        assert nginx[request_id]["client"] == address  # one id for the request in both logs
    assert len({answer.headers["x-request-id"] for answer in answers}) == 4


def _kiroshi_status(client: httpx.Client, url: str, body: object, headers: dict[str, str] | None = None) -> int:
    """Kiroshi's answer, past Nginx's own limit (10 a second; its 429 has no request id), which Kiroshi never sees."""
    while True:
        answer = client.post(url, json=body, headers=headers)
        if "x-request-id" in answer.headers:
            return answer.status_code
        time.sleep(0.1)


def test_a_stranger_who_spends_an_address_registrations_leaves_everyone_else_theirs(stack: Topology) -> None:
    """Kiroshi's default: 100 registrations an hour per address (every attempt counts)."""
    url, body = f"{stack.url}/users/register", {"email": "spent@example.com", "nickname": "s", "name": "S"}
    body |= {"surname": "S", "password": PASSWORD}
    with client_at(new_address()) as stranger:
        statuses = [_kiroshi_status(stranger, url, body) for _ in range(101)]
        claiming = _kiroshi_status(stranger, url, body, {"X-Real-IP": new_address(), "X-Forwarded-For": new_address()})
    neighbour = stack.user()  # another address, through the same Nginx

    assert 429 not in statuses[:100]
    assert statuses[100] == claiming == 429
    assert httpx.get(f"{stack.url}/auth", headers=neighbour.auth).status_code == 200


@pytest.mark.parametrize("path", ["/users/register/", "/users/register%2F", "//users/register", "/users/login/"])
def test_another_spelling_of_register_or_login_is_a_404_within_nginx_limit(stack: Topology, path: str) -> None:
    with client_at(new_address()) as client:
        answers = [client.post(stack.url + path, json={}) for _ in range(40)]

    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {404, 429}, statuses  # Kiroshi's 404, and Nginx's limit past its burst of 20
    assert {a.json()["code"] for a in answers} == {"no_such_endpoint", "rate_limited"}


@pytest.mark.parametrize("path", ["/metrics", "/ready", "/metrics/", "//ready", "/METRICS", "/%6detrics", "/ready?x=1"])
def test_metrics_and_readiness_are_not_served_through_nginx(stack: Topology, path: str) -> None:
    answer = httpx.get(stack.url + path)

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "no_such_endpoint"


def test_metrics_and_readiness_answer_on_each_instance_for_prometheus(stack: Topology) -> None:
    for runner in stack.http + stack.ws:
        assert httpx.get(f"{runner.url}/ready").status_code == 200
        metrics = httpx.get(f"{runner.url}/metrics")
        assert metrics.status_code == 200 and "kiroshi_" in metrics.text


def _open(url: str, address: str) -> ClientConnection | int:
    """An open session from `address`, or the status that refused it."""
    try:
        return connect(url, source_address=(address, 0), open_timeout=10, legacy=True)
    except InvalidStatus as refused:
        return refused.response.status_code


def test_nginx_answers_its_own_limits_as_problems_and_logs_no_secret(stack: Topology) -> None:
    users = [stack.user() for _ in range(5)]
    too_big = httpx.post(
        f"{stack.url}/users/login", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    with client_at(new_address()) as client, ThreadPoolExecutor(max_workers=20) as pool:
        login = {"email": "x@example.com", "password": "wrong one!"}
        answers = list(pool.map(lambda _: client.post(f"{stack.url}/users/login", json=login), range(120)))
    first = users[0]
    ticket = httpx.post(f"{stack.url}/chats/{first.user_id}/{first.chat_id}/ticket", headers=first.auth).json()
    ws, session_token = first.connect(auth_token=ticket["ticket"])
    ws.close()
    again, _ = first.connect(session_token=session_token)
    again.close()
    wrong_token = _open(first.session_url(auth_token="not.a.token"), new_address())
    flood, sockets = new_address(), []
    try:  # 4 users x 13 sockets (Kiroshi allows 16 a user) from one address: Nginx allows 50
        for user in users[1:] * 13:
            sockets.append(_open(user.session_url(), flood))
    finally:
        for socket in sockets:
            if not isinstance(socket, int):
                socket.close()
    logs = stack.access_log + stack.error_log

    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].json()["code"] == "rate_limited"
    assert wrong_token == 401
    assert Counter(isinstance(socket, int) for socket in sockets) == {False: 50, True: 2}
    assert [socket for socket in sockets if isinstance(socket, int)] == [429, 429]
    for secret in [*(user.token for user in users), ticket["ticket"], session_token, "auth_token", "session_token"]:
        assert secret not in logs
    assert all("?" not in entry["path"] for entry in stack.nginx_lines())
    assert "?" not in stack.error_log


def test_nginx_serves_the_console_to_a_browser_and_passes_the_new_routes_through(stack: Topology) -> None:
    page = httpx.get(f"{stack.url}/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    api = httpx.get(f"{stack.url}/", headers={"accept": "*/*"})
    script = httpx.get(f"{stack.url}/console/app.js")
    outside = httpx.get(f"{stack.url}/console/../pyproject.toml")
    user = stack.user()
    usage = httpx.get(f"{stack.url}/users/{user.user_id}/usage", headers=user.auth)
    signed = {"stripe-signature": "t=1,v1=00", "content-type": "application/json"}
    webhook = httpx.post(
        f"{stack.url}/payments/stripe/webhook",
        content=b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}',
        headers=signed,
    )

    assert page.status_code == 200 and '<script type="module" src="/console/app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert api.json()["docs"] == "/docs"
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        ("text/javascript", "application/javascript")
    )
    assert script.headers["content-security-policy"] == page.headers["content-security-policy"]
    assert outside.status_code == 404
    assert usage.status_code == 200 and usage.json()["user_id"] == user.user_id
    assert webhook.status_code == 409, webhook.text  # trust mode: Kiroshi's own answer, through Nginx
    assert webhook.json()["code"] == "payments_not_configured"
