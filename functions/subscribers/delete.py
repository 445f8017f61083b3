"""DELETE /subscriptions/subscribers/{subscriber_id} — the subscriber's user or admin. Refused (409)
while the subscriber has an active or scheduled contract."""

from __future__ import annotations

from typing import Any

from lib.billing import subscribers_repository as subscribers
from lib.billing.purchases import owned_subscriber
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    subscriber = owned_subscriber(call.services, call.caller, call.path["subscriber_id"])
    subscribers.delete_subscriber(call.services.db, subscriber, call.services.now())
    return {"message": "Subscriber deleted", "subscriber": subscriber}
