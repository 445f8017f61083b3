"""JWTs (pyjwt, HS256 pinned): issue and verify. Revocation is checked by lib.accounts.principal."""

from __future__ import annotations

import datetime as dt
import functools
import math
import secrets
from dataclasses import dataclass
from typing import Any

from lib.clock import Clock
from lib.config import Settings
from lib.errors import Unauthorized

__all__ = ["ALGORITHM", "TokenClaims", "TokenCodec", "to_millis"]

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "jti", "iat", "exp", "iss", "aud"]


def to_millis(timestamp: float) -> float:
    """Seconds truncated to milliseconds: `iat` keeps them so that a password change revokes
    exactly the tokens issued before it (or in the same millisecond, to be safe)."""
    return math.floor(timestamp * 1000) / 1000


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    jti: str
    issued_at: float  # seconds since the epoch, millisecond precision
    expires_at: int


class TokenCodec:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._key = settings.jwt_secret
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._ttl = settings.jwt_ttl_seconds
        self._clock = clock

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def issue(self, user_id: str, role: str, issued_at: dt.datetime | None = None) -> tuple[str, TokenClaims]:
        """A signed token and its claims; `iat` is `issued_at` (default: now by this codec's clock)."""
        now = to_millis((issued_at or self._clock()).timestamp())
        claims = TokenClaims(user_id, role, secrets.token_urlsafe(16), now, int(now) + self._ttl)
        payload = {
            "sub": user_id,
            "role": role,
            "jti": claims.jti,
            "iat": now,
            "exp": claims.expires_at,
            "iss": self._issuer,
            "aud": self._audience,
        }
        import jwt  # noqa: PLC0415 - pyjwt pulls in cryptography when installed: only token users pay

        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def verify(self, token: str) -> TokenClaims:
        """Check signature, algorithm, issuer, audience and expiry. Raises Unauthorized.

        A token's signature is checked once: the verified claims are kept (by the token's exact
        text) in a bounded LRU, and expiry is checked on every call.
        """
        return self.unexpired(self._verified(token))

    def unexpired(self, claims: TokenClaims) -> TokenClaims:
        """The claims, unless they have expired by this codec's clock. Raises Unauthorized."""
        if claims.expires_at <= self._clock.seconds():
            raise Unauthorized("the token has expired", code="token_expired")
        return claims

    @functools.lru_cache(maxsize=16_384)  # noqa: B019 - one codec per process, cache bounded
    def _verified(self, token: str) -> TokenClaims:
        import jwt  # noqa: PLC0415

        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS, "verify_iat": False},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise _invalid() from None
        return _claims(payload)


def _invalid() -> Unauthorized:
    return Unauthorized("the token is not valid", code="invalid_token")


LAST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z: the last instant a datetime holds


def _timestamp(value: Any) -> bool:
    """A number of seconds that a datetime can hold (no bool, NaN, infinity or 10**400)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= LAST_TIMESTAMP


def _word(value: Any) -> bool:
    """A string as Kiroshi issues them in `sub`, `role` and `jti`: printable ASCII."""
    return isinstance(value, str) and value.isascii() and value.isprintable()


def _claims(payload: dict[str, Any]) -> TokenClaims:
    """The claims of a validly signed payload, each of the type Kiroshi issues (a token signed
    with the key but shaped otherwise is invalid, never a 500). Raises Unauthorized."""
    sub, role, jti, iat, exp = (payload[k] for k in ("sub", "role", "jti", "iat", "exp"))
    if not (_word(sub) and _word(role) and _word(jti) and _timestamp(iat) and _timestamp(exp)):
        raise _invalid()
    return TokenClaims(sub, role, jti, float(iat), int(exp))
