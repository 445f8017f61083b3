"""Stripe counts some currencies otherwise than ISO 4217: ISK is a two-decimal amount ending in 00 at
Stripe, the three-decimal KWD goes in multiples of 10, JPY is zero-decimal in both. What Stripe is
sent, and what the buyer sees."""

from __future__ import annotations

import pytest

from tests.support.client import Account, Client
from tests.support.clock import MovableClock
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import bought, deliver

DAY = 86400


@pytest.mark.parametrize(
    ("price", "currency", "unit_amount", "refunded_at_stripe", "refund_amount"),
    [
        (1200, "JPY", "1200", 800, 800),  # zero-decimal in both: 1200 x 20/30
        (500, "ISK", "50000", 33300, 333),  # 500 ISK is 50000 at Stripe; 333 ISK back is 33300
        (1.23, "KWD", "1230", 820, 0.82),  # 1.230 KWD x 20/30 = 0.820
    ],
)
def test_checkout_buy_and_refund_speak_stripes_units(
    client: Client,
    stripe: FakeStripe,
    alice: Account,
    admin: Account,
    clock: MovableClock,
    price: float,
    currency: str,
    unit_amount: str,
    refunded_at_stripe: int,
    refund_amount: float,
) -> None:
    plan = client.create_plan(admin.token, price=price, currency=currency, duration=30, title="Pro")

    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    clock.advance(10 * DAY - 1)  # a second short of day 10: the unused part is a hair over 20/30
    client.relogin(alice)
    refunded = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=alice.token)

    [created] = [r for r in stripe.requests if r.path == "/v1/checkout/sessions"]
    assert created.params["line_items"][0]["price_data"]["unit_amount"] == unit_amount
    assert (contract["price"], contract["currency"]) == (price, currency)
    assert refunded.status == 200, refunded
    assert [(r["amount"], r["currency"]) for r in stripe.refunds] == [(refunded_at_stripe, currency.lower())]
    assert refunded.json["ex_contract"]["refund_amount"] == refund_amount
    assert stripe.payment_intents[intent]["amount"] == int(unit_amount)


def test_a_kwd_refund_is_rounded_down_to_stripes_step(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account, clock: MovableClock
) -> None:
    plan = client.create_plan(admin.token, price=1.23, currency="KWD", duration=30, title="Pro")
    contract, _ = bought(client, stripe, alice, plan["plan_id"])
    clock.advance(11 * DAY)  # 1230 x 19/30 = 779 fils: Stripe refunds KWD in tens
    client.relogin(alice)

    refunded = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=alice.token)

    assert refunded.status == 200, refunded
    assert [r["amount"] for r in stripe.refunds] == [770]
    assert refunded.json["ex_contract"]["refund_amount"] == 0.77  # what the buyer got back, to the fils


def test_an_isk_refund_made_at_stripe_is_read_in_whole_kronur(
    client: Client, stripe: FakeStripe, alice: Account, admin: Account
) -> None:
    plan = client.create_plan(admin.token, price=500, currency="ISK", duration=30, title="Pro")
    contract, intent = bought(client, stripe, alice, plan["plan_id"])
    stripe.refund_outside(intent, 20000)  # 200 ISK, refunded in Stripe's dashboard

    answer = deliver(client, stripe.charge_refunded(intent))

    assert answer.json["outcome"] == "applied"
    now = client.get(f"/subscriptions/contracts/{contract['contract_id']}", token=alice.token).json
    assert (now["status"], now["refund_amount"]) == ("refunded", 200)


def test_a_price_stripe_cannot_charge_is_refused_when_the_plan_is_priced(
    client: Client, stripe: FakeStripe, admin: Account
) -> None:
    body = {"price": 1.234, "currency": "KWD", "duration": 30, "title": "Pro", "description": ""}

    created = client.post("/subscriptions/plans", body, token=admin.token)
    plan = client.create_plan(admin.token, price=1.23, currency="KWD", duration=30, title="Pro")
    repriced = client.patch(f"/subscriptions/plans/{plan['plan_id']}", {"price": 1.001}, token=admin.token)

    assert created.status == 422 and "multiples of 10" in created.json["errors"]["price"][0], created
    assert repriced.status == 422 and "price" in repriced.json["errors"], repriced
    assert stripe.requests == []
