"""Token quotas: a reply reserves its worst case before the model is called, and gives the
reservation back when it ends (its real usage is then in the database).

Reservations are atomic counters in the cache (in-process, or Redis shared by every instance);
usage is durable in the `usage` table. A reservation is granted only if the tokens used so far,
every reservation in flight and this one fit the quota: concurrent turns never overspend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.chats import repository as chats

if TYPE_CHECKING:
    from lib.billing.entitlements import Entitlements
    from lib.services import Services

__all__ = ["Quotas", "Reservation"]

RESERVATION_TTL_SECONDS = 6 * 3600  # bounds what a crashed process could leave reserved


@dataclass(frozen=True)
class Reservation:
    key: str
    tokens: int
    period_start: dt.datetime
    period_end: dt.datetime


class Quotas:
    def __init__(self, services: Services) -> None:
        self._services = services

    def reserve(self, user_id: str, rights: Entitlements, tokens: int) -> Reservation | None:
        """Hold `tokens` for a reply; None when they do not fit the quota (nothing is held then)."""
        cache = self._services.cache
        key = f"quota-reserved:{chats.usage_key(user_id, rights.period_start)}"
        in_flight = cache.add(key, tokens, RESERVATION_TTL_SECONDS)
        if in_flight < tokens:  # a release after its key expired left it below zero: never spare quota
            in_flight = cache.add(key, tokens - in_flight, RESERVATION_TTL_SECONDS)  # errs high if raced: safe
        if rights.token_quota is not None:
            used = chats.tokens_used(self._services.db, user_id, rights.period_start)
            if used + in_flight > rights.token_quota:
                cache.add(key, -tokens, RESERVATION_TTL_SECONDS)
                return None
        return Reservation(key, tokens, rights.period_start, rights.period_end)

    def release(self, reservation: Reservation) -> None:
        """Give the reservation back (after the reply's usage was stored)."""
        self._services.cache.add(reservation.key, -reservation.tokens, RESERVATION_TTL_SECONDS)
