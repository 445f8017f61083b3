"""POST /users/{user_id}/logout — self. Revokes the presented token at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lib.accounts import repository as users
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    claims = call.caller.claims
    expires_at = dt.datetime.fromtimestamp(claims.expires_at, dt.UTC)
    users.revoke_token(call.services.db, claims.jti, claims.user_id, expires_at, call.services.now())
    call.services.signal("kiroshi.revocations", {"jti": claims.jti, "user_id": claims.user_id})
    return {"message": "Logged out"}
