"""Quotas in tokens and in money: a reply reserves its worst case before the model is called,
and gives the reservation back when it ends (its real usage is then in the database).

Reservations are atomic counters in the cache (in-process, or Redis shared by every instance);
usage is durable in the `usage` table (tokens, and the exact cost). A reservation is granted only
if what was used so far, every reservation in flight and this one fit each quota the plan sets:
concurrent turns never overspend. Money is reserved in whole billionths, rounded up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from lib.chats import repository as chats
from lib.chats.costs import NANOS, nanos

if TYPE_CHECKING:
    from lib.billing.entitlements import Entitlements
    from lib.services import Services

__all__ = ["Quotas", "Reservation", "used_up"]

RESERVATION_TTL_SECONDS = 6 * 3600  # bounds what a crashed process could leave reserved


@dataclass(frozen=True)
class Reservation:
    key: str
    tokens: int
    period_start: dt.datetime
    period_end: dt.datetime
    nanos: int = 0  # money held, in billionths of the catalogue's currency (under `key` + ":cost")


def used_up(rights: Entitlements) -> str:
    """What a refused reply is told."""
    kind = "token" if rights.cost_quota is None else "token or money"
    return f"your {kind} quota for this period is used up"


class Quotas:
    def __init__(self, services: Services) -> None:
        self._services = services

    def reserve(
        self, user_id: str, rights: Entitlements, tokens: int, cost: Decimal = Decimal(0)
    ) -> Reservation | None:
        """Hold `tokens`, and `cost` when the plan has a money quota, for a reply; None when they
        do not fit the quotas (nothing is held then)."""
        key = f"quota-reserved:{chats.usage_key(user_id, rights.period_start)}"
        in_flight = self._hold(key, tokens)
        if rights.token_quota is None and rights.cost_quota is None:
            return Reservation(key, tokens, rights.period_start, rights.period_end)
        used, spent = chats.spent(self._services.db, user_id, rights.period_start)
        if rights.token_quota is not None and used + in_flight > rights.token_quota:
            self._services.cache.add(key, -tokens, RESERVATION_TTL_SECONDS)
            return None
        held = 0
        if rights.cost_quota is not None:
            held = nanos(cost)
            money_in_flight = self._hold(f"{key}:cost", held)
            if spent + Decimal(money_in_flight) / NANOS > rights.cost_quota:
                self._services.cache.add(key, -tokens, RESERVATION_TTL_SECONDS)
                self._services.cache.add(f"{key}:cost", -held, RESERVATION_TTL_SECONDS)
                return None
        return Reservation(key, tokens, rights.period_start, rights.period_end, held)

    def _hold(self, key: str, amount: int) -> int:
        """Add `amount` to the counter `key`; what it holds now, this amount included."""
        cache = self._services.cache
        in_flight = cache.add(key, amount, RESERVATION_TTL_SECONDS)
        if in_flight < amount:  # a release after its key expired left it below zero: never spare quota
            in_flight = cache.add(key, amount - in_flight, RESERVATION_TTL_SECONDS)  # errs high if raced: safe
        return in_flight

    def release(self, reservation: Reservation) -> None:
        """Give the reservation back (after the reply's usage was stored)."""
        self._services.cache.add(reservation.key, -reservation.tokens, RESERVATION_TTL_SECONDS)
        if reservation.nanos:
            self._services.cache.add(f"{reservation.key}:cost", -reservation.nanos, RESERVATION_TTL_SECONDS)
