"""POST /payments/stripe/webhook: signed events only, each applied once, with the same contracts
and domain events as the API makes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe, signed_webhook, stripe_event
from tests.support.stripe_payments import WEBHOOK_SECRET, checkout, contracts_of, deliver, paid_session


def _listen(client: Client, *topics: str) -> list[str]:
    seen: list[str] = []
    for topic in topics:
        client.services.bus.subscribe(f"kiroshi.events.{topic}", lambda subject, _p: seen.append(subject))
    return seen


@pytest.mark.parametrize(
    "signing",
    [{"secret": "whsec_test_someone_else"}, {"timestamp": int(time.time()) - 3600}],
    ids=["wrong secret", "stale"],
)
def test_a_badly_signed_event_is_400_and_does_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], signing: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])

    answer = deliver(client, stripe.checkout_completed(session_id), **signing)

    assert (answer.status, answer.json["code"]) == (400, "webhook_signature_invalid")
    assert contracts_of(client, alice) == []


def test_an_unsigned_or_altered_body_is_400(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    event = stripe.checkout_completed(session_id)
    _, signature = signed_webhook(stripe_event("ping", {}), WEBHOOK_SECRET)  # signs another body
    headers = {"content-type": "application/json", "stripe-signature": signature}

    unsigned = client.post("/payments/stripe/webhook", event)
    altered = client.request("POST", "/payments/stripe/webhook", body=json.dumps(event).encode(), headers=headers)

    assert (unsigned.status, unsigned.json["code"]) == (400, "webhook_signature_invalid")
    assert (altered.status, altered.json["code"]) == (400, "webhook_signature_invalid")
    assert contracts_of(client, alice) == []


def test_a_completed_checkout_buys_and_a_later_buy_replays_it(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    seen = _listen(client, "contract.bought")
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])

    answer = deliver(client, stripe.checkout_completed(session_id))
    bought = client.buy(alice.token, plan["plan_id"], session_id)

    assert answer.status == 200, answer
    assert answer.json["outcome"] == "applied"
    assert bought.status == 200  # the webhook made it: buy answers the same contract
    [contract] = contracts_of(client, alice)
    assert bought.json["contract"] == contract
    assert (contract["transaction_id"], contract["payment_intent_id"]) == (session_id, intent)
    assert seen == ["kiroshi.events.contract.bought"]


def test_a_buy_before_the_webhook_leaves_one_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    seen = _listen(client, "contract.bought")

    bought = client.buy(alice.token, plan["plan_id"], session_id)
    answer = deliver(client, stripe.checkout_completed(session_id))

    assert (bought.status, answer.status, answer.json["outcome"]) == (201, 200, "already_applied")
    assert [c["contract_id"] for c in contracts_of(client, alice)] == [bought.json["contract"]["contract_id"]]
    assert seen == ["kiroshi.events.contract.bought"]


def test_buy_and_the_webhook_racing_make_one_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    event = stripe.checkout_completed(session_id)
    seen = _listen(client, "contract.bought")
    calls = [lambda: client.buy(alice.token, plan["plan_id"], session_id), lambda: deliver(client, event)] * 8

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda call: call(), calls))

    assert {a.status for a in answers} <= {200, 201}
    assert len(contracts_of(client, alice)) == 1
    assert seen == ["kiroshi.events.contract.bought"]


def test_an_unpaid_or_mispriced_session_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    unpaid = checkout(client, alice, plan["plan_id"]).json["session_id"]
    cheap = checkout(client, alice, plan["plan_id"]).json["session_id"]
    stripe.pay(cheap, amount_total=1)

    answers = [deliver(client, stripe.checkout_completed(s)) for s in (unpaid, cheap)]

    assert [(a.status, a.json["outcome"]) for a in answers] == [(200, "rejected"), (200, "rejected")]
    assert contracts_of(client, alice) == []


def test_a_replayed_event_has_no_second_effect(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    deliver(client, stripe.checkout_completed(session_id))
    stripe.refund_outside(intent)
    refunded = stripe.charge_refunded(intent)
    seen = _listen(client, "contract.bought", "contract.refunded")

    first = deliver(client, refunded)
    again = deliver(client, refunded)

    assert (first.json["outcome"], again.json["outcome"]) == ("applied", "duplicate")
    assert seen == ["kiroshi.events.contract.refunded"]
    assert len(contracts_of(client, alice)) == 1


def test_a_refund_made_in_stripes_dashboard_refunds_the_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    contract = client.buy(alice.token, plan["plan_id"], session_id).json["contract"]
    stripe.refund_outside(intent)

    answer = deliver(client, stripe.charge_refunded(intent))

    assert (answer.status, answer.json["outcome"]) == (200, "applied")
    [now] = contracts_of(client, alice)
    assert (now["status"], now["refund_amount"]) == ("refunded", 9.99)
    again = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=alice.token)
    assert (again.status, again.json["code"]) == (409, "already_refunded")
    assert stripe.refund_requests() == []
    assert client.get("/auth", token=alice.token).json["metadata"]["subscription"] is None


def test_the_refund_event_of_an_api_refund_changes_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    contract = client.buy(alice.token, plan["plan_id"], session_id).json["contract"]
    refunded = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=alice.token)

    answer = deliver(client, stripe.charge_refunded(intent))

    assert (answer.status, answer.json["outcome"]) == (200, "already_applied")
    [now] = contracts_of(client, alice)
    assert now == refunded.json["ex_contract"]


def test_a_dispute_ends_the_contract_at_once_and_later_ones_move_up(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    first_session, intent = paid_session(client, stripe, alice, plan["plan_id"])
    second_session, _ = paid_session(client, stripe, alice, plan["plan_id"])
    first = client.buy(alice.token, plan["plan_id"], first_session).json["contract"]
    second = client.buy(alice.token, plan["plan_id"], second_session).json["contract"]
    seen = _listen(client, "contract.ended")

    answer = deliver(client, stripe.dispute_created(intent))

    assert (answer.status, answer.json["outcome"]) == (200, "applied")
    ended = client.get(f"/subscriptions/contracts/{first['contract_id']}", token=alice.token).json
    moved = client.get(f"/subscriptions/contracts/{second['contract_id']}", token=alice.token).json
    assert ended["status"] == "expired" and ended["disputed_at"] is not None
    assert ended["ends_at"] < first["ends_at"] and ended["refund_amount"] is None
    assert moved["starts_at"] == ended["ends_at"] and moved["status"] == "active"
    assert seen == ["kiroshi.events.contract.ended"]
    refund = client.post("/subscriptions/refund", {"contract_id": first["contract_id"]}, token=alice.token)
    assert (refund.status, refund.json["code"]) == (409, "contract_expired")
    assert deliver(client, stripe.dispute_created(intent)).json["outcome"] == "already_applied"


def test_unknown_event_types_are_acknowledged_and_ignored(client: Client, stripe: FakeStripe) -> None:
    answer = deliver(client, stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert answer.status == 200
    assert answer.json["outcome"] == "ignored" and answer.json["type"] == "customer.created"
