"""GET /usage — admin. Every user's replies: tokens and exact cost by UTC day and model, and each
user's total, `?from=&to=` (days, both included; default this month)."""

from __future__ import annotations

from typing import Any

from lib.chats.costs import report_days
from lib.chats.usage_repository import usage_by_day, user_totals
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    first, last = report_days(call.query["first"], call.query["last"], call.services.now().date())
    db = call.services.db
    return {
        "from": first,
        "to": last,
        "usage": usage_by_day(db, None, first, last),
        "users": user_totals(db, first, last),
    }
