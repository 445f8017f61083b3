"""GET /users — admin. Every user, in registration order, paginated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lib.db import users
from lib.http.dispatch import Call
from lib.http.pagination import decode_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, cursor = call.query["limit"], decode_cursor(call.query["cursor"], 2)
    after = (dt.datetime.fromisoformat(cursor[0]), cursor[1]) if cursor else None
    rows = users.list_users(call.services.db, after=after, limit=limit + 1)
    page, next_cursor = paginate(rows, limit, lambda u: (u.created_at.isoformat(), u.user_id))
    return {"users": page, "next_cursor": next_cursor}
