"""GET /subscriptions/subscribers/{subscriber_id} — the subscriber's user or admin."""

from __future__ import annotations

from typing import Any

from lib.http.dispatch import Call
from lib.ownership import owned_subscriber
from lib.views import subscriber_view


def handler(call: Call) -> dict[str, Any]:
    return subscriber_view(owned_subscriber(call))
