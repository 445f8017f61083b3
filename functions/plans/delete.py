"""DELETE /subscriptions/plans/{plan_id} — admin. A plan with live contracts is archived (no new
purchases, existing contracts untouched); one without is deleted."""

from __future__ import annotations

from typing import Any

from lib.billing import plans_repository as plans
from lib.errors import NotFound
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    removed = plans.remove_plan(call.services.db, call.path["plan_id"], call.services.now())
    if removed is None:
        raise NotFound("no such plan", code="plan_not_found")
    outcome, plan = removed
    return {"message": f"Plan {outcome}", "plan": plan}
