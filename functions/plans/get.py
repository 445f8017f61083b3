"""GET /subscriptions/plans/{plan_id} — any authenticated caller. Archived plans are readable too."""

from __future__ import annotations

from lib.billing import plans_repository as plans
from lib.errors import NotFound
from lib.http.dispatch import Call


def handler(call: Call) -> plans.Plan:
    plan = plans.get_plan(call.services.db, call.path["plan_id"])
    if plan is None:
        raise NotFound("no such plan", code="plan_not_found")
    return plan
