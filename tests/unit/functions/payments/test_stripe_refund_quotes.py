"""A refund's quote lives REFUND_QUOTE_TTL: no retry refunds as of a moment long past, and a refund
whose answer was lost is found at Stripe, never made twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lib.billing.purchases import REFUND_QUOTE_TTL
from tests.support.client import Account, Answer, Client
from tests.support.clock import MovableClock
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import bought, contract_of, deliver, refund

DAY = 86400


def _later(client: Client, clock: MovableClock, account: Account, seconds: float) -> None:
    clock.advance(seconds)
    client.relogin(account)


def _refused_on_day_10(
    client: Client, stripe: FakeStripe, clock: MovableClock, account: Account, contract_id: str
) -> None:
    """Ten days in, a refund request that Stripe's outage answers 503 (its quote is kept)."""
    _later(client, clock, account, 10 * DAY)
    stripe.fail(3, 503)
    assert refund(client, account, contract_id).status == 503


def test_a_retry_after_the_quote_expired_refunds_as_of_now_under_a_new_key(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    _refused_on_day_10(client, stripe, clock, alice, contract["contract_id"])
    _later(client, clock, alice, DAY)  # a day later: the day-10 quote is not honoured

    retried = refund(client, alice, contract["contract_id"])

    assert retried.status == 200, retried
    assert [r["amount"] for r in stripe.refunds] in ([632], [631])  # 999 x 19/30 (day 11), not day 10's 666
    [listed] = [r for r in stripe.requests if (r.method, r.path) == ("GET", "/v1/refunds")]
    assert listed.params["payment_intent"] == intent  # Stripe was asked first what exists for the payment
    [made] = [r for r in stripe.refund_requests() if r.idempotency_key != f"refund-{contract['contract_id']}"]
    assert made.idempotency_key == f"refund-{contract['contract_id']}-2"
    assert made.params["metadata"] == {"contract_id": contract["contract_id"]}
    ex = retried.json["ex_contract"]
    assert (ex["status"], ex["refund_amount"]) == ("refunded", stripe.refunds[0]["amount"] / 100)


def test_a_refund_whose_answer_was_lost_is_adopted_not_made_twice(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    _later(client, clock, alice, 10 * DAY)
    stripe.lose(3)  # Stripe refunds, but the answers never come back (the gateway tries 3 times)

    lost = refund(client, alice, contract["contract_id"])

    assert (lost.status, lost.json["code"]) == (503, "payments_unavailable")
    assert contract_of(client, alice, contract["contract_id"])["status"] == "active"
    assert [r["amount"] for r in stripe.refunds] in ([666], [665])
    _later(client, clock, alice, DAY)

    retried = refund(client, alice, contract["contract_id"])

    assert retried.status == 200, retried
    assert len(stripe.refunds) == 1  # no second refund at Stripe
    assert retried.json["ex_contract"]["refund_amount"] == stripe.refunds[0]["amount"] / 100  # what Stripe returned
    assert retried.json["ex_contract"]["status"] == "refunded"
    assert len(stripe.refund_requests()) == 3  # the lost tries only: the retry found the refund


def test_a_retry_after_the_contract_ended_refunds_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    _refused_on_day_10(client, stripe, clock, alice, contract["contract_id"])
    _later(client, clock, alice, 25 * DAY)  # the contract ended on day 30, used in full

    late = refund(client, alice, contract["contract_id"])

    assert (late.status, late.json["code"]) == (409, "contract_expired")
    assert stripe.refunds == []
    assert contract_of(client, alice, contract["contract_id"])["status"] == "expired"


def test_a_stale_quote_never_cuts_a_later_paid_contract(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    first, _ = bought(client, stripe, alice, plan["plan_id"])
    second, _ = bought(client, stripe, alice, plan["plan_id"])  # days 30-60
    _refused_on_day_10(client, stripe, clock, alice, first["contract_id"])
    _later(client, clock, alice, 10 * DAY)  # day 20

    refunded = refund(client, alice, first["contract_id"])

    assert refunded.status == 200, refunded
    assert [r["amount"] for r in stripe.refunds] in ([333], [332])  # 999 x 10/30: as of day 20
    ended = refunded.json["ex_contract"]["ends_at"]
    moved = contract_of(client, alice, second["contract_id"])
    assert moved["starts_at"] == ended and moved["status"] == "active"
    assert ended > first["starts_at"] and ended[:10] == clock().date().isoformat()  # ended now (day 20), not day 10


def test_a_refund_the_webhook_wrote_first_is_written_once(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    webhook: list[Answer] = []
    stripe.after_refund = lambda _refund: webhook.append(deliver(client, stripe_event_refunded(stripe, intent)))

    answer = refund(client, alice, contract["contract_id"])

    assert [w.json["outcome"] for w in webhook] == ["applied"]  # Stripe's event came before its answer
    # One answer says 200 for a refund, whoever wrote it to the ledger first: here the webhook did.
    assert (answer.status, answer.json["code"]) == (409, "already_refunded"), answer
    ex = contract_of(client, alice, contract["contract_id"])
    assert (ex["status"], ex["refund_amount"]) == ("refunded", stripe.refunds[0]["amount"] / 100)
    assert len(stripe.refunds) == 1


def stripe_event_refunded(stripe: FakeStripe, intent: str) -> dict[str, Any]:
    """charge.refunded as Stripe sends it once the refund exists (built without the fake's lock,
    which the refund being answered holds no more)."""
    return stripe.charge_refunded(intent)


def test_a_concurrent_retry_after_a_stale_quote_still_refunds_once(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], clock: MovableClock
) -> None:
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    _refused_on_day_10(client, stripe, clock, alice, contract["contract_id"])
    _later(client, clock, alice, REFUND_QUOTE_TTL.total_seconds() + 60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: refund(client, alice, contract["contract_id"]), range(16)))

    assert sorted(a.status for a in answers).count(200) >= 1
    assert {(a.status, a.json.get("code")) for a in answers if a.status != 200} <= {(409, "already_refunded")}
    assert len(stripe.refunds) == 1
    assert contract_of(client, alice, contract["contract_id"])["refund_amount"] == stripe.refunds[0]["amount"] / 100
