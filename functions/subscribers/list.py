"""GET /subscriptions/subscribers — admin: every subscriber; a user: only their own. Paginated."""

from __future__ import annotations

from typing import Any

from lib.billing import subscribers_repository as subscribers
from lib.http.dispatch import Call
from lib.http.pagination import decode_time_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, after = call.query["limit"], decode_time_cursor(call.query["cursor"])
    only = None if call.caller.is_admin else call.caller.user_id
    rows = subscribers.list_subscribers(call.services.db, user_id=only, after=after, limit=limit + 1)
    page, next_cursor = paginate(rows, limit, lambda s: (s.created_at.isoformat(), s.subscriber_id))
    return {"subscribers": page, "next_cursor": next_cursor}
