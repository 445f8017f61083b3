"""GET /users/{user_id}/usage — self or admin. Tokens and exact cost of the user's replies by UTC
day and the model that served them, `?from=&to=` (days, both included; default this month)."""

from __future__ import annotations

from typing import Any

from lib.accounts.rules import target_user
from lib.chats.costs import report_days
from lib.chats.usage_repository import usage_by_day
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user = target_user(call.services, call.caller, call.path["user_id"])
    first, last = report_days(call.query["first"], call.query["last"], call.services.now().date())
    rows = usage_by_day(call.services.db, user.user_id, first, last)
    return {"user_id": user.user_id, "from": first, "to": last, "usage": rows}
