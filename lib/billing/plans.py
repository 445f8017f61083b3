"""Turning validated plan bodies into stored plan fields (money in minor units, checked models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.billing.money import parse_amount
from lib.errors import UnprocessableContent

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["plan_fields"]


def plan_fields(services: Services, body: dict[str, Any], currency: str) -> dict[str, Any]:
    """Stored fields from a PlanIn / PlanPatchIn body priced in `currency`.

    Raises UnprocessableContent for a price with more decimals than the currency has, or a model
    that is not configured (KIROSHI_MODELS).
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
    unknown = sorted(set(body.get("models") or ()) - set(services.settings.models))
    if unknown:
        raise UnprocessableContent(
            "invalid fields: models", errors={"models": [f"not a configured model: {', '.join(unknown)}"]}
        )
    return fields
