"""JWT attacks: every forged, stale or revoked token is a 401 problem."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.support.client import Account, Client

SECRET = "test-secret-" + "x" * 60


def _claims(account: Account) -> dict[str, object]:
    return jwt.decode(account.token, options={"verify_signature": False})


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _status(client: Client, token: str) -> tuple[int, str]:
    answer = client.get("/auth", token=token)
    return answer.status, answer.json["code"] if answer.status != 200 else ""


def test_a_genuine_token_works(client: Client, alice: Account) -> None:
    assert _status(client, alice.token) == (200, "")
    assert set(_claims(alice)) == {"sub", "role", "jti", "iat", "exp", "iss", "aud"}


def test_alg_none_is_refused(client: Client, alice: Account) -> None:
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(alice))}."
    assert _status(client, forged) == (401, "invalid_token")


def test_a_tampered_payload_is_refused(client: Client, alice: Account, bob: Account) -> None:
    header, _, signature = alice.token.split(".")
    payload = {**_claims(alice), "sub": bob.user_id, "role": "admin"}
    assert _status(client, f"{header}.{_b64(payload)}.{signature}") == (401, "invalid_token")


def test_another_algorithm_with_the_same_secret_is_refused(client: Client, alice: Account) -> None:
    forged = jwt.encode(_claims(alice), SECRET, algorithm="HS512")
    assert _status(client, forged) == (401, "invalid_token")


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "another-api")])
def test_wrong_issuer_or_audience_is_refused(client: Client, alice: Account, claim: str, value: str) -> None:
    forged = jwt.encode({**_claims(alice), claim: value}, SECRET, algorithm="HS256")
    assert _status(client, forged) == (401, "invalid_token")


@pytest.mark.parametrize("missing", ["jti", "exp", "sub", "role"])
def test_a_token_missing_a_claim_is_refused(client: Client, alice: Account, missing: str) -> None:
    claims = _claims(alice)
    del claims[missing]
    assert _status(client, jwt.encode(claims, SECRET, algorithm="HS256"))[0] == 401


def test_an_expired_token_is_refused(client: Client, alice: Account) -> None:
    forged = jwt.encode({**_claims(alice), "exp": int(time.time()) - 1}, SECRET, algorithm="HS256")
    assert _status(client, forged) == (401, "token_expired")


def test_tokens_expire_by_the_servers_clock(client: Client, alice: Account, clock: object) -> None:
    clock.advance(3601)  # type: ignore[attr-defined]
    assert _status(client, alice.token) == (401, "token_expired")


def test_a_token_signed_with_another_secret_is_refused(client: Client, alice: Account) -> None:
    forged = jwt.encode(_claims(alice), "another-secret-" + "y" * 40, algorithm="HS256")
    assert _status(client, forged) == (401, "invalid_token")


def test_a_revoked_token_is_refused(client: Client, alice: Account) -> None:
    client.post(f"/users/{alice.user_id}/logout", token=alice.token)
    assert _status(client, alice.token) == (401, "token_revoked")


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "garbage"])
def test_malformed_authorization_headers_are_refused(client: Client, header: str) -> None:
    answer = client.get("/auth", headers={"Authorization": header} if header else None)

    assert answer.status == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("garbage", ["a.b.c", "x" * 5000, "eyJ.eyJ.sig", "ä.ö.ü"])
def test_garbage_tokens_are_refused(client: Client, garbage: str) -> None:
    assert _status(client, garbage)[0] == 401


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iat", "soon"),
        ("iat", "1700000000"),
        ("iat", None),
        ("iat", []),
        ("iat", {"at": 1}),
        ("iat", True),
        ("iat", float("nan")),
        ("iat", float("inf")),
        ("sub", 42),
        ("sub", None),
        ("role", ["admin"]),
        ("role", None),
        ("jti", 7),
        ("jti", {"id": "x"}),
        ("exp", "tomorrow"),
        ("exp", "99999999999"),
        ("exp", None),
        ("exp", float("nan")),
        ("exp", float("inf")),
        ("exp", 10**400),  # an int no float or datetime holds
        ("exp", 2**63),  # past year 9999: a logout could not store its expiry
        ("iat", 10**400),
        ("iat", -1),
        ("sub", "\ud800"),  # a lone surrogate: not encodable for the database
        ("jti", "caf\u00e9"),
        ("role", "ad\nmin"),
    ],
)
def test_a_validly_signed_token_with_a_claim_of_the_wrong_type_is_refused(
    client: Client, alice: Account, claim: str, value: object
) -> None:
    forged = jwt.encode({**_claims(alice), claim: value}, SECRET, algorithm="HS256")  # NaN and inf as JSON NaN

    answer = client.get("/auth", token=forged)

    assert answer.status == 401, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["code"] == "invalid_token"
