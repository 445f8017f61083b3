from __future__ import annotations

from decimal import Decimal

import pytest

from lib.billing.money import format_minor, parse_amount


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (9.99, "USD", 999),
        (0.29, "USD", 29),
        (1234567.89, "USD", 123456789),
        (10, "USD", 1000),
        (0, "EUR", 0),
        (500, "JPY", 500),
        (1.234, "KWD", 1234),
        (Decimal("19.90"), "GBP", 1990),
    ],
)
def test_amounts_become_exact_minor_units(amount: float, currency: str, minor: int) -> None:
    assert parse_amount(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(9.999, "USD"), (0.30000000000000004, "USD"), (1.5, "JPY"), (1.2345, "KWD"), (-1, "USD"), (True, "USD")],
)
def test_amounts_are_never_rounded(amount: float, currency: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(amount, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "shown"), [(999, "USD", 9.99), (1000, "USD", 10.0), (500, "JPY", 500), (1234, "KWD", 1.234)]
)
def test_minor_units_show_as_the_same_decimal(minor: int, currency: str, shown: float) -> None:
    assert format_minor(minor, currency) == shown
    assert repr(format_minor(minor, currency)) == repr(shown)


def test_every_cent_round_trips_exactly() -> None:
    for minor in range(0, 100_000, 7):
        assert parse_amount(format_minor(minor, "USD"), "USD") == minor


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        (True, "USD", "must be a number"),
        (False, "USD", "must be a number"),
        ("nine", "USD", "must be a number"),  # a caller passing text: never a decimal.InvalidOperation
        (-1, "USD", "must be a non-negative number"),
        (Decimal("-0.01"), "EUR", "must be a non-negative number"),
        (float("nan"), "USD", "must be a non-negative number"),
        (float("inf"), "USD", "must be a non-negative number"),
        (9.999, "USD", "USD has at most 2 decimals"),
        (1.5, "JPY", "JPY has at most 0 decimals"),
        (1.2345, "KWD", "KWD has at most 3 decimals"),
    ],
)
def test_a_refused_amount_says_why(amount: object, currency: str, reason: str) -> None:
    """The reason is what a client reads in the 422 on the price (lib.billing.plans)."""
    with pytest.raises(ValueError) as refused:
        parse_amount(amount, currency)  # type: ignore[arg-type]

    assert str(refused.value) == reason
