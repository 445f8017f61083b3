"""POST /subscriptions/plans — admin. `{"price","duration","title","description"}` (+ currency, models,
token_quota)."""

from __future__ import annotations

from typing import Any

from lib.catalog import plan_fields
from lib.db import plans
from lib.http.dispatch import Call
from lib.views import plan_view


def handler(call: Call) -> dict[str, Any]:
    body = {"description": "", **call.body}
    fields = plan_fields(call.services, body, body.get("currency", "USD"))
    plan = plans.create_plan(call.services.db, fields, call.services.now())
    return {"message": "Plan created", "plan": plan_view(plan)}
