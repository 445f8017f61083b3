"""Amounts as Stripe's API counts them. Pure functions, no I/O, no stripe package.

Kiroshi keeps money in ISO 4217 minor units (lib.billing.money). Stripe's API mostly agrees, but:
  - ISK and UGX are zero-decimal in ISO 4217, yet Stripe's API takes them as two-decimal amounts
    whose last two digits are 00 (5 ISK is `amount=500`): Kiroshi's amount x 100.
  - BHD, JOD, KWD, OMR and TND are three-decimal in both, but Stripe charges and refunds them only
    in multiples of 10 (1.230 KWD is `amount=1230`; 1.234 KWD cannot be charged).
  - Stripe's zero-decimal currencies (BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF)
    are zero-decimal in ISO 4217 too; HUF and TWD are two-decimal for charges and refunds (their
    special rules concern payouts). These need no conversion.
A price Stripe cannot charge is refused when a plan is priced in stripe mode (and at checkout, for a
plan priced before); a refund is rounded down to Stripe's step.
"""

from __future__ import annotations

__all__ = ["chargeable_problem", "from_stripe", "stripe_floor", "stripe_step", "to_stripe"]

# Kiroshi's minor unit -> Stripe's: Stripe's amount is Kiroshi's times this.
_SCALE = {"ISK": 100, "UGX": 100}
# The smallest step Stripe charges, in Kiroshi's minor units.
_STEP = {"BHD": 10, "JOD": 10, "KWD": 10, "OMR": 10, "TND": 10}


def stripe_step(currency: str) -> int:
    """The smallest amount step Stripe charges or refunds in `currency`, in Kiroshi's minor units."""
    return _STEP.get(currency.upper(), 1)


def stripe_floor(minor: int, currency: str) -> int:
    """`minor` rounded down to a multiple of Stripe's step (what a refund may ask)."""
    step = stripe_step(currency)
    return minor // step * step


def chargeable_problem(minor: int, currency: str) -> str | None:
    """Why Stripe cannot charge `minor` (Kiroshi's minor units) of `currency`, or None if it can."""
    step = stripe_step(currency)
    if minor % step:
        return f"Stripe charges {currency.upper()} only in multiples of {step} of its minor unit (the last digit 0)"
    return None


def to_stripe(minor: int, currency: str) -> int:
    """Kiroshi's amount as Stripe's API takes it. Raises ValueError for an amount Stripe cannot
    charge (see chargeable_problem)."""
    problem = chargeable_problem(minor, currency)
    if problem is not None:
        raise ValueError(problem)
    return minor * _SCALE.get(currency.upper(), 1)


def from_stripe(amount: int, currency: str) -> int:
    """An amount Stripe's API answered, in Kiroshi's minor units (rounded down: Stripe never holds
    a fraction of an ISK or UGX)."""
    return amount // _SCALE.get(currency.upper(), 1)
