"""Money: integer minor units plus an ISO 4217 currency. Pure functions, no I/O.

The API shows decimal amounts (9.99); storage never sees a binary float.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

__all__ = ["MINOR_UNITS", "format_minor", "parse_amount"]

# ISO 4217 minor units of the currencies a plan may be priced in.
_BY_DIGITS = {
    2: "USD EUR GBP CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY ILS ZAR MXN BRL ARS COP PEN "
    "INR CNY HKD SGD TWD THB MYR IDR PHP AED SAR QAR EGP NGN KES UAH",
    0: "JPY KRW VND ISK UGX XOF XAF CLP",
    3: "KWD BHD OMR JOD TND",
}
MINOR_UNITS: dict[str, int] = {code: digits for digits, codes in _BY_DIGITS.items() for code in codes.split()}


def parse_amount(value: int | float | Decimal, currency: str) -> int:
    """The amount in minor units. Raises ValueError for a negative amount or one with more
    decimals than the currency has (9.999 USD), never rounding."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        # repr() of a float is the shortest string that round-trips: 9.99 stays "9.99".
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a non-negative number")
    # Decimal arithmetic rounds to its context's precision (28 digits by default): give it every
    # digit the amount has, so that 9.99000000000000000000000000001 is refused, not rounded.
    exact = Context(prec=len(amount.as_tuple().digits) + MINOR_UNITS[currency] + 1)
    minor = exact.scaleb(amount, MINOR_UNITS[currency])
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} has at most {MINOR_UNITS[currency]} decimals")
    return int(minor)


def format_minor(minor: int, currency: str) -> int | float:
    """The JSON number for an amount in minor units (an int for zero-decimal currencies)."""
    digits = MINOR_UNITS[currency]
    if digits == 0:
        return minor
    # Decimal -> str -> float gives the float whose shortest repr is exactly these digits.
    return float(Decimal(minor).scaleb(-digits))
