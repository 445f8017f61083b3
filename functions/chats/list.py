"""GET /chats/{user_id} — self or admin. The user's chats, newest first, paginated."""

from __future__ import annotations

from typing import Any

from lib.chats import repository as chats
from lib.http.dispatch import Call
from lib.http.pagination import decode_time_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, after = call.query["limit"], decode_time_cursor(call.query["cursor"])
    rows = chats.list_chats(call.services.db, call.path["user_id"], after=after, limit=limit + 1)
    page, next_cursor = paginate(rows, limit, lambda c: (c.created_at.isoformat(), c.chat_id))
    return {"chats": page, "next_cursor": next_cursor}
