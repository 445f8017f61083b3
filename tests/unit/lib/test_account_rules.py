"""Account rules (lib.accounts.rules) as tables: what an e-mail address becomes, why one is
refused (the reason a client reads in the 422), and which address asks to be the first admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lib.accounts.rules import MAX_EMAIL_INPUT, is_bootstrap_admin, normalize_email
from lib.services import Services

INVISIBLE = "The email address contains invisible or control characters."
TOO_LONG = "The email address is too long."


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Alice@Example.COM \t", "Alice@example.com"),
        ("e\u0301@example.com", "\u00e9@example.com"),  # NFC
        ("a@xn--bcher-kva.example", "a@bücher.example"),
        ("a@" + "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "a@example.com"),  # fullwidth
        (" " * 600 + "a@example.com", "a@example.com"),  # trimmed before it is measured
    ],
)
def test_an_address_has_one_stored_form(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a\x00b@example.com", INVISIBLE),  # Cc: control
        ("a\u200bb@example.com", INVISIBLE),  # Cf: format
        ("a\ue000b@example.com", INVISIBLE),  # Co: private use
        ("a\ud800b@example.com", INVISIBLE),  # Cs: a lone surrogate
        ("a\u0378b@example.com", INVISIBLE),  # Cn: unassigned
        ("a\u2028b@example.com", INVISIBLE),  # Zl: line separator
        ("a\u2029b@example.com", INVISIBLE),  # Zp: paragraph separator
        ("x" * (MAX_EMAIL_INPUT + 1), TOO_LONG),
        ("x" * (MAX_EMAIL_INPUT - 12) + "@example.com", "The email address is too long (258 characters too many)."),
        ("a@localhost", "The part after the @-sign is not valid. It should have a period."),
        ('"a b"@example.com', "Quoting the part before the @-sign is not allowed here."),
        ("a@[127.0.0.1]", "A bracketed IP address after the @-sign is not allowed here."),
        ("a@example.com.", "An email address cannot end with a period."),
        ("plainaddress", "An email address must have an @-sign."),
    ],
)
def test_a_refused_address_says_why(raw: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalize_email(raw)

    assert str(refused.value) == reason
    assert MAX_EMAIL_INPUT == 512


@pytest.mark.parametrize(
    ("wanted", "email", "first_admin"),
    [
        ("root@example.com", "root@example.com", True),
        ("Root@Example.com", "rOOT@example.com", True),  # case-insensitive as a whole
        ("root@example.com", "other@example.com", False),
        ("", "root@example.com", False),
        ("", "", False),  # no bootstrap address: nobody, not even an empty one
    ],
)
def test_the_bootstrap_address_asks_for_the_first_admin(
    make_services: Callable[..., Services], wanted: str, email: str, first_admin: bool
) -> None:
    services = make_services(bootstrap_admin_email=wanted)

    assert is_bootstrap_admin(services, email) is first_admin
