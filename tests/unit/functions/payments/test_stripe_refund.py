"""POST /subscriptions/refund with KIROSHI_PAYMENTS=stripe: the prorated amount goes back through
Stripe once (Idempotency-Key refund-<contract_id>), before the contract is marked refunded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lib.billing.payments import TrustingVerifier
from lib.billing.purchases import REFUND_QUOTE_TTL
from tests.support.client import Account, Client
from tests.support.clock import MovableClock
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import bought, contract_of, refund

DAY = 86400


def test_the_prorated_amount_goes_back_through_stripe_once(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    clock.advance(10 * DAY)
    client.relogin(alice)

    answer = refund(client, alice, contract["contract_id"])

    assert answer.status == 200, answer
    ex = answer.json["ex_contract"]
    assert ex["status"] == "refunded" and ex["refund_amount"] in (6.66, 6.65)  # 9.99 x 20/30, rounded down
    [sent] = stripe.refund_requests()
    assert sent.idempotency_key == f"refund-{contract['contract_id']}"
    assert sent.params == {
        "payment_intent": intent,
        "amount": str(round(ex["refund_amount"] * 100)),
        "reason": "requested_by_customer",
        "metadata": {"contract_id": contract["contract_id"]},
    }
    assert [r["amount"] for r in stripe.refunds] == [round(ex["refund_amount"] * 100)]


def test_fifty_concurrent_refunds_refund_once_at_stripe_and_in_the_ledger(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    seen: list[str] = []
    client.services.bus.subscribe("kiroshi.events.contract.refunded", lambda subject, _p: seen.append(subject))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: refund(client, alice, contract["contract_id"]), range(50)))

    statuses = sorted(a.status for a in answers)
    assert statuses.count(200) == 1, statuses
    assert {(a.status, a.json["code"]) for a in answers if a.status != 200} <= {(409, "already_refunded")}
    assert len(stripe.refunds) == 1 and stripe.refunds[0]["payment_intent"] == intent
    sent = stripe.refund_requests()
    assert {(r.idempotency_key, r.params["amount"]) for r in sent} == {
        (f"refund-{contract['contract_id']}", str(stripe.refunds[0]["amount"]))
    }
    assert seen == ["kiroshi.events.contract.refunded"]
    assert contract_of(client, alice, contract["contract_id"])["refund_amount"] == stripe.refunds[0]["amount"] / 100


def test_stripe_down_leaves_the_contract_as_it_was_and_a_prompt_retry_refunds_the_same_amount(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    clock.advance(10 * DAY)
    client.relogin(alice)
    stripe.fail(3, 503)

    down = refund(client, alice, contract["contract_id"])

    assert (down.status, down.json["code"]) == (503, "payments_unavailable")
    unchanged = contract_of(client, alice, contract["contract_id"])
    assert (unchanged["status"], unchanged["refunded_at"], unchanged["refund_amount"]) == ("active", None, None)
    assert unchanged["ends_at"] == contract["ends_at"]
    assert stripe.refunds == []
    clock.advance(REFUND_QUOTE_TTL.total_seconds() - 60)  # within the quote's life: the same amount, the same key
    retried = refund(client, alice, contract["contract_id"])
    assert retried.status == 200, retried
    assert [r["amount"] for r in stripe.refunds] in ([666], [665])  # as of the first request
    assert {r.idempotency_key for r in stripe.refund_requests()} == {f"refund-{contract['contract_id']}"}
    assert retried.json["ex_contract"]["refund_amount"] == stripe.refunds[0]["amount"] / 100


def test_a_refund_stripe_refuses_leaves_the_contract_as_it_was(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    stripe.refund_outside(intent)  # refunded in full in the dashboard; its webhook has not come yet

    answer = refund(client, alice, contract["contract_id"])

    assert (answer.status, answer.json["code"]) == (502, "refund_rejected")
    assert contract_of(client, alice, contract["contract_id"])["status"] == "active"


def test_a_zero_refund_asks_stripe_nothing(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account, clock: MovableClock
) -> None:
    cent = client.create_plan(admin.token, price=0.01, duration=30, title="Penny")
    contract, _ = bought(client, stripe, alice, cent["plan_id"])
    clock.advance(DAY)  # 1 cent x 29/30, rounded down
    client.relogin(alice)

    answer = refund(client, alice, contract["contract_id"])

    assert answer.status == 200, answer
    assert answer.json["ex_contract"]["refund_amount"] == 0.0
    assert stripe.refund_requests() == []


def test_a_contract_paid_at_stripe_is_not_refunded_without_stripe(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    client.services.payments = TrustingVerifier()  # the server restarted with KIROSHI_PAYMENTS=trust

    answer = refund(client, alice, contract["contract_id"])

    assert (answer.status, answer.json["code"]) == (409, "payments_not_configured")
    assert contract_of(client, alice, contract["contract_id"])["status"] == "active"
    assert stripe.refund_requests() == []
