"""GET /subscriptions/subscribers/{subscriber_id} — the subscriber's user or admin."""

from __future__ import annotations

from typing import Any

from lib.billing.purchases import owned_subscriber
from lib.billing.schemas import subscriber_view
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return subscriber_view(owned_subscriber(call))
