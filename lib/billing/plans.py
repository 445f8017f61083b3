"""Turning validated plan bodies into stored plan fields (money in minor units, checked models).

A plan's `cost_quota` (what its replies may cost per period) is money in the plan's currency,
which must then be the model catalogue's (replies are priced in it: KIROSHI_MODELS_FILE)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.billing.money import parse_amount
from lib.billing.stripe_amounts import chargeable_problem
from lib.errors import UnprocessableContent

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["plan_fields"]


def plan_fields(services: Services, body: dict[str, Any], currency: str) -> dict[str, Any]:
    """Stored fields from a PlanIn / PlanPatchIn body priced in `currency`.

    Raises UnprocessableContent for a price with more decimals than the currency has (or, with
    KIROSHI_PAYMENTS=stripe, one Stripe cannot charge: lib.billing.stripe_amounts), or a model that
    is not configured (KIROSHI_MODELS).
    """
    fields: dict[str, Any] = {"currency": currency}
    renames = {
        "duration": "duration_days",
        "title": "title",
        "description": "description",
        "token_quota": "token_quota",
        "models": "models",
    }
    fields |= {renames[k]: v for k, v in body.items() if k in renames}
    if "price" in body:
        try:
            fields["price_minor"] = parse_amount(body["price"], currency)
        except ValueError as exc:
            raise UnprocessableContent("invalid fields: price", errors={"price": [str(exc)]}) from None
        problem = chargeable_problem(fields["price_minor"], currency)
        if services.settings.payments == "stripe" and problem is not None:
            raise UnprocessableContent("invalid fields: price", errors={"price": [problem]})
    if "cost_quota" in body:
        fields["cost_quota_minor"] = _cost_quota(services, body["cost_quota"], currency)
    unknown = sorted(set(body.get("models") or ()) - set(services.settings.models))
    if unknown:
        raise UnprocessableContent(
            "invalid fields: models", errors={"models": [f"not a configured model: {', '.join(unknown)}"]}
        )
    return fields


def _cost_quota(services: Services, amount: Any, currency: str) -> int | None:
    """The money quota in minor units (None: none). Raises UnprocessableContent for more decimals
    than the currency has, or a currency that is not the one replies are priced in."""
    if amount is None:
        return None
    priced_in = services.settings.model_catalogue.currency
    problem = f"replies are priced in {priced_in} (the model catalogue's currency): price the plan in it"
    try:
        if currency != priced_in:
            raise ValueError(problem)
        return parse_amount(amount, currency)
    except ValueError as exc:
        raise UnprocessableContent("invalid fields: cost_quota", errors={"cost_quota": [str(exc)]}) from None
