"""The rules of periods and refunds. Pure functions with no I/O, tested as tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Period", "RefundPlan", "next_period", "plan_refund", "refund_amount"]

MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class RefundPlan:
    amount_minor: int
    ends_at: dt.datetime  # the refunded contract's new end
    shift: dt.timedelta  # how far every later contract moves up


def next_period(now: dt.datetime, paid_until: dt.datetime | None, days: int) -> Period:
    """A new contract starts now, or when the current paid period ends: periods stack, never overlap."""
    start = paid_until if paid_until is not None and paid_until > now else now
    return Period(start, start + dt.timedelta(days=days))


def _micros(delta: dt.timedelta) -> int:
    return delta // MICROSECOND


def refund_amount(price_minor: int, period: Period, now: dt.datetime) -> int:
    """Price x the unused fraction of the period, rounded down to the minor unit.

    A period that has not started is refunded in full; an ended one not at all.
    """
    total = _micros(period.ends_at - period.starts_at)
    if total <= 0:
        return 0
    unused = _micros(period.ends_at - max(now, period.starts_at))
    unused = min(max(unused, 0), total)
    return price_minor * unused // total


def plan_refund(price_minor: int, period: Period, now: dt.datetime) -> RefundPlan:
    """What refunding a contract at `now` does: the amount, its new end (now, or its start if it
    has not started) and the shift that moves later contracts up to keep periods contiguous."""
    new_end = min(period.ends_at, max(now, period.starts_at))
    return RefundPlan(refund_amount(price_minor, period, now), new_end, period.ends_at - new_end)
