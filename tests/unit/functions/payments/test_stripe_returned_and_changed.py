"""Money that went back before its contract existed buys nothing; a plan changed between checkout and
payment sells what was paid for, and a plan deleted meanwhile gives the money back."""

from __future__ import annotations

from typing import Any

from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import checkout, contracts_of, deliver, paid_session


def _reason(answer: Any) -> tuple[int, str, str | None]:
    return answer.status, answer.json["code"], answer.json.get("reason")


# -- refunded or disputed before the contract exists ----------------------------------------------


def test_a_session_refunded_at_stripe_before_buy_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    stripe.refund_outside(intent, 100)  # even in part

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert _reason(answer) == (402, "payment_rejected", "payment_refunded")
    assert contracts_of(client, alice) == []
    [read] = [r for r in stripe.requests if r.method == "GET"]
    assert read.params == {"expand": ["payment_intent.latest_charge"]}


def test_a_session_disputed_before_buy_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    stripe.dispute_created(intent)

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert _reason(answer) == (402, "payment_rejected", "payment_disputed")
    assert contracts_of(client, alice) == []


def test_a_refund_event_before_the_checkout_event_leaves_no_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])
    completed = stripe.checkout_completed(session_id)  # the session as Stripe sent it, not expanded
    stripe.refund_outside(intent)

    refunded = deliver(client, stripe.charge_refunded(intent))
    bought = deliver(client, completed)

    assert (refunded.status, refunded.json["outcome"]) == (200, "applied")  # the payment is marked returned
    assert (bought.status, bought.json["outcome"]) == (200, "rejected")
    assert contracts_of(client, alice) == []


def test_a_dispute_event_before_the_checkout_event_leaves_no_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, intent = paid_session(client, stripe, alice, plan["plan_id"])

    disputed = deliver(client, stripe.dispute_created(intent))
    bought = deliver(client, stripe.checkout_completed(session_id))

    assert (disputed.json["outcome"], bought.json["outcome"]) == ("applied", "rejected")
    assert contracts_of(client, alice) == []


# -- the plan changed between checkout and payment -----------------------------------------------


def test_a_plan_repriced_after_checkout_sells_what_was_paid_for(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account, plan: dict[str, Any]
) -> None:
    session_id = checkout(client, alice, plan["plan_id"]).json["session_id"]
    changed = {"price": 19.99, "duration": 60}
    assert client.patch(f"/subscriptions/plans/{plan['plan_id']}", changed, token=admin.token).status == 200
    stripe.pay(session_id)  # 9.99, as the session asked

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert answer.status == 201, answer
    contract = answer.json["contract"]
    assert (contract["price"], contract["currency"], contract["duration"]) == (9.99, "USD", 30)
    assert stripe.refunds == []


def test_a_plan_archived_after_checkout_still_sells_what_was_paid_for(
    client: Client, stripe: FakeStripe, alice: Account, bob: Account, admin: Account, plan: dict[str, Any]
) -> None:
    bobs, _ = paid_session(client, stripe, bob, plan["plan_id"])
    assert client.buy(bob.token, plan["plan_id"], bobs).status == 201
    session_id = checkout(client, alice, plan["plan_id"]).json["session_id"]
    archived = client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token)
    assert archived.json["message"] == "Plan archived"  # bob's contract keeps it
    stripe.pay(session_id)

    answer = client.buy(alice.token, plan["plan_id"], session_id)

    assert answer.status == 201, answer
    assert answer.json["contract"]["price"] == 9.99
    assert checkout(client, alice, plan["plan_id"]).json["code"] == "plan_archived"  # but no new sale


def test_a_plan_deleted_after_checkout_refunds_the_payment_once(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account, plan: dict[str, Any]
) -> None:
    session_id = checkout(client, alice, plan["plan_id"]).json["session_id"]
    deleted = client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token)
    assert deleted.json["message"] == "Plan deleted"
    intent = stripe.pay(session_id)

    answer = client.buy(alice.token, plan["plan_id"], session_id)
    event = deliver(client, stripe.checkout_completed(session_id))
    again = client.buy(alice.token, plan["plan_id"], session_id)

    assert (answer.status, answer.json["code"], answer.json["refunded"]) == (409, "plan_withdrawn", True)
    assert event.json["outcome"] == "rejected"
    assert again.json["code"] == "plan_withdrawn" or again.json.get("reason") == "payment_refunded"
    assert [(r["payment_intent"], r["amount"]) for r in stripe.refunds] == [(intent, 999)]  # in full, once
    keys = {r.idempotency_key for r in stripe.refund_requests()}
    assert keys == {f"refund-session-{session_id}"}
    assert contracts_of(client, alice) == []


def test_a_free_plan_cannot_be_paid_through_stripe(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account
) -> None:
    free = client.create_plan(admin.token, price=0, duration=30, title="Free trial")

    answer = checkout(client, alice, free["plan_id"])

    assert (answer.status, answer.json["code"]) == (409, "free_plan")
    assert stripe.requests == []
