"""POST /subscriptions/buy with KIROSHI_PAYMENTS=stripe: no contract without a paid Checkout Session
of the plan's price for this user and this plan, and nothing stored when Stripe cannot say."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import checkout, contracts_of, paid_session


def _rejected(answer: Any) -> tuple[int, str, str]:
    return answer.status, answer.json["code"], answer.json.get("reason")


def test_an_invented_transaction_id_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    for invented in ("pay_123", "cs_test_invented", "pi_3Nx8example"):
        answer = client.buy(alice.token, plan["plan_id"], invented)
        assert _rejected(answer) == (402, "payment_rejected", "session_not_found")
    assert contracts_of(client, alice) == []


def test_an_unpaid_session_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id = checkout(client, alice, plan["plan_id"]).json["session_id"]

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert _rejected(answer) == (402, "payment_rejected", "session_unpaid")
    assert contracts_of(client, alice) == []


@pytest.mark.parametrize(
    ("paid", "reason"),
    [({"amount_total": 1}, "amount_mismatch"), ({"currency": "eur"}, "currency_mismatch")],
)
def test_a_session_paid_at_another_price_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], paid: dict[str, Any], reason: str
) -> None:
    session_id = checkout(client, alice, plan["plan_id"]).json["session_id"]
    stripe.pay(session_id, **paid)

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert _rejected(answer) == (402, "payment_rejected", reason)
    assert contracts_of(client, alice) == []


def test_a_session_of_another_user_or_plan_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, bob: Account, admin: Account, plan: dict[str, Any]
) -> None:
    same_price = client.create_plan(admin.token, price=9.99, duration=30, title="Team")
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])

    by_bob = client.buy(bob.token, plan["plan_id"], session_id)
    other_plan = client.buy(alice.token, same_price["plan_id"], session_id)

    assert _rejected(by_bob) == (402, "payment_rejected", "user_mismatch")
    assert _rejected(other_plan) == (402, "payment_rejected", "plan_mismatch")
    assert contracts_of(client, alice) == contracts_of(client, bob) == []


def test_a_paid_session_buys_once_and_keeps_its_payment_intent(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])

    bought = client.buy(alice.token, plan["plan_id"], session_id)
    replayed = client.buy(alice.token, plan["plan_id"], session_id)

    assert (bought.status, replayed.status) == (201, 200)
    contract = bought.json["contract"]
    assert replayed.json["contract"] == contract
    assert (contract["transaction_id"], contract["payment_intent_id"]) == (session_id, intent)
    assert (contract["price"], contract["currency"], contract["status"]) == (9.99, "USD", "active")
    assert [c["contract_id"] for c in contracts_of(client, alice)] == [contract["contract_id"]]
    retrieved = [r for r in stripe.requests if r.method == "GET"]
    assert [r.path for r in retrieved] == [f"/v1/checkout/sessions/{session_id}"]  # a replay asks Stripe nothing


def test_two_users_racing_one_session_make_one_contract(
    client: Client, stripe: FakeStripe, alice: Account, bob: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    buyers = [alice, bob] * 10

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda who: (who, client.buy(who.token, plan["plan_id"], session_id)), buyers))

    alices = sorted(a.status for who, a in answers if who is alice)
    assert alices == [200] * 9 + [201]
    assert {(a.status, a.json["code"]) for who, a in answers if who is bob} <= {
        (402, "payment_rejected"),
        (409, "transaction_id_reused"),
    }
    assert len(contracts_of(client, alice)) == 1 and contracts_of(client, bob) == []


def test_stripe_down_stores_nothing_and_a_retry_buys(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    stripe.fail(3, 503)  # the first try and the gateway's two retries

    down = client.buy(alice.token, plan["plan_id"], session_id)

    assert (down.status, down.json["code"]) == (503, "payments_unavailable")
    assert contracts_of(client, alice) == []
    assert client.get(f"/subscriptions/subscribers/{alice.user_id}", token=alice.token).status == 404
    assert client.buy(alice.token, plan["plan_id"], session_id).status == 201
