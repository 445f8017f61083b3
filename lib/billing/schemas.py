"""Schemas of plans, subscribers, purchases, refunds and contracts; answers read the records
(decimal prices from minor units and a contract's status as of now are computed fields)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from lib.billing.contracts_repository import Contract
from lib.billing.money import MINOR_UNITS, format_minor
from lib.billing.plans_repository import Plan
from lib.billing.subscribers_repository import Subscriber
from lib.http.schemas import Computed, Email, StrictBoolean, StrictSchema, Text, page_out, record_out, reply_out

__all__ = [
    "BuyIn",
    "BuyOut",
    "CheckoutIn",
    "CheckoutOut",
    "ContractOut",
    "ContractsPageOut",
    "MoneySchema",
    "PatchSchema",
    "PlanIn",
    "PlanOut",
    "PlanPatchIn",
    "PlanReplyOut",
    "PlansPageOut",
    "RefundIn",
    "RefundOut",
    "StripeEventIn",
    "SubscriberIn",
    "SubscriberOut",
    "SubscriberPatchIn",
    "SubscriberReplyOut",
    "SubscribersPageOut",
    "WebhookOut",
]

MAX_PRICE = Decimal(10_000_000)
_TRANSACTION_ID = re.compile(r"^[\x21-\x7e]{1,200}$")


class Amount(fields.Field):  # type: ignore[type-arg]
    """A JSON number (never a string or a boolean), kept exact as a Decimal.

    Its schema must be a `MoneySchema`: the dispatch then reads the body with
    `lib.http.json.loads_exact`, and the number arrives as the Decimal of its JSON text, so that
    99999.989999999999999999 is refused for its decimals instead of rounded to 99999.99. (A float,
    from a caller that loads the schema itself, is read by its shortest repr.)
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValidationError("must be a JSON number")
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
            raise ValidationError(f"must be between 0 and {MAX_PRICE}")
        return amount


