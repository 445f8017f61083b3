"""How plans, subscribers and contracts look in answers (decimal prices, computed status)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lib.db.contracts import Contract
from lib.db.plans import Plan
from lib.db.subscribers import Subscriber
from lib.money import format_minor

__all__ = ["contract_view", "plan_view", "subscriber_view"]


def plan_view(plan: Plan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "price": format_minor(plan.price_minor, plan.currency),
        "currency": plan.currency,
        "duration": plan.duration_days,
        "title": plan.title,
        "description": plan.description,
        "models": list(plan.models) if plan.models is not None else None,
        "token_quota": plan.token_quota,
        "status": plan.status,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def subscriber_view(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "subscriber_id": subscriber.subscriber_id,
        "user_id": subscriber.user_id,
        "auto_renew": subscriber.auto_renew,
        "billing_email": subscriber.billing_email,
        "paid_until": subscriber.paid_until,
        "created_at": subscriber.created_at,
        "updated_at": subscriber.updated_at,
    }


def contract_view(contract: Contract, now: dt.datetime) -> dict[str, Any]:
    refund = contract.refund_minor
    return {
        "contract_id": contract.contract_id,
        "user_id": contract.user_id,
        "plan_id": contract.plan_id,
        "plan_title": contract.plan_title,
        "transaction_id": contract.transaction_id,
        "price": format_minor(contract.price_minor, contract.currency),
        "currency": contract.currency,
        "duration": contract.duration_days,
        "starts_at": contract.starts_at,
        "ends_at": contract.ends_at,
        "status": contract.status(now),
        "created_at": contract.created_at,
        "refunded_at": contract.refunded_at,
        "refund_amount": format_minor(refund, contract.currency) if refund is not None else None,
    }
