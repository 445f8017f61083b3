"""GET /subscriptions/plans/{plan_id} — any authenticated caller. Archived plans are readable too."""

from __future__ import annotations

from typing import Any

from lib.db import plans
from lib.errors import NotFound
from lib.http.dispatch import Call
from lib.views import plan_view


def handler(call: Call) -> dict[str, Any]:
    plan = plans.get_plan(call.services.db, call.path["plan_id"])
    if plan is None:
        raise NotFound("no such plan", code="plan_not_found")
    return plan_view(plan)
