"""GET /subscriptions/plans — any authenticated caller. Plans on sale (admins also see archived
ones), oldest first, paginated."""

from __future__ import annotations

from typing import Any

from lib.billing import plans_repository as plans
from lib.http.dispatch import Call
from lib.http.pagination import decode_time_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, after = call.query["limit"], decode_time_cursor(call.query["cursor"])
    rows = plans.list_plans(call.services.db, after=after, limit=limit + 1, archived=call.caller.is_admin)
    page, next_cursor = paginate(rows, limit, lambda p: (p.created_at.isoformat(), p.plan_id))
    return {"plans": page, "next_cursor": next_cursor}
