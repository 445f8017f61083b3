"""The pure rules of periods and refunds, as tables."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.billing.periods import Period, next_period, plan_refund, refund_amount

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MICRO = dt.timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("paid_until", "days", "starts", "ends"),
    [
        (None, 30, T0, T0 + 30 * DAY),  # first purchase starts now
        (T0 - DAY, 30, T0, T0 + 30 * DAY),  # lapsed: starts now
        (T0, 30, T0, T0 + 30 * DAY),  # ends exactly now: starts now
        (T0 + 10 * DAY, 30, T0 + 10 * DAY, T0 + 40 * DAY),  # stacks after the paid period
        (T0 + 400 * DAY, 1, T0 + 400 * DAY, T0 + 401 * DAY),
    ],
)
def test_next_period(paid_until: dt.datetime | None, days: int, starts: dt.datetime, ends: dt.datetime) -> None:
    assert next_period(T0, paid_until, days) == Period(starts, ends)


P30 = Period(T0, T0 + 30 * DAY)


@pytest.mark.parametrize(
    ("price", "period", "now", "amount"),
    [
        (3000, P30, T0, 3000),  # unused entirely
        (3000, P30, T0 - DAY, 3000),  # not started: in full
        (3000, P30, T0 + 15 * DAY, 1500),  # half used
        (3000, P30, T0 + 10 * DAY, 2000),
        (999, P30, T0 + 10 * DAY, 666),  # 999 * 2/3 = 666
        (1000, P30, T0 + 10 * DAY, 666),  # 666.66... rounds down
        (1, P30, T0 + dt.timedelta(seconds=1), 0),  # 0.99999... rounds down
        (3000, P30, T0 + 30 * DAY, 0),  # ended
        (3000, P30, T0 + 31 * DAY, 0),
        (0, P30, T0, 0),  # free plan
        (3000, Period(T0, T0), T0, 0),  # an empty period refunds nothing
        (3000, Period(T0, T0 + MICRO), T0, 3000),  # the shortest period there is
        (3000, Period(T0, T0 + 2 * MICRO), T0 + MICRO, 1500),
        (3000, Period(T0, T0 + 2 * MICRO), T0 + 2 * MICRO, 0),
        (3000, Period(T0, T0 + 2 * MICRO), T0 + 5 * MICRO, 0),  # long ended: nothing, never a negative share
        (1_000_000_000, P30, T0 + MICRO, 999_999_999),  # 10 million dollars, exact to the cent
        (1_000_000_000, P30, T0 + 30 * DAY - MICRO, 0),
        (999_999_999_999, Period(T0, T0 + 3660 * DAY), T0 + 1830 * DAY, 499_999_999_999),
    ],
)
def test_refund_amount(price: int, period: Period, now: dt.datetime, amount: int) -> None:
    refunded = refund_amount(price, period, now)

    assert refunded == amount
    assert type(refunded) is int  # minor units: never a binary float


def test_refunding_an_active_contract_ends_it_now_and_shifts_later_ones_by_the_rest() -> None:
    refund = plan_refund(3000, P30, T0 + 10 * DAY)

    assert (refund.amount_minor, refund.ends_at, refund.shift) == (2000, T0 + 10 * DAY, 20 * DAY)


def test_refunding_a_scheduled_contract_empties_it_at_its_start() -> None:
    scheduled = Period(T0 + 30 * DAY, T0 + 60 * DAY)
    refund = plan_refund(3000, scheduled, T0 + 5 * DAY)

    assert (refund.amount_minor, refund.ends_at, refund.shift) == (3000, T0 + 30 * DAY, 30 * DAY)
