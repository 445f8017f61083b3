"""GET /subscriptions/contracts — any authenticated caller: their own contracts; admin: everyone's.
Newest first, paginated."""

from __future__ import annotations

from typing import Any

from lib.billing import contracts_repository as contracts
from lib.http.dispatch import Call
from lib.http.pagination import decode_time_cursor, paginate


def handler(call: Call) -> dict[str, Any]:
    limit, after = call.query["limit"], decode_time_cursor(call.query["cursor"])
    only = None if call.caller.is_admin else call.caller.user_id
    rows = contracts.list_contracts(call.services.db, user_id=only, after=after, limit=limit + 1)
    page, next_cursor = paginate(rows, limit, lambda c: (c.created_at.isoformat(), c.contract_id))
    return {"contracts": page, "next_cursor": next_cursor}
