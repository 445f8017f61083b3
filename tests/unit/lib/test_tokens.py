"""JWT attacks: every forged, stale or revoked token is a 401 problem with its code. And the codec
on its own: what a token says, the claims it requires, the exact instant it expires."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import jwt
import pytest

from lib.auth.tokens import LAST_TIMESTAMP, TokenClaims, TokenCodec, to_millis
from lib.config import Settings
from lib.errors import Unauthorized
from tests.support.client import Account, Client
from tests.support.clock import StoppedClock

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


@pytest.mark.parametrize("missing", ["jti", "exp", "sub", "role", "iat", "iss", "aud"])
def test_a_token_missing_a_claim_is_refused(client: Client, alice: Account, missing: str) -> None:
    claims = _claims(alice)
    del claims[missing]
    assert _status(client, jwt.encode(claims, SECRET, algorithm="HS256")) == (401, "invalid_token")


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
    assert _status(client, garbage) == (401, "invalid_token")


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


# The codec on its own, on a stopped clock: a token's exact instants. pyjwt checks `exp` against
# the real time as well, so the stopped clock starts at the real time and tokens live an hour.


@pytest.fixture
def stopped() -> StoppedClock:
    return StoppedClock(float(int(time.time())))


@pytest.fixture
def codec(settings: Settings, stopped: StoppedClock) -> TokenCodec:
    return TokenCodec(settings.with_(jwt_ttl_seconds=3600), stopped)


def _signed(codec: TokenCodec, **changes: object) -> str:
    """A token signed with the codec's key, its issued claims changed (None: left out)."""
    token, _ = codec.issue("user-1", "user")
    payload = jwt.decode(token, options={"verify_signature": False}) | changes
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(("timestamp", "millis"), [(1.2345, 1.234), (1.9999, 1.999), (0.0, 0.0), (7.0005, 7.0)])
def test_to_millis_truncates_to_the_millisecond(timestamp: float, millis: float) -> None:
    assert to_millis(timestamp) == millis


def test_a_token_says_who_when_and_until_when(codec: TokenCodec, stopped: StoppedClock) -> None:
    start = stopped.at
    stopped.at = start + 0.98765

    token, claims = codec.issue("user-1", "admin")

    assert claims == TokenClaims("user-1", "admin", claims.jti, start + 0.987, int(start) + 3600)
    assert len(claims.jti) == 22  # 16 random bytes, base64url
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience="kiroshi", issuer="kiroshi") == {
        "sub": "user-1",
        "role": "admin",
        "jti": claims.jti,
        "iat": start + 0.987,
        "exp": int(start) + 3600,
        "iss": "kiroshi",
        "aud": "kiroshi",
    }
    assert codec.verify(token) == claims
    assert codec.ttl_seconds == 3600
    assert codec.issue("user-1", "admin")[1].jti != claims.jti


def test_a_token_issued_at_a_given_instant_counts_from_it(codec: TokenCodec, stopped: StoppedClock) -> None:
    at = dt.datetime.fromtimestamp(stopped.at - 10.5, dt.UTC)

    _, claims = codec.issue("user-1", "user", issued_at=at)

    assert (claims.issued_at, claims.expires_at) == (stopped.at - 10.5, int(stopped.at - 10.5) + 3600)


@pytest.mark.parametrize(("offset", "valid"), [(-1, True), (-0.001, True), (0, False), (1, False)])
def test_a_token_expires_at_exactly_its_exp(
    codec: TokenCodec, stopped: StoppedClock, offset: float, valid: bool
) -> None:
    token, claims = codec.issue("user-1", "user")
    stopped.at = claims.expires_at + offset

    for check in (lambda: codec.verify(token), lambda: codec.unexpired(claims)):
        if valid:
            assert check() == claims
        else:
            with pytest.raises(Unauthorized) as refused:
                check()
            assert (refused.value.code, refused.value.detail) == ("token_expired", "the token has expired")


@pytest.mark.parametrize("missing", ["sub", "role", "jti", "iat", "exp", "iss", "aud"])
def test_every_claim_is_required(codec: TokenCodec, missing: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        codec.verify(_signed(codec, **{missing: None}))

    assert (refused.value.code, refused.value.detail) == ("invalid_token", "the token is not valid")


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": 1},
        {"role": ["user"]},
        {"jti": 7},
        {"sub": "caf\u00e9"},
        {"role": "us\ter"},
        {"jti": "\x7f"},
        {"iat": "0"},
        {"iat": True},
        {"iat": -0.001},
        {"iat": LAST_TIMESTAMP + 1},
        {"exp": LAST_TIMESTAMP + 1},
    ],
)
def test_claims_of_another_shape_are_invalid(codec: TokenCodec, changes: dict[str, object]) -> None:
    with pytest.raises(Unauthorized) as refused:
        codec.verify(_signed(codec, **changes))

    assert (refused.value.code, refused.value.detail) == ("invalid_token", "the token is not valid")


@pytest.mark.parametrize(
    ("changes", "issued_at", "expires_at"),
    [
        ({"iat": 0}, 0.0, None),
        ({"iat": LAST_TIMESTAMP}, float(LAST_TIMESTAMP), None),
        ({"iat": 5}, 5.0, None),
        ({"exp": LAST_TIMESTAMP}, None, LAST_TIMESTAMP),
        ({"exp": LAST_TIMESTAMP - 0.5}, None, LAST_TIMESTAMP - 1),
    ],
)
def test_claims_at_the_edges_of_time_are_valid(
    codec: TokenCodec, changes: dict[str, object], issued_at: float | None, expires_at: int | None
) -> None:
    claims = codec.verify(_signed(codec, sub="user-2", role="admin", jti="j-1", **changes))

    assert (claims.user_id, claims.role, claims.jti) == ("user-2", "admin", "j-1")
    if issued_at is not None:
        assert claims.issued_at == issued_at
        assert isinstance(claims.issued_at, float)
    if expires_at is not None:
        assert claims.expires_at == expires_at
        assert isinstance(claims.expires_at, int)
