"""GET /users — admin. Every user, in registration order, paginated."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.http.dispatch import Call
from lib.http.pagination import decode_time_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, after = call.query["limit"], decode_time_cursor(call.query["cursor"])
    rows = users.list_users(call.services.db, after=after, limit=limit + 1)
    page, next_cursor = paginate(rows, limit, lambda u: (u.created_at.isoformat(), u.user_id))
    return {"users": page, "next_cursor": next_cursor}
