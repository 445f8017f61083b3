"""A plan's limits reach what its buyers may do: its models and its token quota come with the
contract bought, in place of the free tier's (here: every model, no quota)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lib.services import Services
from tests.support.client import Account, Answer, Client
from tests.unit.functions.chats.session_harness import ScriptedModel

TEXT = "€" * 10_000  # 30,000 UTF-8 bytes: at most 30,000 tokens (a byte-level tokenizer)


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    created = make_services(models=("small", "large"), max_reply_tokens=16, free_token_quota=None)
    created.model_client = ScriptedModel(words=16)
    return created


def _ask(client: Client, user: Account, model: str, *contents: str) -> Answer:
    messages = [{"role": "user", "content": c} for c in contents]
    return client.post("/v1/chat/completions", {"model": model, "messages": messages}, token=user.token)


def _error(answer: Answer) -> tuple[int, str]:
    return answer.status, answer.json["error"]["code"]


def test_a_50k_token_plan_limits_its_buyer_to_50k_tokens(
    client: Client, alice: Account, bob: Account, admin: Account
) -> None:
    plan = client.create_plan(admin.token, token_quota=50_000)
    assert client.buy(alice.token, plan["plan_id"], "pay_1").status == 201
    assert plan["token_quota"] == 50_000

    assert _error(_ask(client, alice, "small", TEXT, TEXT)) == (429, "insufficient_quota")  # over 60,000 at most
    assert _ask(client, bob, "small", TEXT, TEXT).status == 200  # the free tier has no quota
    assert _ask(client, alice, "small", TEXT).status == 200
    assert _error(_ask(client, alice, "small", TEXT)) == (429, "insufficient_quota")  # over 30,000 used, as many asked


def test_a_plans_models_are_all_its_buyer_may_use(client: Client, alice: Account, bob: Account, admin: Account) -> None:
    plan = client.create_plan(admin.token, models=["small"])
    client.buy(alice.token, plan["plan_id"], "pay_1")

    assert _error(_ask(client, alice, "large", "hello")) == (404, "model_not_found")
    assert _ask(client, alice, "small", "hello").status == 200
    assert _ask(client, bob, "large", "hello").status == 200


def test_a_contract_keeps_what_its_plan_said_when_bought(client: Client, alice: Account, admin: Account) -> None:
    plan = client.create_plan(admin.token, title="Team", price=12.5, currency="EUR", duration=7, token_quota=9)

    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    client.patch(f"/subscriptions/plans/{plan['plan_id']}", {"title": "Renamed", "price": 99}, token=admin.token)
    shown = client.get(f"/subscriptions/contracts/{contract['contract_id']}", token=alice.token).json

    for seen in (contract, shown):
        assert {k: seen[k] for k in ("plan_id", "plan_title", "transaction_id", "price", "currency", "duration")} == {
            "plan_id": plan["plan_id"],
            "plan_title": "Team",
            "transaction_id": "pay_1",
            "price": 12.5,
            "currency": "EUR",
            "duration": 7,
        }
