"""GET /subscriptions/subscribers/{subscriber_id} — the subscriber's user or admin."""

from __future__ import annotations

from lib.billing.purchases import owned_subscriber
from lib.billing.subscribers_repository import Subscriber
from lib.http.dispatch import Call


def handler(call: Call) -> Subscriber:
    return owned_subscriber(call.services, call.caller, call.path["subscriber_id"])
