"""The `reply_usage` table: one row per model reply that counted tokens (a chat turn's reply or a
`/v1` completion), with the model that served it, its tokens and its exact cost; and the answers
of `GET /users/{user_id}/usage` and `GET /usage` read from it, by model and UTC day.

Rows are written by the transactions that store the turn or the completion's usage
(lib.chats.repository.turn, add_usage: `CHARGE`), so a reply is in the usage whole or not at all.
Costs are SurrealDB decimals (exact: 28 significant digits, so any cost with at most 12 decimals
up to 10^16), sent as their decimal text and cast in the query, never through a binary float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lib.db.connection import Database
from lib.db.records import LinkKey, from_rows, record

__all__ = ["CHARGE", "Charge", "ModelDay", "UserTotal", "charge_params", "format_cost", "usage_by_day", "user_totals"]

# Creates the reply's row when `$charge` is not NONE; needs `$user`, `$now`, `$day`, `$source`, `$message`.
CHARGE = (
    "IF $charge != NONE { CREATE reply_usage SET user = $user, at = $now, day = $day, source = $source,"
    " message = $message, model = $charge.model, provider = $charge.provider,"
    " provider_model = $charge.provider_model, prompt_tokens = $charge.prompt_tokens,"
    " completion_tokens = $charge.completion_tokens, cost = <decimal> $charge.cost, currency = $charge.currency }"
)


@dataclass(frozen=True, slots=True)
class Charge:
    """What one reply used and cost, and which model served it (its public name, the provider and
    the provider's name for it). `cost` is exact, in `currency` (the catalogue's)."""

    model: str
    provider: str
    provider_model: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal
    currency: str

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ModelDay:
    """Tokens and cost of one model on one UTC day (`cost`: exact decimal text)."""

    day: str
    model: str
    currency: str
    prompt_tokens: int
    completion_tokens: int
    cost: str
    replies: int


@dataclass(frozen=True)
class UserTotal:
    """One user's tokens and cost over a range (`cost`: exact decimal text)."""

    user_id: LinkKey
    currency: str
    prompt_tokens: int
    completion_tokens: int
    cost: str
    replies: int


def format_cost(amount: Decimal) -> str:
    """The exact decimal text of an amount, without trailing zeros or an exponent ("0.0000195")."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def charge_params(charge: Charge | None, now: dt.datetime, source: str, message: Any = None) -> dict[str, Any]:
    """The parameters of `CHARGE` besides `$user`, and `$cost`: the charge's cost (0 without one),
    which the period's usage adds."""
    fields = None
    if charge is not None:
        fields = {
            "model": charge.model,
            "provider": charge.provider,
            "provider_model": charge.provider_model,
            "prompt_tokens": charge.prompt_tokens,
            "completion_tokens": charge.completion_tokens,
            "cost": format_cost(charge.cost),
            "currency": charge.currency,
        }
    day = now.astimezone(dt.UTC).date().isoformat()
    cost = fields["cost"] if fields is not None else "0"
    return {"charge": fields, "cost": cost, "now": now, "day": day, "source": source, "message": message}


_SUMS = (
    "math::sum(prompt_tokens) AS prompt_tokens, math::sum(completion_tokens) AS completion_tokens,"
    " math::sum(cost) AS cost, count() AS replies"
)


def _costs_as_text(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{**row, "cost": format_cost(Decimal(row["cost"]))} for row in rows or ()]


def usage_by_day(db: Database, user_id: str | None, first: dt.date, last: dt.date) -> list[ModelDay]:
    """Tokens and cost by UTC day and model from `first` to `last` (both included), of one user or
    (None) of every user; ordered by day, then model."""
    where = "day >= $first AND day <= $last" + (" AND user = $user" if user_id is not None else "")
    rows = db.one(
        f"SELECT day, model, currency, {_SUMS} FROM reply_usage WHERE {where}"  # noqa: S608 - fixed text
        " GROUP BY day, model, currency ORDER BY day, model, currency",
        {"first": first.isoformat(), "last": last.isoformat(), "user": record("user", user_id or "-")},
    )
    return from_rows(ModelDay, _costs_as_text(rows))


def user_totals(db: Database, first: dt.date, last: dt.date) -> list[UserTotal]:
    """Each user's tokens and cost from `first` to `last` (both included), most costly first."""
    rows = db.one(
        f"SELECT user, currency, {_SUMS} FROM reply_usage WHERE day >= $first AND day <= $last"  # noqa: S608
        " GROUP BY user, currency",
        {"first": first.isoformat(), "last": last.isoformat()},
    )
    totals = from_rows(UserTotal, _costs_as_text(rows))
    return sorted(totals, key=lambda t: (-Decimal(t.cost), t.user_id))
