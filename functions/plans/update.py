"""PATCH /subscriptions/plans/{plan_id} — admin. Any subset of the plan's fields; a new currency
needs a new price. Existing contracts keep the price and period they were bought with."""

from __future__ import annotations

from typing import Any

from lib.billing import plans_repository as plans
from lib.billing.plans import plan_fields
from lib.errors import NotFound, UnprocessableContent
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    db, body = call.services.db, call.body
    plan = plans.get_plan(db, call.path["plan_id"])
    if plan is None:
        raise NotFound("no such plan", code="plan_not_found")
    currency = body.get("currency", plan.currency)
    if currency != plan.currency and "price" not in body:
        raise UnprocessableContent("invalid fields: price", errors={"price": ["required when the currency changes"]})
    if currency != plan.currency and plan.cost_quota_minor is not None and "cost_quota" not in body:
        raise UnprocessableContent(
            "invalid fields: cost_quota", errors={"cost_quota": ["required when the currency changes"]}
        )
    updated = plans.update_plan(db, plan.plan_id, plan_fields(call.services, body, currency), call.services.now())
    if updated is None:
        raise NotFound("no such plan", code="plan_not_found")
    return {"message": "Plan updated", "plan": updated}
