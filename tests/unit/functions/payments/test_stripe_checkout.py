"""POST /subscriptions/checkout with KIROSHI_PAYMENTS=stripe: what Stripe is asked, and what the buyer gets."""

from __future__ import annotations

from typing import Any

from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import checkout, paid_session


def test_checkout_creates_a_session_priced_from_the_plan(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    answer = checkout(client, alice, plan["plan_id"], success_url="https://app.test/ok?s={CHECKOUT_SESSION_ID}")

    assert answer.status == 201, answer
    session_id = answer.json["session_id"]
    assert answer.json == {"session_id": session_id, "url": f"https://checkout.stripe.com/c/pay/{session_id}"}
    [sent] = stripe.requests
    assert sent.params["mode"] == "payment"
    assert sent.params["line_items"] == [
        {"price_data": {"currency": "usd", "unit_amount": "999", "product_data": {"name": "Pro"}}, "quantity": "1"}
    ]
    assert sent.params["client_reference_id"] == alice.user_id
    assert sent.params["metadata"] == {
        "kiroshi": "1",  # this server's checkout made it
        "user_id": alice.user_id,
        "plan_id": plan["plan_id"],
        "price_minor": "999",  # what is sold: the purchase honours it if the plan changes meanwhile
        "currency": "USD",
        "duration_days": "30",
    }
    assert sent.params["success_url"] == "https://app.test/ok?s={CHECKOUT_SESSION_ID}"
    assert sent.params["cancel_url"] == "http://kiroshi.test/?checkout=cancelled"  # the request's Host


def test_return_urls_default_to_the_callers_origin(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    body = {"plan_id": plan["plan_id"]}
    answer = client.post("/subscriptions/checkout", body, token=alice.token, headers={"origin": "https://chat.test"})

    assert answer.status == 201, answer
    [sent] = stripe.requests
    assert sent.params["success_url"] == "https://chat.test/?checkout=success&session_id={CHECKOUT_SESSION_ID}"
    assert sent.params["cancel_url"] == "https://chat.test/?checkout=cancelled"


def test_unknown_and_archived_plans_ask_stripe_nothing(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    assert client.buy(alice.token, plan["plan_id"], session_id).status == 201
    deleted = client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token)
    assert deleted.json["message"] == "Plan archived"  # a live contract keeps it
    stripe.reset()

    unknown = checkout(client, alice, "no-such-plan")
    archived = checkout(client, alice, plan["plan_id"])

    assert (unknown.status, unknown.json["code"]) == (404, "plan_not_found")
    assert (archived.status, archived.json["code"]) == (409, "plan_archived")
    assert stripe.requests == []


def test_stripe_down_is_503_and_a_refused_key_502(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    stripe.fail(10, 503)
    down = checkout(client, alice, plan["plan_id"])
    stripe.reset()
    stripe.api_key = "sk_test_another_account"
    try:
        refused = checkout(client, alice, plan["plan_id"])
    finally:
        stripe.api_key = FakeStripe.api_key

    assert (down.status, down.json["code"]) == (503, "payments_unavailable")
    assert (refused.status, refused.json["code"]) == (502, "payments_failed")
    assert "sk_test" not in down.body.decode() + refused.body.decode()
