"""The `plan` table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from lib.db.connection import Database, Event, Thrown
from lib.db.paging import Cursor, page_rows
from lib.db.records import RecordKey, from_row, from_rows, new_id, record

__all__ = ["Plan", "create_plan", "get_plan", "list_plans", "remove_plan", "update_plan"]

EDITABLE = (
    *("title", "description", "price_minor", "currency", "duration_days", "models", "token_quota"),
    "cost_quota_minor",
)


@dataclass(frozen=True)
class Plan:
    plan_id: RecordKey
    title: str
    description: str
    price_minor: int
    currency: str
    duration_days: int
    models: tuple[str, ...] | None  # None: every configured model
    token_quota: int | None  # tokens per period; None: unlimited
    status: str  # active | archived
    created_at: dt.datetime
    updated_at: dt.datetime
    cost_quota_minor: int | None = None  # what replies may cost per period (minor units); None: unlimited


def _content(fields: dict[str, Any]) -> dict[str, Any]:
    content = {k: fields[k] for k in EDITABLE if k in fields}
    if "models" in content and content["models"] is not None:
        content["models"] = list(content["models"])
    return content


def create_plan(db: Database, fields: dict[str, Any], now: dt.datetime) -> Plan:
    plan_id = new_id()
    content = {**_content(fields), "status": "active", "created_at": now, "updated_at": now}
    rows = db.write(
        "CREATE ONLY $plan CONTENT $content;",
        {"plan": record("plan", plan_id), "content": content},
        events=[Event("plan.created", {"plan_id": plan_id})],
    )
    created = from_row(Plan, rows[0])
    if created is None:
        raise RuntimeError("CREATE returned no plan")
    return created


def get_plan(db: Database, plan_id: str) -> Plan | None:
    return from_row(Plan, db.one("SELECT * FROM ONLY $plan", {"plan": record("plan", plan_id)}))


def list_plans(db: Database, *, after: Cursor | None, limit: int, archived: bool) -> list[Plan]:
    """Plans in creation order after the cursor; archived ones only when asked."""
    rows = page_rows(db, "plan", after=after, limit=limit, where=() if archived else ("status = 'active'",))
    return from_rows(Plan, rows)


def update_plan(db: Database, plan_id: str, fields: dict[str, Any], now: dt.datetime) -> Plan | None:
    """Apply a subset of the editable fields; None when there is no such plan."""
    changes = {**_content(fields), "updated_at": now}
    try:
        rows = db.write(
            "IF $plan.id = NONE { THROW 'kiroshi:no_plan' }; UPDATE ONLY $plan MERGE $changes RETURN AFTER;",
            {"plan": record("plan", plan_id), "changes": changes},
            events=[Event("plan.updated", {"plan_id": plan_id})],
        )
    except Thrown:
        return None
    return from_row(Plan, rows[1])


def remove_plan(db: Database, plan_id: str, now: dt.datetime) -> tuple[str, Plan] | None:
    """Archive the plan if it has live contracts, delete it otherwise. Returns ("archived" or
    "deleted", the plan as it was left), or None when there is no such plan."""
    plan = get_plan(db, plan_id)
    if plan is None:
        return None
    params = {"plan": record("plan", plan_id), "plan_id": plan_id, "now": now}
    try:
        db.write(
            "IF count(SELECT id FROM contract WHERE plan_id = $plan_id AND refunded_at IS NONE AND ends_at > $now) > 0"
            " { THROW 'kiroshi:plan_in_use' }; DELETE $plan;",
            params,
            events=[Event("plan.deleted", {"plan_id": plan_id})],
        )
    except Thrown:  # contracts name it: keep it, off sale
        db.write(
            "UPDATE $plan SET status = 'archived', updated_at = $now;",
            params,
            events=[Event("plan.archived", {"plan_id": plan_id})],
        )
        return "archived", replace(plan, status="archived", updated_at=now)
    return "deleted", plan
