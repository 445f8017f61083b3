"""KIROSHI_PAYMENTS=trust (the default of `make run`): there is no Stripe account, so checkout and
Stripe's webhook say so, and buy keeps taking any transaction id (tests/unit/functions/payments has
stripe mode)."""

from __future__ import annotations

import logging

import pytest

from lib.config import Settings
from lib.services import warn_unverified_payments
from tests.support.client import Account, Client


def test_checkout_is_409_payments_not_configured(client: Client, alice: Account, admin: Account) -> None:
    plan = client.create_plan(admin.token)

    answer = client.post("/subscriptions/checkout", {"plan_id": plan["plan_id"]}, token=alice.token)

    assert (answer.status, answer.json["code"]) == (409, "payments_not_configured")
    assert "KIROSHI_PAYMENTS=trust" in answer.json["detail"]


def test_stripes_webhook_is_409_payments_not_configured(client: Client) -> None:
    event = {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}

    answer = client.post("/payments/stripe/webhook", event, headers={"stripe-signature": "t=1,v1=00"})

    assert (answer.status, answer.json["code"]) == (409, "payments_not_configured")


def test_buy_takes_any_transaction_id_and_keeps_no_payment_intent(
    client: Client, alice: Account, admin: Account
) -> None:
    plan = client.create_plan(admin.token)

    contract = client.buy(alice.token, plan["plan_id"], "pay_anything").json["contract"]

    assert contract["payment_intent_id"] is None and contract["disputed_at"] is None


@pytest.mark.parametrize(("mode", "warned"), [("trust", True), ("stripe", False)])
def test_every_start_in_trust_mode_warns(caplog: pytest.LogCaptureFixture, mode: str, warned: bool) -> None:
    with caplog.at_level(logging.WARNING, logger="kiroshi"):
        warn_unverified_payments(Settings(payments=mode))

    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert bool(messages) is warned
    assert all("payments are not verified (KIROSHI_PAYMENTS=trust)" in m for m in messages)
