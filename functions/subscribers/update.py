"""PATCH /subscriptions/subscribers/{subscriber_id} — the subscriber's user or admin.
`{"auto_renew", "billing_email"}`, any subset."""

from __future__ import annotations

from typing import Any

from lib.billing import subscribers_repository as subscribers
from lib.billing.purchases import owned_subscriber
from lib.errors import NotFound
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    subscriber = owned_subscriber(call.services, call.caller, call.path["subscriber_id"])
    updated = subscribers.update_subscriber(call.services.db, subscriber.subscriber_id, call.body, call.services.now())
    if updated is None:
        raise NotFound("no such subscriber", code="subscriber_not_found")
    return {"message": "Subscriber updated", "subscriber": updated}
