"""One Kiroshi serves models from two upstreams by their public names (issue 18): a model whose
upstream fails before its first token is served by its fallback, and the `done` frame, `/v1`
answers and chunks, the stored usage, `GET /users/{user_id}/usage` and the metrics all name the
model that served; once a token is sent there is no switch. Costs are exact decimals; a plan's
money quota stops replies before they can spend past it. Two fake providers on real sockets."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest

from lib.chats.engine import ChatEngine
from lib.http.background_loop import run_coroutine
from lib.llm.catalogue import Catalogue, parse_catalogue
from lib.services import Services
from tests.support.client import Account, Client
from tests.support.fake_providers import FakeProvider
from tests.unit.functions.chats.session_harness import open_session, say

ALPHA_IN, ALPHA_OUT = Decimal("2.50"), Decimal("10.00")  # per million tokens
BETA_IN, BETA_OUT = Decimal("0.15"), Decimal("0.60")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeProvider, FakeProvider]]:
    alpha, beta = FakeProvider(tokens=5), FakeProvider(tokens=3)
    alpha.serve_in_thread()
    beta.serve_in_thread()
    yield alpha, beta
    alpha.stop()
    beta.stop()


@pytest.fixture
def alpha(servers: tuple[FakeProvider, FakeProvider]) -> FakeProvider:
    return _reset(servers[0])


@pytest.fixture
def beta(servers: tuple[FakeProvider, FakeProvider]) -> FakeProvider:
    return _reset(servers[1])


def _reset(fake: FakeProvider) -> FakeProvider:
    fake.status, fake.hang, fake.cut_after = 0, False, None
    fake.requests.clear()
    return fake


def catalogue(alpha: FakeProvider, beta: FakeProvider) -> Catalogue:
    return parse_catalogue(
        f"""
        [upstreams.a]
        base_url = "{alpha.base_url}"
        provider = "alpha"
        [upstreams.b]
        base_url = "{beta.base_url}"
        provider = "beta"

        [models.frontier]
        upstream = "a"
        provider_model = "gpt-4o"
        input_per_million = "{ALPHA_IN}"
        output_per_million = "{ALPHA_OUT}"
        fallbacks = ["cheap"]
        [models.cheap]
        upstream = "b"
        provider_model = "gpt-4o-mini"
        input_per_million = "{BETA_IN}"
        output_per_million = "{BETA_OUT}"
        """,
        {},
    )


@pytest.fixture
def services(make_services: Callable[..., Services], alpha: FakeProvider, beta: FakeProvider) -> Iterator[Services]:
    models = catalogue(alpha, beta)
    created = make_services(catalogue=models, models=models.names, max_reply_tokens=64)
    yield created
    if created.model_client is not None:  # /v1 made it on the dispatch's background loop
        run_coroutine(created.model_client.close())


def _chat(services: Services, user: Account, model: str, *contents: str) -> list[dict[str, Any]]:
    """Say each of `contents` in a new chat on `model` through the session engine; every frame."""
    client = Client(services)
    answer = client.post(f"/chats/{user.user_id}", {"model": model}, token=user.token)
    assert answer.status == 201, answer

    async def talk() -> list[dict[str, Any]]:
        from lib.llm.router import Router

        router = Router(services.settings.model_catalogue, 5)
        engine = ChatEngine(services, router)
        connection, socket = await open_session(engine, services, user, answer.json["chat_id"])
        for content in contents:
            await say(engine, connection, socket, content)
        await engine.shutdown(1)
        await router.close()
        return socket.frames

    return asyncio.run(talk())


def _cost(price_in: Decimal, price_out: Decimal, usage: dict[str, int]) -> Decimal:
    return (price_in * usage["prompt_tokens"] + price_out * usage["completion_tokens"]) / 1_000_000


def test_a_failing_upstream_is_passed_over_before_the_first_token_and_done_names_the_fallback(
    services: Services, alice: Account, alpha: FakeProvider, beta: FakeProvider
) -> None:
    alpha.status = 503

    frames = _chat(services, alice, "frontier", "hello")

    done = frames[-1]
    assert (done["type"], done["model"], done["finish_reason"]) == ("done", "cheap", "stop")
    assert "".join(f["content"] for f in frames if f["type"] == "delta") == "Kiroshi streams every"
    assert [r["model"] for r in alpha.requests] == ["gpt-4o"]  # asked once, under the provider's name
    assert [r["model"] for r in beta.requests] == ["gpt-4o-mini"]
    usage = Client(services).get(f"/users/{alice.user_id}/usage", token=alice.token).json["usage"]
    assert [(u["model"], u["cost"]) for u in usage] == [("cheap", str(_cost(BETA_IN, BETA_OUT, done["usage"])))]


def test_the_model_asked_for_serves_when_its_upstream_answers(
    services: Services, alice: Account, alpha: FakeProvider, beta: FakeProvider
) -> None:
    done = _chat(services, alice, "frontier", "hello")[-1]

    assert (done["type"], done["model"]) == ("done", "frontier")
    assert beta.requests == []


def test_once_a_token_is_sent_a_failure_ends_the_reply_without_switching(
    services: Services, alice: Account, alpha: FakeProvider, beta: FakeProvider
) -> None:
    alpha.cut_after = 2

    frames = _chat(services, alice, "frontier", "hello")

    assert [f["type"] for f in frames[:2]] == ["session", "delta"]
    assert "".join(f["content"] for f in frames if f["type"] == "delta") == "Kiroshi streams"
    assert (frames[-1]["type"], frames[-1]["code"]) == ("error", "upstream_unavailable")
    assert beta.requests == []
    usage = Client(services).get(f"/users/{alice.user_id}/usage", token=alice.token).json["usage"]
    assert [u["model"] for u in usage] == ["frontier"]  # what the broken reply used is still counted


def test_v1_answers_and_chunks_name_the_model_that_served(
    services: Services, client: Client, alice: Account, alpha: FakeProvider
) -> None:
    alpha.status = 429
    ask = {"model": "frontier", "messages": [{"role": "user", "content": "hi"}]}

    whole = client.post("/v1/chat/completions", ask, token=alice.token)
    streamed = client.post("/v1/chat/completions", ask | {"stream": True}, token=alice.token)

    assert (whole.status, whole.json["model"]) == (200, "cheap")
    chunks = [orjson.loads(line[6:]) for line in streamed.body.split(b"\n\n") if line.startswith(b"data: {")]
    assert chunks and {c["model"] for c in chunks} == {"cheap"}
    rows = client.get(f"/users/{alice.user_id}/usage", token=alice.token).json["usage"]
    assert [(r["model"], r["replies"]) for r in rows] == [("cheap", 2)]


def test_usage_answers_tokens_and_exact_cost_by_model_and_day(
    services: Services, client: Client, alice: Account, bob: Account, admin: Account, alpha: FakeProvider, clock: Any
) -> None:
    first = _chat(services, alice, "frontier", "one", "two")
    alpha.status = 500
    second = _chat(services, alice, "frontier", "three")
    _chat(services, bob, "cheap", "bob's")
    clock.advance(24 * 3600)
    client.relogin(alice)
    client.relogin(admin)
    alpha.status = 0
    third = _chat(services, alice, "frontier", "next day")
    today, yesterday = clock().date(), (clock().date().fromordinal(clock().date().toordinal() - 1))

    answer = client.get(
        f"/users/{alice.user_id}/usage",
        token=alice.token,
        query={"from": yesterday.isoformat(), "to": today.isoformat()},
    )

    dones = [f for f in first + second + third if f["type"] == "done"]
    frontier = [d["usage"] for d in dones[:2]]
    assert answer.status == 200, answer
    assert answer.json == {
        "user_id": alice.user_id,
        "from": yesterday.isoformat(),
        "to": today.isoformat(),
        "usage": [
            _row(yesterday.isoformat(), "cheap", [dones[2]["usage"]], BETA_IN, BETA_OUT),
            _row(yesterday.isoformat(), "frontier", frontier, ALPHA_IN, ALPHA_OUT),
            _row(today.isoformat(), "frontier", [dones[3]["usage"]], ALPHA_IN, ALPHA_OUT),
        ],
    }
    everyone = client.get("/usage", token=admin.token, query={"from": yesterday.isoformat()}).json
    assert {u["user_id"] for u in everyone["users"]} == {alice.user_id, bob.user_id}
    assert sum(Decimal(u["cost"]) for u in everyone["users"]) == sum(Decimal(r["cost"]) for r in everyone["usage"])


def _row(day: str, model: str, usages: list[dict[str, int]], price_in: Decimal, price_out: Decimal) -> dict[str, Any]:
    prompt, completion = sum(u["prompt_tokens"] for u in usages), sum(u["completion_tokens"] for u in usages)
    cost = sum((_cost(price_in, price_out, u) for u in usages), Decimal(0))
    return {
        "day": day,
        "model": model,
        "currency": "USD",
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost": format(cost.normalize(), "f"),
        "replies": len(usages),
    }


def test_a_money_quota_stops_replies_before_they_can_cost_more(
    services: Services, client: Client, alice: Account, admin: Account
) -> None:
    # 2,000 characters may be 2,016 tokens (their bytes): with a 64-token reply, at most $0.0057 at
    # frontier's prices; the fake counts ~504, $0.0013. A second turn sends both: at most $0.0107.
    plan = client.create_plan(admin.token, cost_quota=0.01, token_quota=None)
    assert plan["cost_quota"] == 0.01
    assert client.buy(alice.token, plan["plan_id"], "pay_quota").status == 201
    text = "x" * 2000

    frames = _chat(services, alice, "frontier", text, text)

    finals = [f for f in frames if f["type"] in ("done", "error")]
    assert finals[0]["type"] == "done"
    assert finals[1] == {
        "type": "error",
        "code": "quota_exceeded",
        "message": "your token or money quota for this period is used up",
    }
    allowed = {"model": "frontier", "messages": [{"role": "user", "content": text}]}
    too_much = {"model": "frontier", "messages": [{"role": "user", "content": text}] * 2}
    refused = client.post("/v1/chat/completions", too_much, token=alice.token)
    assert (refused.status, refused.json["error"]["code"]) == (429, "insufficient_quota")
    assert client.post("/v1/chat/completions", allowed, token=alice.token).status == 200
    rows = client.get(f"/users/{alice.user_id}/usage", token=alice.token).json["usage"]
    assert sum(Decimal(r["cost"]) for r in rows) <= Decimal("0.01")
    assert sum(r["replies"] for r in rows) == 2


def test_a_money_quota_must_be_in_the_currency_replies_are_priced_in(client: Client, admin: Account) -> None:
    body = {"price": 9, "duration": 30, "title": "Euro", "currency": "EUR", "cost_quota": 5}

    answer = client.post("/subscriptions/plans", body, token=admin.token)

    assert answer.status == 422
    assert "USD" in answer.json["errors"]["cost_quota"][0]


def test_usage_is_the_users_own_or_an_admins(client: Client, alice: Account, bob: Account, admin: Account) -> None:
    path = f"/users/{alice.user_id}/usage"

    assert client.get(path, token=alice.token).status == 200
    assert (client.get(path, token=bob.token).status, client.get("/usage", token=bob.token).status) == (403, 403)
    assert client.get(path, token=admin.token).json["user_id"] == alice.user_id
    assert client.get("/users/nobody/usage", token=admin.token).json["code"] == "user_not_found"
    assert client.get("/usage", token=admin.token).status == 200
    backwards = client.get(path, token=alice.token, query={"from": "2026-02-02", "to": "2026-02-01"})
    assert (backwards.status, list(backwards.json["errors"])) == (422, ["from"])
    assert client.get(path, token=alice.token, query={"from": "yesterday"}).status == 422


def test_metrics_count_tokens_cost_latency_and_errors_by_model_and_provider(
    services: Services, client: Client, alice: Account, alpha: FakeProvider
) -> None:
    alpha.status = 503
    _chat(services, alice, "frontier", "hello")

    text = client.get("/metrics").body.decode()

    assert _value(text, 'kiroshi_model_errors_total{code="upstream_error",model="frontier",provider="alpha"}') >= 1
    assert _value(text, 'kiroshi_model_tokens_total{kind="completion",model="cheap",provider="beta"}') >= 3
    assert _value(text, 'kiroshi_model_cost_total{currency="USD",model="cheap",provider="beta"}') > 0
    assert _value(text, 'kiroshi_model_first_token_seconds_count{model="cheap",provider="beta"}') >= 1


def _value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{series} is not exposed"
    return float(found.group(1))
