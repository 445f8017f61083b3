"""Stripe mode: every test here runs Kiroshi with KIROSHI_PAYMENTS=stripe against the fake Stripe
(tests/support/fake_stripe.py), its gateway built from the settings as a deployment's is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lib.config import Secret
from lib.services import Services
from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_payments import WEBHOOK_SECRET


@pytest.fixture
def services(make_services: Callable[..., Services], stripe: FakeStripe) -> Services:
    return make_services(
        payments="stripe",
        stripe_api_key=Secret(stripe.api_key),
        stripe_webhook_secret=Secret(WEBHOOK_SECRET),
        stripe_api_base=stripe.base_url,
    )


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, Any]:
    return client.create_plan(admin.token, price=9.99, duration=30, title="Pro")
