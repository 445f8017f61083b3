"""POST /subscriptions/plans — admin. `{"price","duration","title","description"}` (+ currency, models,
token_quota)."""

from __future__ import annotations

from typing import Any

from lib.billing import plans_repository as plans
from lib.billing.plans import plan_fields
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    body = {"description": "", **call.body}
    fields = plan_fields(call.services, body, body.get("currency", "USD"))
    plan = plans.create_plan(call.services.db, fields, call.services.now())
    return {"message": "Plan created", "plan": plan}
