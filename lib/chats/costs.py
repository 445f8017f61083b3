"""Per-model rules of a reply, pure functions of the catalogue: the limits a model puts on a turn,
the model that served a reply, what it cost, and the most it can cost (for a money quota's
reservation); and the days a usage report covers. No I/O (`count_charge` only counts metrics).

A model's `context_tokens` and `max_output_tokens` lower the server-wide KIROSHI_CONTEXT_TOKENS
and KIROSHI_MAX_REPLY_TOKENS for that model, never raise them: the server's settings stay the
caps an operator sets for cost. With fallbacks, the history must fit every model of the chain.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from lib.chats.usage_repository import Charge
from lib.errors import UnprocessableContent
from lib.llm import Served, Usage, served_by
from lib.llm.catalogue import Catalogue, ModelEntry, cost
from lib.metrics import count_reply

__all__ = [
    "MAX_REPORT_DAYS",
    "NANOS",
    "charge_for",
    "count_charge",
    "limits",
    "nanos",
    "report_days",
    "served_model",
    "worst_cost",
]

MAX_REPORT_DAYS = 366

NANOS = 10**9  # money reservations are held in the cache as whole billionths of the currency


def _chain(catalogue: Catalogue, model: str) -> tuple[ModelEntry, ...]:
    try:
        return catalogue.chain(model)
    except KeyError:
        return ()


def limits(catalogue: Catalogue, model: str, context_tokens: int, max_reply_tokens: int) -> tuple[int, int]:
    """(the history budget, the reply limit) of a turn on `model`: the server-wide settings,
    lowered by the model's own `max_output_tokens` and by what every model of its chain can take
    (its `context_tokens` less its reply limit). At least 1 each."""
    chain = _chain(catalogue, model)
    reply = max_reply_tokens
    if chain and chain[0].max_output_tokens is not None:
        reply = min(reply, chain[0].max_output_tokens)
    budget = context_tokens
    for entry in chain:
        if entry.context_tokens is not None:
            own_reply = reply if entry.max_output_tokens is None else min(reply, entry.max_output_tokens)
            budget = min(budget, entry.context_tokens - own_reply)
    return max(budget, 1), max(reply, 1)


def served_model(catalogue: Catalogue, stream: object, asked: str) -> Served:
    """Which model served `stream`: as the router says, else (an adapter that serves one model as
    asked, or a stream that failed before any model answered) the model asked for."""
    served = served_by(stream)
    if served is not None:
        return served
    entry = catalogue.models.get(asked)
    return Served(asked, entry.provider, entry.provider_model) if entry is not None else Served(asked, "", asked)


def charge_for(catalogue: Catalogue, served: Served, usage: Usage) -> Charge:
    """What the reply cost at the served model's prices (0 for a model the catalogue does not price)."""
    entry = catalogue.models.get(served.model)
    amount = cost(entry, usage.prompt_tokens, usage.completion_tokens) if entry is not None else Decimal(0)
    return Charge(
        served.model,
        served.provider,
        served.provider_model,
        usage.prompt_tokens,
        usage.completion_tokens,
        amount,
        catalogue.currency,
    )


def count_charge(charge: Charge) -> None:
    """Count a stored reply's tokens and cost in the metrics, under the model that served it."""
    count_reply(
        charge.model,
        charge.provider,
        charge.prompt_tokens,
        charge.completion_tokens,
        float(charge.cost),
        charge.currency,
    )


def worst_cost(catalogue: Catalogue, model: str, prompt_tokens: int, reply_tokens: int) -> Decimal:
    """The most a reply can cost: the dearest model of the chain that may serve it, at the most
    tokens it can use (each model bounded by its own output limit)."""
    worst = Decimal(0)
    for entry in _chain(catalogue, model):
        reply = reply_tokens if entry.max_output_tokens is None else min(reply_tokens, entry.max_output_tokens)
        worst = max(worst, cost(entry, prompt_tokens, reply))
    return worst


def nanos(amount: Decimal) -> int:
    """`amount` in whole billionths, rounded up (a reservation errs high, never low)."""
    return math.ceil(amount * NANOS)


def report_days(first: dt.date | None, last: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a usage report covers, both included: `first` (default: the first of `last`'s
    month) to `last` (default: `today`). Raises UnprocessableContent when `from` is after `to` or
    the range spans more than MAX_REPORT_DAYS days."""
    last = last or today
    first = first or last.replace(day=1)
    if first > last:
        raise UnprocessableContent("invalid fields: from", errors={"from": ["must not be after `to`"]})
    if (last - first).days >= MAX_REPORT_DAYS:
        raise UnprocessableContent("invalid fields: from", errors={"from": [f"at most {MAX_REPORT_DAYS} days"]})
    return first, last
