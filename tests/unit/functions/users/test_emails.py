"""One mailbox, one account: every e-mail taker (register, login, change-email, the bootstrap address,
`local_runner promote`) reads an address in one form and refuses what is not one plain mailbox."""

from __future__ import annotations

import unicodedata

import pytest

from lib.accounts.rules import normalize_email
from tests.support.client import Account, Client


def fullwidth(text: str) -> str:
    """`text` in fullwidth forms (U+FF01-U+FF5E), as an East Asian keyboard may type it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


NFC = unicodedata.normalize("NFC", "josé@example.com")
NFD = unicodedata.normalize("NFD", "josé@example.com")

# (how one person spells it the first time, how the same mailbox is spelled again, the stored form)
SAME_MAILBOX = [
    ("ada@example.com", "ADA@Example.COM", "ada@example.com"),
    ("ada@example.com", "  ada@example.com\t", "ada@example.com"),
    ("ada@example.com", "ada@" + fullwidth("example") + "." + fullwidth("com"), "ada@example.com"),
    ("ada@example.com", "ada@" + fullwidth("example.com"), "ada@example.com"),  # with a fullwidth dot
    ("ada@example.com", "ada@example\u3002com", "ada@example.com"),  # ideographic full stop
    (NFC, NFD, NFC),
    (NFD, NFC, NFC),
    ("ada@münchen.de", "ada@xn--mnchen-3ya.de", "ada@münchen.de"),  # Punycode is the same domain
    ("ada@xn--mnchen-3ya.de", "ada@MÜNCHEN.de", "ada@münchen.de"),
]

# Spellings that are not one plain mailbox: refused, never a second account.
NOT_ONE_MAILBOX = [
    "ada@example.com.",  # a trailing dot on the domain
    "ada@example.com\u3002",  # the same, ideographic
    "a\u200bda@example.com",  # ZERO WIDTH SPACE
    "a\u00adda@example.com",  # SOFT HYPHEN
    "a\u2060da@example.com",  # WORD JOINER
    "a\ufeffda@example.com",  # ZERO WIDTH NO-BREAK SPACE (BOM)
    "\ufeffada@example.com",  # ... leading, which strip() keeps
    "a\x7fda@example.com",  # DEL
    "a\x00da@example.com",
    "ada\u200d@example.com",  # ZERO WIDTH JOINER
    "ada@exa\u200bmple.com",  # invisible in the domain
    "ada@exam\u00adple.com",
    "a\u202eda@example.com",  # RIGHT-TO-LEFT OVERRIDE
    '"ada"@example.com',  # a quoted local part
    "ada@[192.0.2.1]",  # an IP literal
    "ada@example",  # no dot
    "ada@localhost",
    "ada@kiroshi.local",  # special-use domains
    "ada@kiroshi.test",
]


@pytest.mark.parametrize(("first", "again", "stored"), SAME_MAILBOX)
def test_the_same_mailbox_spelled_otherwise_is_taken(client: Client, first: str, again: str, stored: str) -> None:
    created = client.register(first)
    assert created.status == 201, created
    assert created.json["created_user"]["email"] == stored

    answer = client.register(again)

    assert answer.status == 409, answer
    assert answer.json["code"] == "email_taken"
    assert client.login(again).status == 200  # and it logs into the one account
    assert client.login(again).json["user_id"] == created.json["created_user"]["user_id"]


@pytest.mark.parametrize("email", NOT_ONE_MAILBOX)
def test_an_address_that_is_not_one_plain_mailbox_is_refused(client: Client, email: str) -> None:
    answer = client.register(email)

    assert answer.status == 422, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["code"] == "validation_failed"
    assert list(answer.json["errors"]) == ["email"]
    assert all(isinstance(reason, str) and reason for reason in answer.json["errors"]["email"])


@pytest.mark.parametrize("email", ["a\u200bda@example.com", "ada@example.com.", "a\x7fda@example.com"])
def test_login_and_change_email_refuse_them_too(client: Client, alice: Account, email: str) -> None:
    login = client.login(email)
    change = client.post(
        f"/users/{alice.user_id}/change-email",
        {"new_email": email, "current_password": alice.password},
        token=alice.token,
    )

    assert (login.status, change.status) == (422, 422)
    assert "email" in login.json["errors"] and "new_email" in change.json["errors"]
    assert client.get("/auth", token=alice.token).json["email"] == "alice@example.com"


def test_change_email_to_another_spelling_of_a_taken_mailbox_is_409(client: Client, alice: Account) -> None:
    client.register("bob@example.com")

    answer = client.post(
        f"/users/{alice.user_id}/change-email",
        {"new_email": "BOB@" + fullwidth("example") + ".com", "current_password": alice.password},
        token=alice.token,
    )

    assert answer.status == 409
    assert answer.json["code"] == "email_taken"


def test_existing_addresses_keep_their_stored_form() -> None:
    # What registration stored before (trimmed, domain lower-cased) is what it stores now: old
    # accounts keep logging in, and their guard records keep their keys.
    for email in ["Grace.Hopper@navy.mil", "ada.lovelace+chat@example.co.uk", "O'Brien@example.org", "x_y-z@a-b.io"]:
        assert normalize_email(email) == email
    assert normalize_email(" Grace.Hopper@Navy.MIL ") == "Grace.Hopper@navy.mil"
