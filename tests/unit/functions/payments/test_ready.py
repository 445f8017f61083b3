"""GET /ready with KIROSHI_PAYMENTS=stripe (Stripe is not asked: a probe would cost an API call)."""

from __future__ import annotations

from tests.support.client import Client
from tests.support.fake_stripe import FakeStripe


def test_ready_says_payments_are_verified_at_stripe(client: Client, stripe: FakeStripe) -> None:
    answer = client.get("/ready")

    assert answer.status == 200
    assert answer.json["payments"] == {"mode": "stripe", "verified": True}
    assert stripe.requests == []
