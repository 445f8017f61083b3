"""Prices are read from the JSON text, never through a binary float: what cannot be stored
exactly is refused (422 on the price), never rounded. Bodies here are raw JSON text."""

from __future__ import annotations

import pytest

from tests.support.client import Account, Client

PLAN = b'"duration": 30, "title": "Pro", "description": "d"'


def _create(client: Client, admin: Account, price: bytes, currency: bytes = b'"USD"') -> object:
    body = b'{"price": ' + price + b', "currency": ' + currency + b", " + PLAN + b"}"
    return client.request(
        "POST", "/subscriptions/plans", body=body, token=admin.token, headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "price",
    [
        b"99999.989999999999999999",  # 23 significant digits: as a float, 99999.99
        b"9.9900000000000000001",
        b"0.0000000000000000001",
        b"9.990000000000000000000000000000000000000000001",
        b"1e400",  # too large for a float: refused for its size, not as malformed JSON
        b"12345678.12345679",
    ],
)
def test_a_price_that_a_float_would_round_is_refused_on_the_price(client: Client, admin: Account, price: bytes) -> None:
    answer = _create(client, admin, price)

    assert answer.status == 422, answer  # type: ignore[attr-defined]
    assert answer.json["errors"]["price"]  # type: ignore[attr-defined]
    assert client.services.db.one("SELECT * FROM plan") == []


@pytest.mark.parametrize(
    ("price", "currency", "stored"),
    [
        (b"99999.99", b'"USD"', 9_999_999),
        (b"99999.9900000000000000", b'"USD"', 9_999_999),  # trailing zeros change nothing
        (b"9.99e0", b'"USD"', 999),
        (b"1E3", b'"JPY"', 1000),
        (b"1.234", b'"KWD"', 1234),
        (b"10000000", b'"USD"', 1_000_000_000),
    ],
)
def test_exact_prices_are_stored_exactly(
    client: Client, admin: Account, price: bytes, currency: bytes, stored: int
) -> None:
    answer = _create(client, admin, price, currency)

    assert answer.status == 201, answer  # type: ignore[attr-defined]
    assert client.services.db.one("SELECT VALUE price_minor FROM plan") == [stored]


def test_a_patch_is_read_exactly_too(client: Client, admin: Account) -> None:
    plan = client.create_plan(admin.token, price=9.99)
    path = f"/subscriptions/plans/{plan['plan_id']}"
    headers = {"content-type": "application/json"}

    refused = client.request(
        "PATCH", path, body=b'{"price": 19.900000000000000001}', token=admin.token, headers=headers
    )
    kept = client.get(path, token=admin.token).json

    assert refused.status == 422
    assert "price" in refused.json["errors"]
    assert kept["price"] == 9.99


@pytest.mark.parametrize(
    "body",
    [
        b'{"price": NaN, ' + PLAN + b"}",
        b'{"price": 1e400, "title": "\\ud800", "duration": 30}',
        b'{"price": 1e400',
        b'{"price": 1e+999999999999999999999999999999, ' + PLAN + b"}",  # past what a Decimal holds
    ],
)
def test_what_is_not_json_stays_a_400(client: Client, admin: Account, body: bytes) -> None:
    answer = client.request(
        "POST", "/subscriptions/plans", body=body, token=admin.token, headers={"content-type": "application/json"}
    )

    assert answer.status == 400, answer


def test_other_numbers_of_a_plan_keep_their_rules(client: Client, admin: Account) -> None:
    answer = client.request(
        "POST",
        "/subscriptions/plans",
        body=b'{"price": 5, "duration": 30.0, "title": "t", "token_quota": 1.5}',
        token=admin.token,
        headers={"content-type": "application/json"},
    )

    assert answer.status == 422
    assert set(answer.json["errors"]) == {"duration", "token_quota"}


@pytest.mark.parametrize(
    ("price", "currency", "errors"),
    [
        (b"9.999", b'"USD"', {"price": ["USD has at most 2 decimals"]}),
        (b"1.5", b'"JPY"', {"price": ["JPY has at most 0 decimals"]}),
        (b"0.0001", b'"KWD"', {"price": ["KWD has at most 3 decimals"]}),
        (b"-1", b'"USD"', {"price": ["must be between 0 and 10000000"]}),
        (b"10000000.01", b'"USD"', {"price": ["must be between 0 and 10000000"]}),
        (b'"9.99"', b'"USD"', {"price": ["must be a JSON number"]}),
        (b"true", b'"USD"', {"price": ["must be a JSON number"]}),
        (b"1", b'"XXX"', {"currency": ["not a supported ISO 4217 currency code"]}),
    ],
)
def test_a_refused_price_says_why_on_its_field(
    client: Client, admin: Account, price: bytes, currency: bytes, errors: dict[str, list[str]]
) -> None:
    answer = _create(client, admin, price, currency)

    assert (answer.status, answer.json["code"]) == (422, "validation_failed")  # type: ignore[attr-defined]
    assert answer.json["errors"] == errors  # type: ignore[attr-defined]
    assert client.services.db.one("SELECT * FROM plan") == []
