"""E-mail addresses in one form: what accounts store and compare, and what settings name."""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_EMAIL_INPUT", "normalize_email"]

MAX_EMAIL_INPUT = 512  # bounds the work spent on one input; the address itself is at most 254 characters
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})  # control, format (U+200B, U+00AD...), unassigned


def normalize_email(raw: str) -> str:
    """The one form of an e-mail address that Kiroshi stores, looks up and compares.

    Trimmed; the local part NFC-normalised with its case kept; the domain mapped by IDNA (UTS #46:
    lower-cased, fullwidth letters and dots folded, Punycode shown as Unicode). Raises ValueError,
    with a reason a person can act on, for what is not one plain mailbox: invisible or control
    characters, a trailing dot, quoted local parts, IP literals, special-use domains (`.test`,
    `.local`...) or a domain without a dot. Syntax only: nothing is looked up in the DNS.
    """
    text = raw.strip()
    if len(text) > MAX_EMAIL_INPUT:
        raise ValueError("The email address is too long.")
    if any(unicodedata.category(ch) in _INVISIBLE for ch in text):
        raise ValueError("The email address contains invisible or control characters.")
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415 - ~30 ms: e-mail takers only

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
