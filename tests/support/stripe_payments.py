"""Helpers of the stripe-mode tests (tests/unit/functions/payments): a checkout, a paid session, a
signed webhook delivery, the contracts a user sees."""

from __future__ import annotations

from typing import Any

from tests.support.client import Account, Answer, Client
from tests.support.fake_stripe import FakeStripe, signed_webhook

__all__ = [
    "WEBHOOK_SECRET",
    "bought",
    "checkout",
    "contract_of",
    "contracts_of",
    "deliver",
    "paid_session",
    "refund",
]

WEBHOOK_SECRET = "whsec_test_" + "w" * 32


def checkout(client: Client, account: Account, plan_id: str, **urls: str) -> Answer:
    """POST /subscriptions/checkout as a client at http://kiroshi.test would (its Host header)."""
    body = {"plan_id": plan_id, **urls}
    return client.post("/subscriptions/checkout", body, token=account.token, headers={"host": "kiroshi.test"})


def paid_session(client: Client, stripe: FakeStripe, account: Account, plan_id: str) -> tuple[str, str]:
    """A Checkout Session of `account` for the plan, paid: (session id, PaymentIntent id)."""
    answer = checkout(client, account, plan_id)
    assert answer.status == 201, answer
    session_id = answer.json["session_id"]
    return session_id, stripe.pay(session_id)


def deliver(client: Client, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, **signing: Any) -> Answer:
    """Post `event` to the webhook as Stripe would: the JSON body and its Stripe-Signature."""
    body, signature = signed_webhook(event, secret, **signing)
    headers = {"content-type": "application/json; charset=utf-8", "stripe-signature": signature}
    return client.request("POST", "/payments/stripe/webhook", body=body, headers=headers)


def contracts_of(client: Client, account: Account) -> list[dict[str, Any]]:
    answer = client.get("/subscriptions/contracts", token=account.token)
    assert answer.status == 200, answer
    return answer.json["contracts"]  # type: ignore[no-any-return]


def bought(client: Client, stripe: FakeStripe, account: Account, plan_id: str) -> tuple[dict[str, Any], str]:
    """A contract of `account` for the plan, bought with a paid session: (the contract, its PaymentIntent id)."""
    session_id, intent = paid_session(client, stripe, account, plan_id)
    answer = client.buy(account.token, plan_id, session_id)
    assert answer.status == 201, answer
    return answer.json["contract"], intent


def refund(client: Client, account: Account, contract_id: str) -> Answer:
    return client.post("/subscriptions/refund", {"contract_id": contract_id}, token=account.token)


def contract_of(client: Client, account: Account, contract_id: str) -> dict[str, Any]:
    return client.get(f"/subscriptions/contracts/{contract_id}", token=account.token).json  # type: ignore[no-any-return]