class Currency(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if code not in MINOR_UNITS:
            raise ValidationError("not a supported ISO 4217 currency code")
        return code


class ContractRef(fields.Field):  # type: ignore[type-arg]
    """A contract id, or a whole contract object (its `contract_id` is used)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, dict):
            value = value.get("contract_id")
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ValidationError("must be a contract id or a contract object with its contract_id")
        return value


class MinorAmount(Computed, fields.Raw):
    """An amount held in minor units (the field's `attribute`), shown as the JSON number of its
    record's currency (9.99 USD, 1000 JPY); null stays null."""

    def compute(self, record: Any, now: dt.datetime | None) -> int | float | None:
        minor = getattr(record, self.attribute or "")
        return format_minor(minor, record.currency) if minor is not None else None


class ContractStatus(Computed, fields.String):
    """A contract's status as of the answer's instant."""

    uses_now = True

    def compute(self, record: Contract, now: dt.datetime | None) -> str:
        if now is None:
            raise TypeError("a contract's status needs the answer's instant")
        return record.status(now)


class PatchSchema(StrictSchema):
    """A PATCH body: any subset of its fields, but at least one."""

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one field to change", "_body")


class MoneySchema(StrictSchema):
    """A body with money in it: read with the exact decimal text of its numbers (the dispatch
    checks `exact_numbers`), never through a binary float."""

    exact_numbers = True


def _plan_fields(required: bool) -> dict[str, fields.Field]:  # type: ignore[type-arg]
    return {
        "price": Amount(
            required=required,
            metadata={
                "type": "number",
                "minimum": 0,
                "maximum": 10_000_000,
                "description": "at most the currency's decimals (2 for USD)",
            },
        ),
        "currency": Currency(
            metadata={"pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 (a supported code); defaults to USD"}
        ),
        "duration": fields.Integer(
            required=required, strict=True, validate=validate.Range(1, 3660), metadata={"description": "days"}
        ),
        "title": Text(required=required, max_length=120),
        "description": Text(min_length=0, max_length=2000),
        "models": fields.List(
            fields.String(validate=validate.Length(1, 128)),
            allow_none=True,
            validate=validate.Length(1, 64),
            metadata={"description": "models this plan allows (null: every configured model)"},
        ),
        "token_quota": fields.Integer(
            strict=True,
            allow_none=True,
            validate=validate.Range(0, 10**12),
            metadata={"description": "prompt + completion tokens per period (null: unlimited)"},
        ),
        "cost_quota": Amount(
            allow_none=True,
            metadata={
                "type": "number",
                "minimum": 0,
                "maximum": 10_000_000,
                "description": "what the plan's replies may cost per period, in the plan's currency (which must be"
                " the model catalogue's), at most its decimals (null: no money quota)",
            },
        ),
    }


PlanIn = MoneySchema.from_dict(_plan_fields(required=True), name="PlanIn")
_PlanPatchBase = MoneySchema.from_dict(_plan_fields(required=False), name="PlanPatchBase")


class PlanPatchIn(_PlanPatchBase, PatchSchema):  # type: ignore[valid-type,misc]
    """Any subset of PlanIn's fields, but at least one."""


PlanOut = record_out(
    "PlanOut",
    Plan,
    "plan_id price currency duration title description models token_quota cost_quota status created_at updated_at",
    price=MinorAmount(attribute="price_minor", required=True, metadata={"type": "number"}),
    cost_quota=MinorAmount(attribute="cost_quota_minor", allow_none=True, required=True, metadata={"type": "number"}),
    duration=fields.Integer(attribute="duration_days", required=True, metadata={"description": "days"}),
    status=fields.String(required=True, metadata={"enum": ["active", "archived"]}),
)


PlanReplyOut = reply_out("PlanReplyOut", "plan", PlanOut)


PlansPageOut = page_out("PlansPageOut", "plans", PlanOut)


class SubscriberIn(StrictSchema):
    user_id = fields.String(required=True, validate=validate.Length(1, 64))
    auto_renew = StrictBoolean(load_default=False)
    billing_email = Email(allow_none=True)


class SubscriberPatchIn(PatchSchema):
    auto_renew = StrictBoolean()
    billing_email = Email(allow_none=True)


SubscriberOut = record_out(
    "SubscriberOut",
    Subscriber,
    "subscriber_id user_id auto_renew billing_email paid_until created_at updated_at",
    paid_until=fields.DateTime(allow_none=True, required=True, metadata={"description": "end of the last paid period"}),
)


SubscriberReplyOut = reply_out("SubscriberReplyOut", "subscriber", SubscriberOut)


SubscribersPageOut = page_out("SubscribersPageOut", "subscribers", SubscriberOut)


class BuyIn(StrictSchema):
    plan_id = fields.String(required=True, validate=validate.Length(1, 64))
    transaction_id = fields.String(
        required=True,
        validate=validate.Regexp(_TRANSACTION_ID, error="1-200 printable characters without spaces"),
        metadata={"description": "the payment provider's id: the idempotency key of the purchase"},
    )


class RefundIn(StrictSchema):
    """`contract` (the seed's field) or `contract_id` (the field `buy` answers): exactly one."""

    contract = ContractRef(
        metadata={
            "description": "a contract id, or the whole contract object (or send `contract_id` instead)",
            "oneOf": [
                {"type": "string", "minLength": 1, "maxLength": 64},
                {
                    "type": "object",
                    "required": ["contract_id"],
                    "properties": {"contract_id": {"type": "string", "minLength": 1, "maxLength": 64}},
                },
            ],
        },
    )
    contract_id = fields.String(
        validate=validate.Length(1, 64), metadata={"description": "the contract id, as `buy` answers it"}
    )

    @validates_schema
    def _one_contract(self, data: dict[str, Any], **_: Any) -> None:
        if ("contract" in data) == ("contract_id" in data):
            raise ValidationError("send `contract` or `contract_id` (one of them)", "_body")

    @post_load
    def _contract(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"contract": data.get("contract", data.get("contract_id"))}


ContractOut = record_out(
    "ContractOut",
    Contract,
    "contract_id user_id plan_id plan_title transaction_id price currency duration starts_at ends_at status"
    " created_at refunded_at refund_amount payment_intent_id disputed_at",
    price=MinorAmount(attribute="price_minor", required=True, metadata={"type": "number"}),
    duration=fields.Integer(attribute="duration_days", required=True, metadata={"description": "days"}),
    status=ContractStatus(required=True, metadata={"enum": ["scheduled", "active", "expired", "refunded"]}),
    refund_amount=MinorAmount(attribute="refund_minor", allow_none=True, required=True, metadata={"type": "number"}),
)


BuyOut = reply_out("BuyOut", "contract", ContractOut)


RefundOut = reply_out("RefundOut", "ex_contract", ContractOut)


ContractsPageOut = page_out("ContractsPageOut", "contracts", ContractOut)


def _return_url(description: str) -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": description},
    )


class CheckoutIn(StrictSchema):
    plan_id = fields.String(required=True, validate=validate.Length(1, 64))
    success_url = _return_url(
        "where Stripe sends the buyer after paying; `{CHECKOUT_SESSION_ID}` in it becomes the session id"
        " (default: the caller's Origin, else http://<Host>, with ?checkout=success&session_id=...)"
    )
    cancel_url = _return_url("where Stripe sends a buyer who gives up (default: ...?checkout=cancelled)")


class CheckoutOut(StrictSchema):
    session_id = fields.String(
        required=True, metadata={"description": "the Checkout Session id: buy's `transaction_id` once it is paid"}
    )
    url = fields.String(required=True, metadata={"description": "Stripe's payment page: send the buyer there"})


class StripeEventIn(Schema):
    """A Stripe event as Stripe posts it; only a body whose `Stripe-Signature` verifies is acted on."""

    class Meta:
        unknown = EXCLUDE  # Stripe adds fields to its events; the signed raw body is what is read

    id = fields.String(required=True, metadata={"description": "evt_...: events are handled once per id"})
    type = fields.String(required=True, metadata={"example": "checkout.session.completed"})
    data = fields.Dict(required=True, metadata={"description": "`object`: the session, charge or dispute"})


class WebhookOut(StrictSchema):
    event_id = fields.String(required=True)
    type = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={"enum": ["applied", "already_applied", "duplicate", "ignored", "rejected"]},
    )
