"""What a user may use now: models, a token quota and a money quota per period, from the running
contract's plan or, without one, from the free tier (KIROSHI_FREE_MODELS, KIROSHI_FREE_TOKEN_QUOTA
per month, no money quota)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lib.billing.money import MINOR_UNITS
from lib.billing.purchases import current_contract

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["Entitlements", "entitlements_for"]


@dataclass(frozen=True)
class Entitlements:
    models: tuple[str, ...]
    token_quota: int | None
    period_start: dt.datetime
    period_end: dt.datetime
    plan_id: str | None  # None: the free tier
    cost_quota: Decimal | None = None  # what replies may cost per period, exactly; None: no money quota

    def allows(self, model: str) -> bool:
        return model in self.models


def _month(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def entitlements_for(services: Services, user_id: str) -> Entitlements:
    settings = services.settings
    configured = settings.models
    contract = current_contract(services, user_id)
    if contract is not None:
        models = tuple(m for m in (contract.models or configured) if m in configured)
        money = contract.cost_quota_minor
        cost_quota = None if money is None else Decimal(money).scaleb(-MINOR_UNITS[contract.currency])
        return Entitlements(
            models, contract.token_quota, contract.starts_at, contract.ends_at, contract.plan_id, cost_quota
        )
    start, end = _month(services.now())
    free = tuple(m for m in (settings.free_models or configured) if m in configured)
    return Entitlements(free, settings.free_token_quota, start, end, None)
